"""The ledger's error family.

Every error raised by `ledger` derives from `LedgerError`; third-party exceptions
(`ValueError`, `cryptography.exceptions.InvalidSignature`, `binascii.Error`, ...) are
translated where they enter, so callers never catch them.

    LedgerError
    ├── FormatError          input is malformed: cannot be parsed at all
    │   └── CanonicalError   bytes parse as JSON but are not the canonical form required
    ├── VerificationError    input parses but does not verify (signature, proof, root, policy)
    └── BundleError          an audit bundle cannot be read (missing or unreadable part)
"""

from __future__ import annotations

__all__ = ["BundleError", "CanonicalError", "FormatError", "LedgerError", "VerificationError"]


class LedgerError(Exception):
    """Base class of every error raised by the `ledger` package."""


class FormatError(LedgerError):
    """Input is malformed: it does not follow the format it claims to be."""


class CanonicalError(FormatError):
    """JSON bytes are valid but not in the canonical (RFC 8785) form that is required."""


class VerificationError(LedgerError):
    """Input is well formed but a signature, proof, hash or policy check fails."""


class BundleError(LedgerError):
    """An audit bundle (or part of it) cannot be read."""

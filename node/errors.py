"""The node's error family.

    NodeError           base of every error raised by `node`
    └── UsageError      the operator asked for something impossible (bad file, bad option)

Errors from `ledger` (`LedgerError`) pass through unchanged; the CLI turns both into one
line on stderr and a non-zero exit status.
"""

from __future__ import annotations

__all__ = ["NodeError", "UsageError"]


class NodeError(Exception):
    """Base class of every error raised by the `node` package."""


class UsageError(NodeError):
    """An operator input (file, option, argument) cannot be used."""

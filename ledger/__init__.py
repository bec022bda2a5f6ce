"""`ledger`: the pure core of rdh: formats, proofs, signatures and the offline audit.

Modules, one concept each (none does I/O, reads a clock or draws randomness):

- `canonical`: RFC 8785 canonical JSON, strict parsing
- `keys`: Ed25519 keys, party ids, key files (PEM bytes)
- `statement`, `entry`: the signed statement and the log entry (DESIGN §4.1-4.2)
- `merkle`, `compact`, `tiles`: RFC 6962 tree, proofs, compact ranges, C2SP tlog-tiles
- `note`, `checkpoint`, `cosignature`, `policy`: C2SP signed-note, tlog-checkpoint,
  tlog-cosignature, tlog-policy
- `receipt`: C2SP tlog-proof@v1 carrying the entry
- `evidence`: equivocation evidence
- `bundle`, `memlog`: the audit bundle layout and an in-memory log writer
- `audit`: verify a whole bundle (`audit.audit(...) -> AuditReport`)

Errors: see `ledger.errors`; callers only ever see `LedgerError` subclasses.
"""

from ledger.errors import BundleError, CanonicalError, FormatError, LedgerError, VerificationError

__all__ = ["BundleError", "CanonicalError", "FormatError", "LedgerError", "VerificationError"]

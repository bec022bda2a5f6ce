"""The node's own log as a port: what the services need from it, and its shared parts.

`OwnLog` is the `typing.Protocol` the services (API, CLI, scheduler) write and read through;
`node.store.LogStore` is the database implementation, `node.memory_store.MemoryLogStore`
the in-memory one for tests. Both build entries and check statements with the functions
here, so they accept and refuse exactly the same batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ledger.entry import Entry, verify_statements
from ledger.errors import LedgerError, VerificationError
from ledger.statement import SignedStatement
from ledger.types import JSON, EntryId, Hash, LogId
from node.errors import NonceReused, RuleRejected, UsageError

__all__ = [
    "LOG_KINDS",
    "AppendResult",
    "Check",
    "EntryDraft",
    "Genesis",
    "OwnLog",
    "StoredEntry",
    "build_entries",
    "nonce_reused",
    "statement_nonces",
]

#: The kinds of community a log can be (DESIGN §5, `log.genesis`).
LOG_KINDS = ("micro-enterprise", "ecosystem-community", "platform", "partner")

#: A rule check over the entries about to be appended; raises `RuleRejected` to refuse.
Check = Callable[[Sequence[Entry]], None]


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """An entry before the log gives it a seq; `time` defaults to the append's `now`."""

    type: str
    body: dict[str, JSON]
    refs: tuple[EntryId, ...] = ()
    signed: tuple[SignedStatement, ...] = ()
    time: str | None = None
    #: the body came from `ledger.canonical.parse` (a request): its values are not walked again
    parsed: bool = False


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The entries just made durable and the signed checkpoint that covers them."""

    entries: tuple[Entry, ...]
    checkpoint: bytes

    @property
    def size(self) -> int:
        """The tree size of the new checkpoint."""
        return self.entries[-1].seq + 1


@dataclass(frozen=True, slots=True)
class Genesis:
    """Who the log is: the body of its `log.genesis` entry, without the public key."""

    name: str
    kind: str
    description: str = ""
    url: str = ""

    def __post_init__(self) -> None:
        if self.kind not in LOG_KINDS:
            raise UsageError(f"a log's kind is one of {', '.join(LOG_KINDS)}, not {self.kind!r}")
        if not self.name.strip():
            raise UsageError("a log needs a name")

    def body(self, public_key: str) -> dict[str, JSON]:
        return {
            "name": self.name,
            "kind": self.kind,
            "public_key": public_key,
            "description": self.description,
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One stored entry: its leaf index, id, type, claimed time and canonical bytes."""

    seq: int
    id: EntryId
    type: str
    time: str
    data: bytes


class OwnLog(Protocol):
    """The node's own log: batches in, signed checkpoints out, entries and proofs back."""

    @property
    def log_id(self) -> LogId: ...

    @property
    def size(self) -> int:
        """The tree size of the last signed checkpoint."""
        ...

    def init_log(self, genesis: Genesis, now: datetime) -> AppendResult: ...

    def append(
        self, drafts: Sequence[EntryDraft], now: datetime, check: Check | None = None
    ) -> AppendResult: ...

    def checkpoint(self) -> bytes: ...

    def entry(self, seq: int) -> StoredEntry: ...

    def entry_by_id(self, entry_id: str) -> StoredEntry: ...

    def inclusion_proof(self, index: int, size: int) -> list[Hash]: ...

    def consistency_proof(self, old_size: int, new_size: int) -> list[Hash]: ...


def build_entries(
    log_id: LogId, size: int, drafts: Sequence[EntryDraft], when: str
) -> tuple[Entry, ...]:
    """The drafts as entries of `log_id` from seq `size`; a malformed one is `RuleRejected`."""
    entries = []
    for n, draft in enumerate(drafts):
        try:
            make = Entry.from_parsed_parts if draft.parsed else Entry
            entry = make(
                log=log_id,
                seq=size + n,
                time=draft.time or when,
                type=draft.type,
                refs=tuple(draft.refs),
                body=draft.body,
                signed=tuple(draft.signed),
            )
        except LedgerError as e:
            raise RuleRejected("entry.format", f"entry {size + n} cannot be made: {e}") from e
        entries.append(entry)
    return tuple(entries)


def statement_nonces(entries: Sequence[Entry]) -> dict[str, int]:
    """Check every embedded statement (signature, addressed to this log, nonce not repeated
    within the batch); return each nonce with the seq of the entry that records it."""
    seen: dict[str, int] = {}
    for entry in entries:
        try:
            verify_statements(entry)
        except VerificationError as e:
            raise RuleRejected("statement.signature", f"entry {entry.seq}: {e}") from e
        for signed in entry.signed:
            nonce = signed.statement.nonce
            if nonce in seen:
                raise NonceReused(
                    "statement.nonce", f"statement nonce {nonce} is used twice in this batch"
                )
            seen[nonce] = entry.seq
    return seen


def nonce_reused(nonce: str, seq: int) -> NonceReused:
    """The error for a statement nonce the log already recorded at `seq`."""
    return NonceReused(
        "statement.nonce",
        f"statement nonce {nonce} was already recorded at seq {seq}: "
        "a signed statement cannot be used twice; ask the signer for a new one",
    )

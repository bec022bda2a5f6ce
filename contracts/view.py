"""What the fold reads of an entry: `EntryView`, and `read_entry`, which makes one.

Owns the per-entry checks that need no state (they depend on the entry alone): seq 0 is a
`log.genesis` (`log.genesis.first`), the type is an entry type and the body fits its schema
(`schema.type`, `schema.<type>`), every entry id named in the body is in `refs`
(`refs.missing`), and which parties the embedded statements are from (and whether each
signs exactly the entry's type and body). The state, and every check that reads it, is
`contracts.fold` and `contracts.rules`.

`read_entry` is a pure function of the entry and its id, so an audit runs it in its worker
processes, next to the ledger's own per-entry checks, and sends back only the small
`EntryView`: the process that folds never parses an entry again. The node's write path and
`Fold.apply` call it in-process. The statements' signatures and addressing are checked by
the ledger (`ledger.entry.verify_statements`, the audit), not here.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, NamedTuple

from contracts.errors import ContractError, RuleViolation
from contracts.schemas import BODY_SPECS
from ledger.entry import Entry
from ledger.keys import party_id

__all__ = ["EntryView", "read_entry", "read_fields"]


class EntryView(NamedTuple):
    """One entry as the rules see it: its envelope, its parsed body and its signers."""

    #: the entry's id (hex leaf hash)
    id: str
    log: str
    seq: int
    time: str
    type: str
    refs: tuple[str, ...]
    #: the body, checked and parsed by `contracts.schemas` (empty when `problem` is set)
    body: dict[str, Any]
    #: the party id of each statement's signer, in order; None when a statement signs
    #: another type or body than the entry's (which no rule that needs consent accepts)
    signers: tuple[str, ...] | None
    #: (rule, message) of the first stateless check the entry fails, or None
    problem: tuple[str, str] | None = None

    @property
    def signed(self) -> bool:
        """Whether the entry carries statements."""
        return self.signers is None or bool(self.signers)


def read_entry(entry: Entry, entry_id: str) -> EntryView:
    """The entry as the rules see it (never raises for an `Entry`: what is wrong with it is
    the view's `problem`)."""
    return _new(EntryView, (entry_id, *read_fields(entry)))


def read_fields(entry: Entry) -> tuple[Any, ...]:
    """The fields of `read_entry` but the id, as a plain tuple: cheaper to send between
    processes (an audit's workers read entries; the leaf hashes already carry the ids).
    `tuple.__new__(EntryView, (entry_id, *fields))` makes the view."""
    spec = BODY_SPECS.get(entry.type)
    try:
        if entry.seq == 0 and entry.type != "log.genesis":
            raise RuleViolation("log.genesis.first", "a log's first entry must be log.genesis")
        if spec is None:
            raise RuleViolation("schema.type", f"{entry.type!r} is not an entry type")
        body = spec.load(entry.body)
        for name in spec.refs:
            _check_refs(entry.refs, entry.body.get(name))
    except RuleViolation as e:
        problem = (e.rule, e.message)
    except ContractError as e:  # a value beyond a limit (e.g. MAX_MINOR), as a rule would
        problem = (f"{entry.type}.invalid", str(e))
    else:
        signers = _signers(entry) if entry.signed else ()
        # Shared strs (the log, the type, ids: see contracts._checks) are sent once per batch
        # and shared in the state.
        log = _last_log[0]
        if log != entry.log:
            log = _last_log[0] = sys.intern(entry.log)
        refs = tuple(map(sys.intern, entry.refs)) if entry.refs else ()
        return (log, entry.seq, entry.time, spec.type, refs, body, signers, None)
    return (entry.log, entry.seq, entry.time, entry.type, entry.refs, {}, (), problem)


_last_log = [""]
_new = tuple.__new__


def _check_refs(refs: tuple[str, ...], value: object) -> None:
    if value is None:
        return
    for item in value if isinstance(value, list) else (value,):
        if item not in refs:
            raise RuleViolation(
                "refs.missing", f"the body names entry {item} but refs does not list it"
            )


def _signers(entry: Entry) -> tuple[str, ...] | None:
    out = []
    for signed in entry.signed:
        statement = signed.statement
        if statement.type != entry.type or statement.body != entry.body:
            return None
        out.append(_party_id(statement.signer.raw))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _party_id(raw: bytes) -> str:
    """Party ids of recent signers (hashing each key once; workers sign often)."""
    return sys.intern(party_id(raw))

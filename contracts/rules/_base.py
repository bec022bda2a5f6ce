"""What every rule module shares: the rule signature, the context, consent and ownership.

A rule is `rule(state, entry, ctx) -> None`: it checks the entry against the state and
raises `RuleViolation` or, when every check passed, changes the state. Every rule makes all
its checks before its first change, so an entry that breaks a rule leaves no trace (no
working copy is needed, which keeps the fold fast).

Consent (DESIGN §2.5, §4.2) is uniform: each statement the rule requires has
`statement.type == entry.type` and `statement.body == entry.body` (the entry body is
exactly what was signed), and its signer's party id is the party the rule names. The
statements' signatures and addressing are checked by the ledger audit, not here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

from contracts.errors import RuleViolation
from contracts.state import State
from ledger.entry import Entry
from ledger.keys import party_id

__all__ = ["Ctx", "Rule", "consent", "fail", "no_consent", "owned_by", "signers"]


@dataclass(slots=True)
class Ctx:
    """What the fold worked out about the entry before its rule runs."""

    #: the entry's id
    id: str
    #: the entry's body, checked and parsed by `contracts.schemas.load_body`
    body: dict[str, Any]


Rule = Callable[[State, Entry, Ctx], None]


def fail(rule: str, message: str) -> NoReturn:
    raise RuleViolation(rule, message)


def signers(entry: Entry, rule: str) -> list[str]:
    """The party ids of the entry's statements, each checked to sign exactly this entry."""
    out: list[str] = []
    for signed in entry.signed:
        statement = signed.statement
        if statement.type != entry.type or statement.body != entry.body:
            fail(
                f"{rule}.consent",
                f"a statement in this {entry.type} entry signs a different type or body; "
                "each statement must sign exactly the entry's type and body",
            )
        out.append(_party_id(statement.signer.raw))
    return out


@functools.lru_cache(maxsize=4096)
def _party_id(raw: bytes) -> str:
    """Party ids of recent signers (hashing each key once; workers sign often)."""
    return party_id(raw)


def consent(entry: Entry, parties: Iterable[str], rule: str, who: str) -> None:
    """Require exactly one statement from each of `parties`, and none from anyone else."""
    wanted = sorted(parties)
    got = sorted(signers(entry, rule))
    if got != wanted:
        fail(f"{rule}.consent", f"a {entry.type} entry needs exactly one statement by {who}")


def owned_by(entry: Entry, log: str, rule: str, what: str) -> None:
    """Require that the entry is recorded by `log`, the log that owns what it changes."""
    if entry.log != log:
        fail(f"{rule}.owner", f"only the log that recorded the {what} may record {entry.type}")


def no_consent(entry: Entry, rule: str) -> None:
    if entry.signed:
        fail(f"{rule}.consent", f"a {entry.type} entry carries no statements")

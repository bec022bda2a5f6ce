"""What every rule module shares: the rule signature, consent and ownership.

A rule is `rule(state, entry) -> None`, `entry` an `EntryView` whose stateless checks passed
(body parsed, refs complete: see `contracts.view`): it checks the entry against the state and
raises `RuleViolation` or, when every check passed, changes the state. Every rule makes all
its checks before its first change, so an entry that breaks a rule leaves no trace (no
working copy is needed, which keeps the fold fast).

Consent (DESIGN §2.5, §4.2) is uniform: each statement the rule requires has
`statement.type == entry.type` and `statement.body == entry.body` (the entry body is
exactly what was signed), and its signer's party id is the party the rule names. The view
carries the signers' party ids (`EntryView.signers`, None when a statement signs another
type or body). The statements' signatures and addressing are checked by the ledger audit,
not here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NoReturn

from contracts.errors import RuleViolation
from contracts.state import State
from contracts.view import EntryView

__all__ = ["Rule", "consent", "fail", "no_consent", "owned_by"]


Rule = Callable[[State, EntryView], None]


def fail(rule: str, message: str) -> NoReturn:
    raise RuleViolation(rule, message)


def consent(entry: EntryView, parties: Iterable[str], rule: str, who: str) -> None:
    """Require exactly one statement from each of `parties`, and none from anyone else."""
    signers = entry.signers
    if signers is None:
        fail(
            f"{rule}.consent",
            f"a statement in this {entry.type} entry signs a different type or body; "
            "each statement must sign exactly the entry's type and body",
        )
    if sorted(signers) != sorted(parties):
        fail(f"{rule}.consent", f"a {entry.type} entry needs exactly one statement by {who}")


def owned_by(entry: EntryView, log: str, rule: str, what: str) -> None:
    """Require that the entry is recorded by `log`, the log that owns what it changes."""
    if entry.log != log:
        fail(f"{rule}.owner", f"only the log that recorded the {what} may record {entry.type}")


def no_consent(entry: EntryView, rule: str) -> None:
    if entry.signers != ():
        fail(f"{rule}.consent", f"a {entry.type} entry carries no statements")

"""The contract rules as the audit's `ledger.audit.EntryRules`: every rule violation in a
bundle becomes a finding naming log, seq, entry id, rule and a plain sentence.

The audit's workers read each entry (`contracts.view.read_entry`: the checks that need no
state, and the body parsed); this process folds the views (`Fold.apply_view`).

Entries whose references never arrive stay pending; at the end each is reported as a notice
(the bundle may simply not hold the log that has the referenced entry).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from contracts.fold import Fold, Violation
from contracts.view import EntryView, read_fields
from ledger.audit import EntryReader, Finding

__all__ = ["ContractRules"]

_new = tuple.__new__


def _finding(violation: Violation) -> Finding:
    return Finding(
        rule=violation.rule,
        message=violation.message,
        log=violation.log,
        seq=violation.seq,
        entry_id=violation.entry_id,
    )


class ContractRules:
    """Folds a bundle's entries through the contract rules (see `contracts.fold`)."""

    def __init__(self) -> None:
        self.fold = Fold()

    @property
    def reader(self) -> EntryReader:
        return read_fields

    def apply(
        self, log: str, start: int, ids: bytes, items: Sequence[tuple[Any, ...] | None]
    ) -> Iterable[Finding]:
        fold, findings = self.fold, list[Finding]()
        apply = fold.apply_view
        for offset, item in enumerate(items):
            entry_id = ids[offset * 32 : offset * 32 + 32].hex()
            if item is None:
                violations = fold.unreadable(log, start + offset, entry_id)
            else:
                violations = apply(_new(EntryView, (entry_id, *item)))
            if violations:
                findings.extend(map(_finding, violations))
        return findings

    def finish(self) -> Iterable[Finding]:
        notices = []
        for pending in self.fold.pending:
            if pending.missing:
                what = "cites " + ", ".join(pending.missing) + ", not in this bundle"
            else:
                what = "waits behind an earlier entry of its log that cites an absent entry"
            notices.append(
                Finding(
                    rule="rules.pending",
                    message=f"the contract rules could not judge this entry: it {what}",
                    log=pending.log,
                    seq=pending.seq,
                    entry_id=pending.entry_id,
                    severity="notice",
                )
            )
        return notices

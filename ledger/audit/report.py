"""What an audit found: findings, per-log summaries and the report that holds them.

A *finding* names the log, seq and entry id it is about (when it is about one), the rule that
failed and one plain sentence. Errors fail the audit; notices are facts worth knowing (a
reference to an entry outside the bundle, an unverifiable piece of evidence) that do not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["AuditReport", "Finding", "LogSummary", "Severity"]

Severity = Literal["error", "notice"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed rule (or notice), located as precisely as the rule allows."""

    rule: str
    message: str
    log: str | None = None
    seq: int | None = None
    entry_id: str | None = None
    severity: Severity = "error"

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "rule": self.rule,
            "log": self.log,
            "seq": self.seq,
            "entry_id": self.entry_id,
            "message": self.message,
        }

    def to_text(self) -> str:
        where = []
        if self.log is not None:
            where.append(f"log {self.log[:16]}")
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        if self.entry_id is not None:
            where.append(f"entry {self.entry_id[:16]}")
        place = ", ".join(where) if where else "bundle"
        return f"{self.severity.upper()} [{self.rule}] {place}: {self.message}"


@dataclass(frozen=True, slots=True)
class LogSummary:
    """What was checked for one log."""

    log: str
    name: str | None
    size: int
    root: str
    cosigned_by: tuple[str, ...]
    entries_checked: int
    statements_checked: int
    errors: int


@dataclass(slots=True)
class AuditReport:
    """The result of `ledger.audit.audit`: every finding plus what was covered."""

    findings: list[Finding] = field(default_factory=list)
    logs: list[LogSummary] = field(default_factory=list)
    entries_checked: int = 0
    statements_checked: int = 0
    trusted_policy: bool = False
    bundled_policy: bool = False
    rules_checked: bool = False
    evidence_checked: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def notices(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "notice"]

    @property
    def policy_checked(self) -> bool:
        """Whether any witness policy (trusted or carried by the bundle) was evaluated."""
        return self.trusted_policy or self.bundled_policy

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "entries_checked": self.entries_checked,
            "statements_checked": self.statements_checked,
            "trusted_policy": self.trusted_policy,
            "bundled_policy": self.bundled_policy,
            "rules_checked": self.rules_checked,
            "evidence_checked": self.evidence_checked,
            "logs": [
                {
                    "log": s.log,
                    "name": s.name,
                    "size": s.size,
                    "root": s.root,
                    "cosigned_by": list(s.cosigned_by),
                    "entries_checked": s.entries_checked,
                    "statements_checked": s.statements_checked,
                    "errors": s.errors,
                }
                for s in self.logs
            ],
            "findings": [f.to_dict() for f in self.findings],
        }

"""The contracts package's error family.

Every error raised by `contracts` derives from `ContractError`. Callers of `contracts`
never catch `ValueError` or `TypeError`: bad input is reported as a `ContractError` where
it enters. Messages are one plain sentence: what was wrong and what to do.

    ContractError           base class: an input to a contract function is unusable
    ├── MoneyError          an amount or currency is malformed, or arithmetic mixes currencies
    └── RuleViolation       an entry breaks a contract rule; `.rule` names the rule
                            (e.g. "share.settle.payout") so nodes, sync and the auditor can
                            report and count violations by rule

The node maps `RuleViolation` to a 422 answer (nothing stored); sync flags the mirrored entry;
the auditor lists it. That mapping lives in `node/`, not here.
"""

from __future__ import annotations

__all__ = ["ContractError", "MoneyError", "RuleViolation"]


class ContractError(Exception):
    """Base class of every error raised by the `contracts` package."""


class MoneyError(ContractError):
    """An amount or currency is malformed, unknown, or arithmetic mixes two currencies."""


class RuleViolation(ContractError):  # noqa: N818  (a violation is a finding, not a fault)
    """An entry (or a value it carries) breaks a named contract rule.

    `rule` is a dotted identifier, `<entry type>.<aspect>` (e.g. "share.settle.payout");
    `message` is one plain sentence for a person (also `str(error)`).
    """

    rule: str
    message: str

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message

    def __reduce__(self) -> tuple[type[RuleViolation], tuple[str, str]]:
        # Keeps the error picklable (audit worker processes send violations back).
        return (type(self), (self.rule, self.message))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.rule!r}, {self.message!r})"

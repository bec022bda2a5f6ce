"""Contracts: entry types, their schemas and rules, money, and the fold (DESIGN §3, §5).

Pure and deterministic: no I/O, no clock (times come from entries or are passed in), no
randomness. Built on `ledger` (entries, statements, keys); used by `node` (write path,
sync) and by the auditor.

- `contracts.money`, `contracts.allocation`: exact amounts and splits.
- `contracts.schemas`: one strict body schema per entry type (`load_body`, `SCHEMAS`).
- `contracts.rules`: the rule of each entry type (who records it, what it references,
  which transition it makes, whose statements it needs).
- `contracts.state`: what the fold projects (tasks, contracts, members, agreements,
  payments, skills, ratings, balances).
- `contracts.fold`: `Fold.apply(entry, entry_id) -> list[Violation]`, pending entries,
  independent of the order in which logs are read.
- `contracts.matching`, `contracts.value_added`: read-only views of the state.

Errors: see `contracts.errors` (`ContractError` > `MoneyError`, `RuleViolation`).
"""

from contracts.allocation import Split, Tier, allocate, basis_amount, validate_tiers, waterfall
from contracts.errors import ContractError, MoneyError, RuleViolation
from contracts.fold import Fold, Pending, Violation, fold
from contracts.matching import Candidate, TaskMatch, candidates, open_tasks
from contracts.money import Currency, Money, currency
from contracts.schemas import ENGAGEMENTS, ENTRY_TYPES, SCHEMAS, load_body
from contracts.state import (
    Agreement,
    Balance,
    Balances,
    ContractState,
    Member,
    Payment,
    Settlement,
    State,
    TaskState,
)
from contracts.value_added import ValueAddedStatement, value_added

__all__ = [
    "ENGAGEMENTS",
    "ENTRY_TYPES",
    "SCHEMAS",
    "Agreement",
    "Balance",
    "Balances",
    "Candidate",
    "ContractError",
    "ContractState",
    "Currency",
    "Fold",
    "Member",
    "Money",
    "MoneyError",
    "Payment",
    "Pending",
    "RuleViolation",
    "Settlement",
    "Split",
    "State",
    "TaskMatch",
    "TaskState",
    "Tier",
    "ValueAddedStatement",
    "Violation",
    "allocate",
    "basis_amount",
    "candidates",
    "currency",
    "fold",
    "load_body",
    "open_tasks",
    "validate_tiers",
    "value_added",
    "waterfall",
]

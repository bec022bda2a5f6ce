"""The value-added statement of one community (log) for one period.

Owns the arithmetic of the statement; the facts come from the fold's `State`:

- revenue and costs: the `share.revenue` entries the log recorded for the period (one
  report per agreement; a community that reports the same income under two agreements
  counts it twice), value added = revenue - costs (may be negative);
- shared: the payouts of settlements of the period in agreements the log is a party to,
  per party;
- paid to workers by engagement type: contract payments the log recorded within the period
  (by entry time), by the worker's engagement when the contract was made (`none` for a worker
  not enrolled);
- tasks completed: the log's contracts whose last part was accepted within the period;
- skills attested: (worker, skill) pairs the log attested within the period.

A period is `YYYY-MM`, `YYYY-Qn` or `YYYY`; amounts are in one currency (others are left out:
an agreement has exactly one currency, and a statement never converts).
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.errors import ContractError
from contracts.money import Money
from contracts.schemas import period_kind
from contracts.state import State

__all__ = ["ValueAddedStatement", "in_period", "value_added"]


def in_period(time: str, period: str) -> bool:
    """Whether the ledger time falls in the period (`YYYY-MM`, `YYYY-Qn` or `YYYY`)."""
    kind = period_kind(period)
    if kind == "monthly":
        return time[:7] == period
    if kind == "quarterly":
        return time[:4] == period[:4] and (int(time[5:7]) - 1) // 3 + 1 == int(period[6])
    if kind == "yearly":
        return time[:4] == period
    raise ContractError(f"{period!r} is not a period like 2026-11, 2026-Q4 or 2026.")


@dataclass(frozen=True, slots=True)
class ValueAddedStatement:
    log: str
    period: str
    currency: str
    revenue: Money
    costs: Money
    value_added: Money
    shared: tuple[tuple[str, Money], ...]
    paid_by_engagement: tuple[tuple[str, Money], ...]
    tasks_completed: int
    skills_attested: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "log": self.log,
            "period": self.period,
            "currency": self.currency,
            "revenue": self.revenue.to_dict(),
            "costs": self.costs.to_dict(),
            "value_added": self.value_added.to_dict(),
            "shared": [{"party": p, "amount": m.to_dict()} for p, m in self.shared],
            "paid_by_engagement": {e: m.to_dict() for e, m in self.paid_by_engagement},
            "tasks_completed": self.tasks_completed,
            "skills_attested": [{"worker": w, "skill": s} for w, s in self.skills_attested],
        }


def _sorted(totals: dict[str, int], code: str) -> tuple[tuple[str, Money], ...]:
    return tuple((k, Money.from_minor(v, code)) for k, v in sorted(totals.items()))


def value_added(state: State, *, log: str, period: str, currency: str) -> ValueAddedStatement:
    """The statement of `log` for `period`, in `currency`."""
    in_period("0000-01-01T00:00:00Z", period)  # checks the period
    revenue = costs = 0
    for report in state.revenues.values():
        if (
            report.log == log
            and report.period == period
            and report.revenue.currency.code == currency
        ):
            revenue += report.revenue.minor
            costs += report.costs.minor
    shared: dict[str, int] = {}
    for settlement in state.settlements.values():
        agreement = state.agreements[settlement.agreement]
        if (
            settlement.period == period
            and log in agreement.parties
            and agreement.currency == currency
        ):
            for party, amount in settlement.payouts.items():
                shared[party] = shared.get(party, 0) + amount.minor
    paid: dict[str, int] = {}
    for payment in state.payments.values():
        if (
            payment.log == log
            and payment.contract is not None
            and payment.amount.currency.code == currency
            and in_period(payment.time, period)
        ):
            engagement = payment.engagement or "none"
            paid[engagement] = paid.get(engagement, 0) + payment.amount.minor
    completed = sum(
        1
        for c in state.contracts.values()
        if c.log == log and c.completed_at is not None and in_period(c.completed_at, period)
    )
    attested = sorted(
        (a.worker, a.skill)
        for a in state.attestations.values()
        if a.log == log and in_period(a.time, period)
    )
    return ValueAddedStatement(
        log=log,
        period=period,
        currency=currency,
        revenue=Money.from_minor(revenue, currency),
        costs=Money.from_minor(costs, currency),
        value_added=Money.from_minor(revenue - costs, currency),
        shared=_sorted(shared, currency),
        paid_by_engagement=_sorted(paid, currency),
        tasks_completed=completed,
        skills_attested=tuple(attested),
    )

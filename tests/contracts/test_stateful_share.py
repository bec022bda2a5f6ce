"""A Hypothesis state machine over a revenue-share agreement between two logs.

Random revenue reports from either party's log, settlements that are right or off by one
cent, payouts and confirmations by the right or a wrong party, and termination. After every
step the invariants hold; at the end, folding the two logs in any order gives the same state.
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from contracts.allocation import basis_amount, waterfall
from contracts.fold import Fold, fold
from contracts.money import Money
from tests.contracts.helpers import Community, share_setup

PERIODS = st.sampled_from(["2026-09", "2026-10", "2026-11"])
cents = st.integers(0, 300_000)


def eur(minor: int) -> dict[str, str]:
    return Money.from_minor(minor, "EUR").to_dict()


class Share(RuleBasedStateMachine):
    reports = Bundle("reports")
    settlements = Bundle("settlements")
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.lake, self.harbour, _, self.agreement = share_setup()
        self.fold = Fold()
        for community in (self.lake, self.harbour):
            for entry, eid in community.entries:
                assert self.fold.apply(entry, eid) == []

    def community(self, harbour: bool) -> Community:
        return self.harbour if harbour else self.lake

    def record(self, community: Community, type: str, body: dict[str, Any], **kw: Any) -> str:
        eid = community.add(type, body, **kw)
        before = repr(self.fold.state)
        if self.fold.apply(*community.entries[-1]):
            assert repr(self.fold.state) == before
        return eid

    @rule(target=reports, harbour=st.booleans(), period=PERIODS, revenue=cents, costs=cents)
    def report(self, harbour: bool, period: str, revenue: int, costs: int) -> str:
        body = {
            "agreement": self.agreement,
            "period": period,
            "revenue": eur(revenue),
            "costs": eur(costs),
        }
        return self.record(self.community(harbour), "share.revenue", body)

    @rule(
        target=settlements,
        period=PERIODS,
        chosen=st.lists(reports, min_size=1, max_size=3, unique=True),
        off_by=st.sampled_from([0, 0, 0, 1]),
    )
    def settle(self, period: str, chosen: list[str], off_by: int) -> str:
        state = self.fold.state
        agreement = state.agreements[self.agreement]
        found = [state.revenues[r] for r in chosen if r in state.revenues]
        if found and off_by == 0:  # mostly settle reports of one period
            period = found[0].period
            found = [r for r in found if r.period == period]
            chosen = [r.id for r in found]
        revenue = sum(r.revenue.minor for r in found)
        costs = sum(r.costs.minor for r in found)
        basis = basis_amount(basis="value-added", revenue=revenue, costs=costs)
        totals = list(waterfall(basis, agreement.tiers).totals)
        totals[0] += off_by
        body = {
            "agreement": self.agreement,
            "period": period,
            "revenue": chosen,
            "basis_amount": eur(basis),
            "payouts": [
                {"party": p, "amount": eur(t)}
                for p, t in zip(agreement.parties, totals, strict=True)
            ],
        }
        return self.record(self.lake, "share.settle", body)

    @rule(target=payments, settlement=settlements, harbour=st.booleans(), off_by=st.integers(0, 1))
    def pay(self, settlement: str, harbour: bool, off_by: int) -> str:
        party = self.community(harbour).id
        settled = self.fold.state.settlements.get(settlement)
        due = settled.payouts[party].minor if settled else 100
        body = {"settlement": settlement, "party": party, "amount": eur(due + off_by)}
        return self.record(self.lake, "payment.record", body)

    @rule(payment=payments, harbour=st.booleans())
    def confirm(self, payment: str, harbour: bool) -> None:
        signer = self.community(harbour).key
        self.record(self.lake, "payment.confirm", {"payment": payment}, signers=[signer])

    @precondition(lambda self: len(self.lake.entries) > 16)
    @rule(everyone=st.booleans())
    def terminate(self, everyone: bool) -> None:
        signers = [self.lake.key, self.harbour.key] if everyone else [self.harbour.key]
        self.record(self.lake, "share.terminate", {"agreement": self.agreement}, signers=signers)

    @invariant()
    def settlements_are_exact(self) -> None:
        state = self.fold.state
        earned: dict[str, int] = {}
        for settlement in state.settlements.values():
            reports = [state.revenues[r] for r in settlement.revenue]
            assert all(r.period == settlement.period for r in reports)
            basis = basis_amount(
                basis="value-added",
                revenue=sum(r.revenue.minor for r in reports),
                costs=sum(r.costs.minor for r in reports),
            )
            assert settlement.basis_amount.minor == basis
            assert sum(m.minor for m in settlement.payouts.values()) == basis
            for party, amount in settlement.payouts.items():
                earned[party] = earned.get(party, 0) + amount.minor
        for party in (self.lake.id, self.harbour.id):
            balance = state.balances.of(party, "EUR")
            assert balance.earned == earned.get(party, 0)
            assert 0 <= balance.confirmed <= balance.paid <= balance.earned

    def teardown(self) -> None:
        logs = [self.lake.entries, self.harbour.entries]
        for order in (logs, logs[::-1]):
            again = fold(e for log in order for e in log)
            assert again.state == self.fold.state
            assert again.violations == self.fold.violations
            assert again.pending == []


TestShare = Share.TestCase
TestShare.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)

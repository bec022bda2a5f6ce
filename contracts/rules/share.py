"""Rules of revenue-share agreements: `share.propose`, `share.activate`, `share.revenue`,
`share.settle`, `share.terminate`, and `payment.record {settlement, party, amount}`.

State machine: proposed (by a log that is one of the parties) -> active (`share.activate
{proposal}` with a statement of every party over exactly that entry; a party that is a log
signs with its log key) -> terminated (statements of all parties). The agreement id is the
id of the `share.activate` entry: entries that cite it reference the activation, so an
agreement is never cited before the fold knows it is in force.

`share.revenue` may be recorded by any party's log, for a period of the agreement's kind
(`YYYY-MM` monthly, `YYYY-Qn` quarterly, `YYYY` yearly), in its currency. It does not look at
termination: a report recorded in another log is judged only on what it references, so the
result does not depend on the order in which logs are read.

`share.settle` (by the proposer's log, while active, once per period) cites revenue entries
of that agreement and period; its `basis_amount` and `payouts` (every party, in the
agreement's order) must equal `waterfall(basis_amount(...), tiers)` exactly. Settled payouts
are earned by the parties; `payment.record {settlement, party, amount}` pays one exactly.
"""

from __future__ import annotations

from contracts.allocation import Tier, basis_amount, validate_tiers, waterfall
from contracts.errors import MoneyError
from contracts.money import Money, currency
from contracts.rules._base import Rule, consent, fail, no_consent, owned_by
from contracts.schemas import period_kind
from contracts.state import Agreement, Payment, Revenue, Settlement, State
from contracts.view import EntryView

__all__ = ["RULES", "record_payout"]


def _tiers(entry: EntryView) -> tuple[Tier, ...]:
    code = entry.body["currency"]
    tiers = []
    for raw in entry.body["tiers"]:
        up_to = raw["up_to"]
        try:
            bound = None if up_to is None else Money.parse(up_to, code).minor
        except MoneyError as e:
            fail("share.propose.tiers", f"a tier's up_to is not a {code} amount: {e}")
        tiers.append(Tier(up_to=bound, weights=raw["weights"]))
    validate_tiers(tiers, len(entry.body["parties"]))
    return tuple(tiers)


def propose(state: State, entry: EntryView) -> None:
    no_consent(entry, "share.propose")
    body = entry.body
    if entry.log not in body["parties"]:
        fail("share.propose.party", "the proposing log must be one of the parties")
    tiers = _tiers(entry)
    state.proposals[entry.id] = Agreement(
        proposal=entry.id,
        log=entry.log,
        parties=body["parties"],
        currency=body["currency"],
        basis=body["basis"],
        period=body["period"],
        tiers=tiers,
    )


def activate(state: State, entry: EntryView) -> None:
    agreement = state.proposals.get(entry.body["proposal"])
    if agreement is None:
        fail("share.activate.proposal", "the proposal is not a share.propose entry")
    owned_by(entry, agreement.log, "share.activate", "proposal")
    consent(entry, agreement.parties, "share.activate", "every party")
    if agreement.status != "proposed":
        fail("share.activate.status", f"the agreement is already {agreement.status}")
    agreement.status = "active"
    agreement.agreement = entry.id
    state.agreements[entry.id] = agreement


def _agreement(state: State, entry: EntryView, rule: str) -> Agreement:
    agreement = state.agreements.get(entry.body["agreement"])
    if agreement is None:
        fail(f"{rule}.agreement", "the agreement is not a share.activate entry")
    return agreement


def _period(agreement: Agreement, entry: EntryView, rule: str) -> None:
    """The body's period must be of the agreement's kind (monthly, quarterly, yearly)."""
    if period_kind(entry.body["period"]) != agreement.period:
        fail(f"{rule}.period", f"the agreement settles {agreement.period} periods")


def revenue(state: State, entry: EntryView) -> None:
    no_consent(entry, "share.revenue")
    body = entry.body
    agreement = _agreement(state, entry, "share.revenue")
    _period(agreement, entry, "share.revenue")
    if entry.log not in agreement.parties:
        fail("share.revenue.party", "only a party's log may report revenue for the agreement")
    code = currency(agreement.currency)
    if body["revenue"].currency != code or body["costs"].currency != code:
        fail("share.revenue.currency", f"revenue and costs must be in {agreement.currency}")
    state.revenues[entry.id] = Revenue(
        id=entry.id,
        log=entry.log,
        time=entry.time,
        agreement=entry.body["agreement"],
        period=body["period"],
        revenue=body["revenue"],
        costs=body["costs"],
    )


def _payouts(state: State, agreement: Agreement, entry: EntryView) -> list[tuple[str, Money]]:
    """The settlement's payouts, checked against the split of its cited revenue reports."""
    body = entry.body
    period = body["period"]
    total_revenue = total_costs = 0
    for revenue_id in body["revenue"]:
        report = state.revenues.get(revenue_id)
        if report is None or report.agreement != body["agreement"] or report.period != period:
            fail(
                "share.settle.revenue", f"each revenue entry must report {period} of this agreement"
            )
        total_revenue += report.revenue.minor
        total_costs += report.costs.minor
    code = agreement.currency
    basis = basis_amount(basis=agreement.basis, revenue=total_revenue, costs=total_costs)  # type: ignore[arg-type]
    if body["basis_amount"] != Money.from_minor(basis, code):
        fail("share.settle.basis", "the basis amount is not what the revenue entries give")
    split = waterfall(basis, agreement.tiers)
    expected = [
        (p, Money.from_minor(t, code)) for p, t in zip(agreement.parties, split.totals, strict=True)
    ]
    if [(p["party"], p["amount"]) for p in body["payouts"]] != expected:
        fail(
            "share.settle.payout",
            "the payouts must equal the agreement's split exactly, party by party",
        )
    return expected


def settle(state: State, entry: EntryView) -> None:
    no_consent(entry, "share.settle")
    body = entry.body
    agreement = _agreement(state, entry, "share.settle")
    _period(agreement, entry, "share.settle")
    owned_by(entry, agreement.log, "share.settle", "proposal")
    if agreement.status != "active":
        fail("share.settle.status", f"the agreement is {agreement.status}, not active")
    period = body["period"]
    if period in agreement.settled:
        fail("share.settle.twice", f"the period {period} is already settled")
    expected = _payouts(state, agreement, entry)
    state.settlements[entry.id] = Settlement(
        id=entry.id,
        log=entry.log,
        time=entry.time,
        agreement=body["agreement"],
        period=period,
        revenue=body["revenue"],
        basis_amount=body["basis_amount"],
        payouts=dict(expected),
    )
    agreement.settled[period] = entry.id
    for party, amount in expected:
        state.balances.earn(party, amount)


def terminate(state: State, entry: EntryView) -> None:
    agreement = _agreement(state, entry, "share.terminate")
    owned_by(entry, agreement.log, "share.terminate", "proposal")
    consent(entry, agreement.parties, "share.terminate", "every party")
    if agreement.status != "active":
        fail("share.terminate.status", f"the agreement is {agreement.status}, not active")
    agreement.status = "terminated"


def record_payout(state: State, entry: EntryView) -> None:
    """`payment.record {settlement, party, amount}`: pay one settled payout exactly."""
    body = entry.body
    settlement = state.settlements.get(body["settlement"])
    if settlement is None:
        fail("payment.record.settlement", "the settlement is not a share.settle entry")
    owned_by(entry, settlement.log, "payment.record", "settlement")
    party = body["party"]
    due = settlement.payouts.get(party)
    if due is None:
        fail("payment.record.party", "the party is not one of the settlement's payees")
    if party in settlement.paid:
        fail("payment.record.twice", "the party's payout is already paid")
    if body["amount"] != due:
        fail("payment.record.amount", "the amount must be the party's settled payout")
    settlement.paid[party] = entry.id
    state.payments[entry.id] = Payment(
        id=entry.id,
        log=entry.log,
        time=entry.time,
        payee=party,
        amount=due,
        settlement=settlement.id,
    )
    state.balances.pay(party, due)


RULES: dict[str, Rule] = {
    "share.propose": propose,
    "share.activate": activate,
    "share.revenue": revenue,
    "share.settle": settle,
    "share.terminate": terminate,
}

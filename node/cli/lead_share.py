"""`rdh share ...`: revenue-share agreements: propose, report revenue, settle, pay, read.

A proposal (`share.propose`) becomes an agreement when every party has signed a
`share.activate` statement (sent by each party to `POST /api/v1/statements`; the node signs
for its own log). Revenue reports (`share.revenue`), the period's settlement (`share.settle`,
the exact body the node computes at `GET /agreements/<id>/settlement`) and the payouts
(`payment.record` of a settlement) are the node's own entries, recorded here.
"""

from __future__ import annotations

from typing import Any

import click

from contracts.money import CURRENCIES, Money
from node.cli.lead import MONEY, TIER, Lead, api_command, parse_amount, tier_body
from node.cli.output import echo_fields, echo_json, echo_table, money_text
from node.client import NodeClient
from node.errors import UsageError

__all__ = ["share_group"]

_period = click.option(
    "--period", required=True, help="The period: 2026-11 (monthly), 2026-Q4 or 2026 (yearly)."
)


@click.group("share")
def share_group() -> None:
    """Revenue-share agreements: propose, revenue, settle, pay, list, show, value-added."""


@share_group.command("propose")
@click.option(
    "--party",
    "parties",
    multiple=True,
    required=True,
    help="A party (log or worker id), repeatable, in order; the node's log must be one.",
)
@click.option("--currency", required=True, help="The agreement's one currency, like EUR.")
@click.option("--basis", type=click.Choice(["revenue", "value-added"]), required=True)
@click.option("--period", type=click.Choice(["monthly", "quarterly", "yearly"]), required=True)
@click.option(
    "--tier",
    "tiers",
    type=TIER,
    multiple=True,
    required=True,
    help='"5000.00:7000,3000": up to 5,000.00 split 70/30 (repeatable; last "-:5000,5000").',
)
@api_command(write=True)
def propose_command(
    lead: Lead,
    parties: tuple[str, ...],
    currency: str,
    basis: str,
    period: str,
    tiers: tuple[tuple[str | None, tuple[int, ...]], ...],
) -> None:
    """Propose a revenue-share agreement (a `share.propose` entry)."""
    if currency not in CURRENCIES:
        raise UsageError(f"{currency!r} is not an ISO 4217 currency code such as 'EUR'")
    for n, (_, weights) in enumerate(tiers):
        if len(weights) != len(parties):
            raise UsageError(
                f"tier {n + 1} has {len(weights)} weights for {len(parties)} parties: "
                "give one weight per party, in the order of --party"
            )
    body = {
        "parties": list(parties),
        "currency": currency,
        "basis": basis,
        "period": period,
        "tiers": [tier_body(t, currency) for t in tiers],
    }
    proposal = lead.record("share.propose", body)
    if not lead.as_json:
        click.echo(
            f"every other party now signs a share.activate statement over "
            f'{{"proposal": "{proposal}"}}; the node signs for its own log',
            err=True,
        )


@share_group.command("revenue")
@click.argument("agreement_id")
@_period
@click.option("--revenue", type=MONEY, required=True, help='The period\'s revenue: "1000.00 EUR".')
@click.option("--costs", type=MONEY, help='The period\'s costs (default: zero): "200.00 EUR".')
@api_command(write=True)
def revenue_command(
    lead: Lead, agreement_id: str, period: str, revenue: Money, costs: Money | None
) -> None:
    """Report the community's revenue (and costs) of a period (a `share.revenue` entry)."""
    body = {
        "agreement": agreement_id,
        "period": period,
        "revenue": revenue.to_dict(),
        "costs": (costs or Money.zero(revenue.currency)).to_dict(),
    }
    lead.record("share.revenue", body)


@share_group.command("settle")
@click.argument("agreement_id")
@_period
@api_command(write=True)
def settle_command(lead: Lead, agreement_id: str, period: str) -> None:
    """Settle a period: record the split the node computes (a `share.settle` entry)."""
    body = lead.get(f"/agreements/{agreement_id}/settlement", period=period)
    lead.record("share.settle", body)
    if not lead.as_json:
        echo_table(
            ("PARTY", "PAYOUT"),
            [(p["party"], p["amount"]) for p in body["payouts"]],
            empty="",
        )


@share_group.command("pay")
@click.argument("settlement_id")
@click.argument("party")
@click.option("--amount", help="The amount paid (default: the party's payout).")
@api_command(write=True)
def pay_command(lead: Lead, settlement_id: str, party: str, amount: str | None) -> None:
    """Record the payment of PARTY's payout of a settlement (a `payment.record` entry)."""
    entry = lead.get(f"/entries/{settlement_id}")
    body = entry.get("entry", {}).get("body", {})
    if entry.get("type") != "share.settle":
        raise UsageError(f"entry {settlement_id} is a {entry.get('type')}, not a share.settle")
    payout = next((p for p in body["payouts"] if p["party"] == party), None)
    if payout is None:
        raise UsageError(f"party {party} has no payout in settlement {settlement_id}")
    due = Money.from_dict(payout["amount"])
    paid = due if amount is None else parse_amount(amount, due.currency.code, "--amount")
    body = {"settlement": settlement_id, "party": party, "amount": paid.to_dict()}
    lead.record("payment.record", body)


@share_group.command("consent")
@click.argument("kind", type=click.Choice(["activate", "terminate", "confirm"]))
@click.argument("target")
@click.option(
    "--at",
    "at_url",
    required=True,
    help="The URL of the node whose log records the entry (the proposer's, or the payer's).",
)
@api_command(write=True)
def consent_command(lead: Lead, kind: str, target: str, at_url: str) -> None:
    """Consent, as this community's log, to another community's entry: `activate` a proposal
    TARGET, `terminate` an agreement TARGET, or `confirm` a payout payment TARGET. This node
    signs the statement with its log key; it is handed to the node at --at."""
    entry_type, field = {
        "activate": ("share.activate", "proposal"),
        "terminate": ("share.terminate", "agreement"),
        "confirm": ("payment.confirm", "payment"),
    }[kind]
    other = NodeClient(at_url, timeout=lead.client.timeout)
    health = other.health()
    log = health.get("log") if isinstance(health, dict) else None
    if not isinstance(log, str):
        raise UsageError(f"the node at {other.base_url} did not say which log it keeps")
    signed = lead.client.post(
        "/statements/sign", {"type": entry_type, "log": log, "body": {field: target}}
    )
    answer = other.post("/statements", signed)
    if lead.as_json:
        echo_json(answer)
    elif "entries" in answer:
        recorded = answer["entries"][0]
        click.echo(f"recorded {recorded['type']} {recorded['id']} at {other.base_url}")
    else:
        waiting = ", ".join(answer.get("waiting", [])) or "the recording node"
        click.echo(f"signed; {entry_type} for {target} still waits for: {waiting}")


@share_group.command("list")
@api_command()
def list_command(lead: Lead) -> None:
    """List revenue-share agreements: proposed, active and terminated."""
    found = lead.get("/agreements")
    rows = [
        (a.get("agreement") or a["proposal"], a["status"], a["basis"], a["period"],
         a["currency"], len(a["parties"]), a["log"])
        for a in found
    ]  # fmt: skip
    lead.table(
        found,
        ("ID", "STATUS", "BASIS", "PERIOD", "CURRENCY", "PARTIES", "PROPOSER"),
        rows,
        empty="no agreements",
    )


@share_group.command("show")
@click.argument("agreement_id")
@api_command()
def show_command(lead: Lead, agreement_id: str) -> None:
    """Show an agreement (by proposal or agreement id): tiers, reports, settlements."""
    lead.show_or(lead.get(f"/agreements/{agreement_id}"), _show_agreement)


def _up_to(minor: Any, code: str) -> str:
    return "no limit" if minor is None else str(Money.from_minor(minor, code))


def _show_agreement(a: dict[str, Any]) -> None:
    code = a["currency"]
    echo_fields(
        [
            ("agreement", a.get("agreement")),
            ("proposal", a["proposal"]),
            ("proposer", a["log"]),
            ("status", a["status"]),
            ("basis", a["basis"]),
            ("period", a["period"]),
            ("currency", code),
        ]
    )
    click.echo("parties:")
    for n, party in enumerate(a["parties"]):
        click.echo(f"  {n + 1}. {party}")
    click.echo("tiers:")
    for tier in a["tiers"]:
        weights = " / ".join(f"{w / 100:g}%" for w in tier["weights"])
        click.echo(f"  up to {_up_to(tier['up_to'], code)}: {weights}")
    if a.get("revenues"):
        click.echo("revenue reports:")
        echo_table(
            ("ID", "PERIOD", "REVENUE", "COSTS", "LOG"),
            [(r["id"], r["period"], r["revenue"], r["costs"], r["log"]) for r in a["revenues"]],
            empty="",
        )
    for s in a.get("settlements") or []:
        click.echo(f"settlement {s['id']} ({s['period']}, basis {money_text(s['basis_amount'])}):")
        for party, amount in s["payouts"].items():
            paid = s["paid"].get(party)
            click.echo(f"  {party}  {money_text(amount)}  {'paid ' + paid if paid else 'unpaid'}")


@share_group.command("value-added")
@_period
@click.option("--log", help="The community's log (default: the node's own).")
@click.option("--currency", default="EUR", show_default=True)
@api_command()
def value_added_command(lead: Lead, period: str, log: str | None, currency: str) -> None:
    """A community's value-added statement for a period."""
    statement = lead.get("/value-added", period=period, log=log, currency=currency)
    lead.show_or(statement, _show_value_added)


def _show_value_added(s: dict[str, Any]) -> None:
    echo_fields(
        [
            ("log", s["log"]),
            ("period", s["period"]),
            ("revenue", s["revenue"]),
            ("costs", s["costs"]),
            ("value added", s["value_added"]),
            ("tasks completed", s["tasks_completed"]),
        ]
    )
    for item in s["shared"]:
        click.echo(f"shared with {item['party']}  {money_text(item['amount'])}")
    for engagement, amount in s["paid_by_engagement"].items():
        click.echo(f"paid to {engagement} workers  {money_text(amount)}")
    for item in s["skills_attested"]:
        click.echo(f"attested {item['skill']} for {item['worker']}")

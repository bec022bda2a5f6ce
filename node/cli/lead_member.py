"""`rdh member ...`: the members of communities and a worker's portfolio.

There is no `member add`: a worker joins a community by their own signed `member.enroll`
statement (and leaves by `member.leave`), sent to the node's `POST /api/v1/statements`. The
node records it as soon as it arrives; a lead only reads the result.
"""

from __future__ import annotations

from typing import Any

import click

from contracts.money import Money
from contracts.schemas import ENGAGEMENTS
from node.cli.lead import Lead, api_command
from node.cli.output import echo_fields, echo_table, rating_text

__all__ = ["member_group"]


@click.group("member")
def member_group() -> None:
    """Members (enrolled by their own signed statement): list, show a portfolio."""


@member_group.command("list")
@click.option("--engagement", type=click.Choice(ENGAGEMENTS))
@click.option("--log", help="The community's log (default: the node's own).")
@click.option("--all", "everyone", is_flag=True, help="Also members who have left.")
@click.option("--limit", type=click.IntRange(1, 500), default=500, show_default=True)
@api_command()
def list_command(
    lead: Lead, engagement: str | None, log: str | None, everyone: bool, limit: int
) -> None:
    """List a community's members: active ones, or with --all everyone who ever enrolled."""
    page = lead.get(
        "/members",
        log=log or lead.own_log(),
        engagement=engagement,
        active=None if everyone else True,
        limit=limit,
    )
    rows = [
        (m["worker"], m["engagement"], m["since"], "active" if m["active"] else "left",
         m["display_name"])
        for m in page["items"]
    ]  # fmt: skip
    lead.table(page, ("WORKER", "ENGAGEMENT", "SINCE", "STATUS", "NAME"), rows, empty="no members")


@member_group.command("show")
@click.argument("worker")
@api_command()
def show_command(lead: Lead, worker: str) -> None:
    """A worker's portfolio across communities: memberships, contracts, earnings, skills."""
    lead.show_or(lead.get(f"/workers/{worker}"), _show_portfolio)


def _money(minor: int, code: str) -> str:
    return str(Money.from_minor(minor, code))


def _show_portfolio(p: dict[str, Any]) -> None:
    echo_fields(
        [
            ("worker", p["worker"]),
            ("rating", rating_text(p["rating"])),
            ("attested", p["attested"]),
        ]
    )
    for m in p["memberships"]:
        state = "active" if m["active"] else "left"
        click.echo(f"member of {m['log']} as {m['engagement']} since {m['since']} ({state})")
    for b in p["balances"]:
        code = b["currency"]
        click.echo(
            f"{code}: earned {_money(b['earned'], code)}, paid {_money(b['paid'], code)}, "
            f"confirmed {_money(b['confirmed'], code)}, owed {_money(b['owed'], code)}"
        )
    if p["contracts"]:
        click.echo("contracts:")
        echo_table(
            ("ID", "STAGE", "TASK", "REWARD"),
            [(c["id"], c["stage"], c["task"], c["reward"]) for c in p["contracts"]],
            empty="",
        )

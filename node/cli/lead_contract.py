"""`rdh contract ...`: offer a contract, accept or reject work, pay, cancel, list, show.

Each write records one entry of the node's log (`contract.offer`, `work.accept`,
`work.reject`, `payment.record`, `contract.cancel`; bodies as in docs/contracts.md). The
worker's own steps (signing the offer, submitting work, confirming a payment) are the
worker's signed statements, sent to `POST /api/v1/statements`, not lead commands.
"""

from __future__ import annotations

from typing import Any

import click

from contracts.money import Money
from node.cli.lead import DEADLINE, MILESTONE, MONEY, Lead, api_command, milestones_body
from node.cli.output import echo_fields, echo_table, money_text
from node.errors import UsageError

__all__ = ["contract_group"]

_milestone_option = click.option(
    "--milestone",
    "milestone",
    type=click.IntRange(0),
    default=None,
    help="The milestone's index (leave out for a contract without milestones).",
)


@click.group("contract")
def contract_group() -> None:
    """Contracts with workers: offer, accept, reject, pay, cancel, list, show."""


@contract_group.command("offer")
@click.argument("task_id")
@click.argument("worker")
@click.option("--reward", type=MONEY, help="The reward (default: the task's, with its milestones).")
@click.option(
    "--deadline", type=DEADLINE, help='"2026-12-09T12:00:00Z" or "10d" (default: the task\'s).'
)
@click.option(
    "--milestone",
    "milestones",
    type=MILESTONE,
    multiple=True,
    help='A milestone "Title=100.00" (repeatable; they sum to the reward).',
)
@api_command(write=True)
def offer_command(
    lead: Lead,
    task_id: str,
    worker: str,
    reward: Money | None,
    deadline: str | None,
    milestones: tuple[tuple[str, str], ...],
) -> None:
    """Offer WORKER (a party id) a contract for TASK_ID (a `contract.offer` entry)."""
    body: dict[str, Any] = {"task": task_id, "worker": worker}
    task: dict[str, Any] = {}
    if reward is None or deadline is None:
        task = lead.get(f"/tasks/{task_id}")
    if reward is None:
        if milestones:
            raise UsageError("give --reward with --milestone (the milestones sum to it)")
        body["reward"] = task["reward"]
        if task.get("milestones"):
            body["milestones"] = task["milestones"]
    else:
        body["reward"] = reward.to_dict()
        parts = milestones_body(milestones, reward)
        if parts is not None:
            body["milestones"] = parts
    body["deadline"] = deadline or task["deadline"]
    lead.record("contract.offer", body)


@contract_group.command("accept")
@click.argument("contract_id")
@_milestone_option
@click.option("--rating", type=click.IntRange(1, 5), required=True, help="1 to 5 stars.")
@click.option("--feedback", required=True, help="A sentence for the worker.")
@click.option("--bonus", type=MONEY, help='A bonus on top, like "20.00 EUR".')
@api_command(write=True)
def accept_command(
    lead: Lead,
    contract_id: str,
    milestone: int | None,
    rating: int,
    feedback: str,
    bonus: Money | None,
) -> None:
    """Accept submitted work (a `work.accept` entry)."""
    body: dict[str, Any] = {
        "contract": contract_id,
        "milestone": milestone,
        "rating": rating,
        "feedback": feedback,
    }
    if bonus is not None:
        body["bonus"] = bonus.to_dict()
    lead.record("work.accept", body)


@contract_group.command("reject")
@click.argument("contract_id")
@_milestone_option
@click.option("--feedback", required=True, help="What to change before submitting again.")
@api_command(write=True)
def reject_command(lead: Lead, contract_id: str, milestone: int | None, feedback: str) -> None:
    """Reject submitted work; the worker may submit again (a `work.reject` entry)."""
    body = {"contract": contract_id, "milestone": milestone, "feedback": feedback}
    lead.record("work.reject", body)


@contract_group.command("pay")
@click.argument("contract_id")
@_milestone_option
@click.option("--amount", type=MONEY, help="The amount paid (default: what is due).")
@api_command(write=True)
def pay_command(lead: Lead, contract_id: str, milestone: int | None, amount: Money | None) -> None:
    """Record the payment of accepted work (a `payment.record` entry).

    The default amount is what the part earned: its amount plus any bonus.
    """
    if amount is None:
        amount = _due(lead.get(f"/contracts/{contract_id}"), milestone)
    body = {"contract": contract_id, "milestone": milestone, "amount": amount.to_dict()}
    lead.record("payment.record", body)


def _due(contract: dict[str, Any], milestone: int | None) -> Money:
    parts = contract["parts"]
    index = 0 if milestone is None else milestone
    if milestone is None and contract.get("milestones"):
        raise UsageError(f"contract {contract['id']} has milestones: give --milestone N")
    if index >= len(parts):
        raise UsageError(f"contract {contract['id']} has no milestone {index}")
    part = parts[index]
    due = Money.from_dict(part["amount"])
    if part.get("bonus"):
        due = due + Money.from_dict(part["bonus"])
    return due


@contract_group.command("cancel")
@click.argument("contract_id")
@click.option("--reason", required=True, help="Why, for the worker and the record.")
@api_command(write=True)
def cancel_command(lead: Lead, contract_id: str, reason: str) -> None:
    """Cancel a contract before any work is submitted (a `contract.cancel` entry)."""
    lead.record("contract.cancel", {"contract": contract_id, "reason": reason})


@contract_group.command("list")
@click.option("--worker", help="Only this worker's contracts (party id).")
@click.option("--task", help="Only contracts for this task.")
@click.option("--stage", help="Only contracts at this stage (offered, signed, paid, ...).")
@click.option("--log", help="Only contracts of this log.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@api_command()
def list_command(
    lead: Lead,
    worker: str | None,
    task: str | None,
    stage: str | None,
    log: str | None,
    limit: int,
) -> None:
    """List contracts, newest first."""
    page = lead.get("/contracts", worker=worker, task=task, stage=stage, log=log, limit=limit)
    rows = [(c["id"], c["stage"], c["worker"], c["reward"], c["deadline"]) for c in page["items"]]
    lead.table(page, ("ID", "STAGE", "WORKER", "REWARD", "DEADLINE"), rows, empty="no contracts")


@contract_group.command("show")
@click.argument("contract_id")
@api_command()
def show_command(lead: Lead, contract_id: str) -> None:
    """Show a contract: its terms, stage and parts (milestones)."""
    lead.show_or(lead.get(f"/contracts/{contract_id}"), _show_contract)


def _show_contract(contract: dict[str, Any]) -> None:
    echo_fields(
        [
            ("contract", contract["id"]),
            ("task", contract["task"]),
            ("worker", contract["worker"]),
            ("engagement", contract.get("engagement")),
            ("stage", contract["stage"]),
            ("reward", contract["reward"]),
            ("deadline", contract["deadline"]),
            ("offered", contract["offered_at"]),
            ("signed", contract.get("signed_at")),
            ("completed", contract.get("completed_at")),
        ]
    )
    click.echo("parts:")
    echo_table(
        ("#", "TITLE", "AMOUNT", "BONUS", "STATUS", "RATING", "PAYMENT"),
        [
            (
                n,
                p["title"],
                money_text(p["amount"]),
                money_text(p.get("bonus")),
                p["status"],
                p.get("rating"),
                p.get("payment"),
            )
            for n, p in enumerate(contract["parts"])
        ],
        empty="",
    )

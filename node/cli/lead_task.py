"""`rdh task ...`: publish, list, show, close, expire a task and list its candidates.

Each write records one entry of the node's log through `POST /api/v1/entries` (admin
token); reads use the node's marketplace (`GET /api/v1/tasks...`). Bodies follow
docs/contracts.md (`task.publish`, `task.close`, `task.expire`).
"""

from __future__ import annotations

from typing import Any

import click

from contracts.money import Money
from contracts.schemas import ENGAGEMENTS
from node.cli.lead import (
    DEADLINE,
    MILESTONE,
    MONEY,
    Lead,
    api_command,
    milestones_body,
)
from node.cli.output import echo_fields, echo_table, money_text, rating_text

__all__ = ["task_group"]


@click.group("task")
def task_group() -> None:
    """Tasks of the community: publish, list, show, close, expire, candidates."""


@task_group.command("publish")
@click.option("--title", required=True, help="A short title.")
@click.option("--description", default="", help="What is to be done.")
@click.option("--skill", "skills", multiple=True, help="A skill it needs (repeatable).")
@click.option("--reward", type=MONEY, required=True, help='The reward, like "250.00 EUR".')
@click.option(
    "--deadline", type=DEADLINE, required=True, help='"2026-12-09T12:00:00Z", or "14d" from now.'
)
@click.option("--slots", type=click.IntRange(1, 10_000), default=1, show_default=True)
@click.option(
    "--engagement",
    "engagements",
    type=click.Choice(ENGAGEMENTS),
    multiple=True,
    help="An engagement allowed to take it (repeatable; default: all six).",
)
@click.option(
    "--executor", type=click.Choice(["human", "agent", "any"]), default="any", show_default=True
)
@click.option(
    "--claim-mode", type=click.Choice(["offer", "open"]), default="offer", show_default=True
)
@click.option(
    "--milestone",
    "milestones",
    type=MILESTONE,
    multiple=True,
    help='A milestone "Title=100.00" (repeatable, in order; they sum to the reward).',
)
@api_command(write=True)
def publish_command(
    lead: Lead,
    title: str,
    description: str,
    skills: tuple[str, ...],
    reward: Money,
    deadline: str,
    slots: int,
    engagements: tuple[str, ...],
    executor: str,
    claim_mode: str,
    milestones: tuple[tuple[str, str], ...],
) -> None:
    """Publish a task (a `task.publish` entry)."""
    body: dict[str, Any] = {
        "title": title,
        "description": description,
        "skills": list(dict.fromkeys(skills)),
        "reward": reward.to_dict(),
        "deadline": deadline,
        "slots": slots,
        "engagements": list(dict.fromkeys(engagements or ENGAGEMENTS)),
        "executor": executor,
        "claim_mode": claim_mode,
    }
    parts = milestones_body(milestones, reward)
    if parts is not None:
        body["milestones"] = parts
    lead.record("task.publish", body)


@task_group.command("list")
@click.option("--status", type=click.Choice(["open", "closed", "expired"]))
@click.option("--skill", help="Only tasks that need this skill.")
@click.option("--engagement", type=click.Choice(ENGAGEMENTS))
@click.option("--log", help="Only tasks of this log (default: every log the node stores).")
@click.option("--mine", is_flag=True, help="Only tasks of the node's own log.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@api_command()
def list_command(
    lead: Lead,
    status: str | None,
    skill: str | None,
    engagement: str | None,
    log: str | None,
    mine: bool,
    limit: int,
) -> None:
    """List tasks, newest first."""
    if mine:
        log = lead.own_log()
    page = lead.get(
        "/tasks", status=status, skill=skill, engagement=engagement, log=log, limit=limit
    )
    rows = [
        (t["id"], t["status"], f"{t['slots_left']}/{t['slots']}", t["reward"], t["deadline"],
         t["title"])
        for t in page["items"]
    ]  # fmt: skip
    lead.table(
        page, ("ID", "STATUS", "SLOTS", "REWARD", "DEADLINE", "TITLE"), rows, empty="no tasks"
    )
    if not lead.as_json and page["total"] > len(rows):
        click.echo(f"({len(rows)} of {page['total']}; use --limit)", err=True)


@task_group.command("show")
@click.argument("task_id")
@api_command()
def show_command(lead: Lead, task_id: str) -> None:
    """Show a task, its description and its contracts."""
    lead.show_or(lead.get(f"/tasks/{task_id}"), _show_task)


def _show_task(task: dict[str, Any]) -> None:
    published = task.get("published") or {}
    echo_fields(
        [
            ("task", task["id"]),
            ("title", task["title"]),
            ("community", f"{task['community'] or '-'} ({task['log']})"),
            ("status", task["status"]),
            ("published", task["time"]),
            ("deadline", task["deadline"]),
            ("reward", task["reward"]),
            ("slots", f"{task['slots_left']} of {task['slots']} free"),
            ("skills", task["skills"]),
            ("engagements", task["engagements"]),
            ("executor", task["executor"]),
            ("claim mode", task["claim_mode"]),
            ("applicants", task["applicants"]),
            ("description", published.get("description")),
        ]
    )
    for n, milestone in enumerate(task.get("milestones") or []):
        click.echo(f"milestone {n}  {milestone['title']}: {money_text(milestone['amount'])}")
    if task["contracts"]:
        click.echo("contracts:")
        echo_table(
            ("ID", "STAGE", "WORKER", "REWARD"),
            [(c["id"], c["stage"], c["worker"], c["reward"]) for c in task["contracts"]],
            empty="",
        )


@task_group.command("close")
@click.argument("task_id")
@api_command(write=True)
def close_command(lead: Lead, task_id: str) -> None:
    """Close an open task (a `task.close` entry)."""
    lead.record("task.close", {"task": task_id})


@task_group.command("expire")
@click.argument("task_id")
@api_command(write=True)
def expire_command(lead: Lead, task_id: str) -> None:
    """Mark an open task whose deadline has passed as expired (a `task.expire` entry)."""
    lead.record("task.expire", {"task": task_id})


@task_group.command("candidates")
@click.argument("task_id")
@api_command()
def candidates_command(lead: Lead, task_id: str) -> None:
    """Workers who applied or hold a skill the task asks for, best first."""
    found = lead.get(f"/tasks/{task_id}/candidates")
    rows = [
        (c["worker"], "yes" if c["applied"] else "no", c["matched"], rating_text(c["rating"]))
        for c in found
    ]
    lead.table(found, ("WORKER", "APPLIED", "SKILLS", "RATING"), rows, empty="no candidates yet")

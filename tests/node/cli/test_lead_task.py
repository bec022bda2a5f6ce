"""`rdh task ...` and `rdh contract ...` against a real node over HTTP: a task from
publication to payment, the errors a lead sees, and `--json`."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from ledger.checkpoint import Checkpoint
from ledger.statement import format_time
from tests.node.cli.conftest import Lead, lines, now
from tests.node.stories import WORKER, enroll_body

WORKER_ID = WORKER.party_id


def publish(lead: Lead, *extra: str, title: str = "Design a lamp") -> str:
    return lead.recorded(
        "task", "publish", "--title", title, "--description", "A desk lamp.",
        "--skill", "cad", "--reward", "250.00 EUR", "--deadline", "14d",
        "--engagement", "freelance", "--engagement", "gig", "--executor", "human", *extra,
    )  # fmt: skip


def apply(lead: Lead, task: str) -> None:
    """The worker enrols and applies for the task."""
    lead.sign(WORKER, "member.enroll", enroll_body(WORKER))
    lead.sign(WORKER, "task.apply", {"task": task, "worker": WORKER_ID, "note": "Keen."})


def signed_contract(lead: Lead, task: str) -> str:
    """The lead offers the contract (the task's reward); the worker signs it."""
    offer = lead.recorded("contract", "offer", task, WORKER_ID, "--deadline", "10d")
    lead.sign(WORKER, "contract.sign", {"offer": offer})
    return offer


def test_a_task_from_publication_to_payment(lead: Lead) -> None:
    task = publish(lead)
    published = lead.get(f"/tasks/{task}")
    assert published["engagements"] == ["freelance", "gig"]
    assert published["reward"] == {"amount": "250.00", "currency": "EUR"}

    listing = lines(lead.ok("task", "list", "--status", "open"))
    assert listing[0].split() == ["ID", "STATUS", "SLOTS", "REWARD", "DEADLINE", "TITLE"]
    assert listing[1].startswith(f"{task}  open    1/1    250.00 EUR")
    assert listing[1].endswith("Design a lamp")
    assert "no tasks" in lead.run("task", "list", "--status", "closed").stderr
    shown = lead.ok("task", "show", task)
    assert "title        Design a lamp" in shown
    assert "description  A desk lamp." in shown

    apply(lead, task)
    candidates = lines(lead.ok("task", "candidates", task))
    assert candidates == [
        "WORKER                                                            APPLIED  SKILLS  RATING",
        f"{WORKER_ID}  yes      -       -",
    ]
    offer = signed_contract(lead, task)
    lead.sign(WORKER, "work.submit", {"contract": offer, "milestone": None, "uri": "https://x/1"})
    assert lead.get(f"/contracts/{offer}")["stage"] == "submitted"

    lead.recorded(
        "contract", "accept", offer, "--rating", "5", "--feedback", "Lovely.",
        "--bonus", "20.00 EUR",
    )  # fmt: skip
    payment = lead.recorded("contract", "pay", offer)  # due: reward + bonus
    paid = lead.get(f"/entries/{payment}")["entry"]["body"]
    assert paid == {
        "contract": offer,
        "milestone": None,
        "amount": {"amount": "270.00", "currency": "EUR"},
    }
    contract = lead.ok("contract", "show", offer)
    assert "stage       paid" in contract
    assert f"0  Design a lamp  250.00 EUR  20.00 EUR  paid    5       {payment}" in contract
    assert offer in lead.ok("contract", "list", "--worker", WORKER_ID, "--stage", "paid")

    lead.recorded("task", "close", task)
    assert lead.get(f"/tasks/{task}")["status"] == "closed"
    members = lead.ok("member", "list")
    assert f"{WORKER_ID}  freelance" in members
    portfolio = lead.ok("member", "show", WORKER_ID)
    assert "EUR: earned 270.00 EUR, paid 270.00 EUR" in portfolio


def test_milestones_are_accepted_and_paid_one_by_one(lead: Lead) -> None:
    task = publish(lead, "--milestone", "Sketches=100.00", "--milestone", "Model=150.00 EUR")
    apply(lead, task)
    offer = signed_contract(lead, task)  # the offer takes the task's reward and milestones
    assert [p["amount"]["amount"] for p in lead.get(f"/contracts/{offer}")["parts"]] == [
        "100.00",
        "150.00",
    ]
    lead.sign(WORKER, "work.submit", {"contract": offer, "milestone": 1, "uri": "https://x/m"})
    lead.recorded("contract", "reject", offer, "--milestone", "1", "--feedback", "Rounder.")
    assert lead.get(f"/contracts/{offer}")["parts"][1]["status"] == "rejected"
    lead.sign(WORKER, "work.submit", {"contract": offer, "milestone": 1, "uri": "https://x/n"})
    lead.recorded(
        "contract", "accept", offer, "--milestone", "1", "--rating", "4", "--feedback", "Good."
    )
    no_part = lead.run("contract", "pay", offer)
    assert no_part.exit_code == 2
    assert "has milestones: give --milestone N" in no_part.stderr
    payment = lead.recorded("contract", "pay", offer, "--milestone", "1")
    assert lead.get(f"/entries/{payment}")["entry"]["body"]["amount"]["amount"] == "150.00"


def test_an_offer_is_cancelled(lead: Lead) -> None:
    task = publish(lead)
    lead.sign(WORKER, "member.enroll", enroll_body(WORKER))
    offer = lead.recorded(
        "contract", "offer", task, WORKER_ID, "--reward", "300.00 EUR", "--deadline", "5d"
    )
    assert lead.get(f"/contracts/{offer}")["reward"]["amount"] == "300.00"
    lead.recorded("contract", "cancel", offer, "--reason", "Plans changed.")
    assert lead.get(f"/contracts/{offer}")["status"] == "cancelled"


def test_a_rule_violation_names_the_rule_and_stores_nothing(lead: Lead) -> None:
    before = lead.entry_count()
    result = lead.run(
        "task", "publish", "--title", "Late", "--reward", "250.00 EUR",
        "--deadline", "2020-01-01T00:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("rdh: error: ")
    assert result.stderr.rstrip().endswith("(rule task.publish.deadline)")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output
    assert lead.entry_count() == before


def test_unknown_objects_are_one_line_errors(lead: Lead) -> None:
    result = lead.run("task", "show", "0" * 64)
    assert result.exit_code == 2
    assert result.stderr == f"rdh: error: no task {'0' * 64} is known to this node.\n"
    closed = lead.run("task", "close", "0" * 64)
    assert closed.exit_code == 2
    assert "(rule " in closed.stderr


BAD_INPUTS = {
    "amount without decimals": (["--reward", "250 EUR"], "'250' is not a valid EUR amount"),
    "no currency": (["--reward", "250.00"], "like '250.00 EUR'"),
    "lower-case currency": (["--reward", "250.00 eur"], "Write currency codes in capitals"),
    "unknown currency": (["--reward", "250.00 XYZ"], "not an ISO 4217 currency code"),
    "three decimals": (["--reward", "250.000 EUR"], "exactly 2 decimal places"),
    "negative": (["--reward", "-250.00 EUR"], "negative"),
    "bad deadline": (["--deadline", "tomorrow"], "neither a time"),
    "milestones short of the reward": (
        ["--milestone", "A=100.00", "--milestone", "B=100.00"],
        "the milestones sum to 200.00 EUR, not the reward 250.00 EUR",
    ),
    "milestone in another currency": (["--milestone", "A=250.00 USD"], "must be in EUR"),
    "milestone amount": (["--milestone", "A=1,5"], "'1,5' is not a valid EUR amount"),
    "milestone form": (["--milestone", "Sketches"], "is not a milestone like"),
}


@pytest.mark.parametrize(("extra", "message"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_refused_before_any_request(
    lead: Lead, extra: list[str], message: str
) -> None:
    before = lead.entry_count()
    options = {"--title": "Lamp", "--reward": "250.00 EUR", "--deadline": "14d"}
    for name in extra[::2]:
        options.pop(name, None)
    args = [x for pair in options.items() for x in pair]
    # a node that is not there: a request would fail with "cannot reach"
    result = lead.run("task", "publish", *args, *extra, env={"RDH_NODE_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 2
    assert message in result.stderr
    assert "cannot reach" not in result.stderr
    assert lead.entry_count() == before


def test_json_prints_the_nodes_answer(lead: Lead) -> None:
    task = publish(lead)
    written = json.loads(lead.ok("task", "close", task, "--json"))
    assert written["entries"][0]["type"] == "task.close"
    assert Checkpoint.from_note(written["checkpoint"].encode()).size == lead.entry_count()
    listing = json.loads(lead.ok("task", "list", "--json"))
    assert listing["total"] == 1
    assert listing["items"][0]["id"] == task
    assert json.loads(lead.ok("task", "show", task, "--json"))["status"] == "closed"
    assert json.loads(lead.ok("task", "candidates", task, "--json")) == []
    assert json.loads(lead.ok("contract", "list", "--json"))["items"] == []


def test_mine_lists_only_the_nodes_own_tasks(lead: Lead) -> None:
    task = publish(lead)
    assert task in lead.ok("task", "list", "--mine")
    other = lead.run("task", "list", "--log", "a" * 64)
    assert other.exit_code == 0
    assert task not in other.stdout


def test_a_task_expires_only_after_its_deadline(lead: Lead) -> None:
    deadline = format_time(now() + timedelta(seconds=2))
    task = lead.recorded(
        "task", "publish", "--title", "Quick", "--reward", "5.00 EUR", "--deadline", deadline
    )
    early = lead.run("task", "expire", task)
    assert early.exit_code == 2
    assert early.stderr.rstrip().endswith("(rule task.expire.early)")
    time.sleep(2.5)
    lead.recorded("task", "expire", task)
    assert lead.get(f"/tasks/{task}")["status"] == "expired"

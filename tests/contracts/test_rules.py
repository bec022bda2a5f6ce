"""Table-driven rule tests: one base ledger, then one candidate entry per case.

Each violation case names the rule it must break (and breaks nothing else); each valid
case must apply cleanly on top of the same base.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from contracts.fold import Fold
from ledger.entry import Entry
from tests.contracts.helpers import (
    Community,
    at,
    eur,
    fold_all,
    key,
    pid,
    share_setup,
    task_body,
)

AMARA, LIN, BOT, PRIYA = (key(f"worker/{n}") for n in ("amara", "lin", "bot", "priya"))
DEADLINE = at(20)


@dataclass
class Base:
    lake: Community
    harbour: Community
    north: Community
    ids: dict[str, str]

    def fold(self) -> Fold:
        return fold_all(self.lake, self.harbour, self.north)


@functools.cache
def base() -> Base:
    lake, harbour, north = Community("Lakeside"), Community("Harbour"), Community("Northgate")
    for c in (lake, harbour, north):
        c.genesis()
    ids: dict[str, str] = {}
    for worker, engagement in ((AMARA, "freelance"), (BOT, "agent"), (PRIYA, "alliance")):
        body = {"worker": pid(worker), "engagement": engagement, "display_name": "W"}
        lake.add("member.enroll", body, signers=[worker])
    ids["t1"] = lake.add("task.publish", task_body())
    ids["t2"] = lake.add(
        "task.publish",
        task_body(slots=3, skills=["cad"], engagements=["freelance", "gig", "agent"]),
    )
    ids["closed"] = lake.add("task.publish", task_body())
    lake.add("task.close", {"task": ids["closed"]})
    lake.add("task.apply", {"task": ids["t1"], "worker": pid(AMARA), "note": ""}, signers=[AMARA])

    def offer(task: str, worker: Any, **extra: Any) -> str:
        body = {"task": task, "worker": pid(worker), "reward": eur("300.00")}
        return lake.add("contract.offer", {**body, "deadline": DEADLINE, **extra})

    def submit(contract: str, worker: Any) -> None:
        body = {"contract": contract, "milestone": None, "uri": "https://w.example/"}
        lake.add("work.submit", body, signers=[worker])

    def accept(contract: str) -> None:
        body = {"contract": contract, "milestone": None, "rating": 4, "feedback": ""}
        lake.add("work.accept", body)

    ids["c1"] = offer(ids["t1"], AMARA)  # signed and submitted
    lake.add("contract.sign", {"offer": ids["c1"]}, signers=[AMARA])
    submit(ids["c1"], AMARA)
    ids["c2"] = offer(ids["t2"], LIN)  # offered only
    ids["c3"] = offer(ids["t2"], AMARA)  # accepted, unpaid
    lake.add("contract.sign", {"offer": ids["c3"]}, signers=[AMARA])
    submit(ids["c3"], AMARA)
    accept(ids["c3"])
    t4 = lake.add("task.publish", task_body())
    ids["c4"] = offer(t4, AMARA)  # paid and confirmed
    lake.add("contract.sign", {"offer": ids["c4"]}, signers=[AMARA])
    submit(ids["c4"], AMARA)
    accept(ids["c4"])
    pay = {"contract": ids["c4"], "milestone": None, "amount": eur("300.00")}
    ids["p4"] = lake.add("payment.record", pay)
    lake.add("payment.confirm", {"payment": ids["p4"]}, signers=[AMARA])
    ids["c5"] = offer(lake.add("task.publish", task_body()), LIN)  # signed
    lake.add("contract.sign", {"offer": ids["c5"]}, signers=[LIN])
    lake.add("skill.attest", {"worker": pid(AMARA), "skill": "cad", "evidence": [ids["c4"]]})
    ids["proposal"] = lake.add("share.propose", share_body(lake, harbour))
    ids["agreement"] = lake.add(
        "share.activate", {"proposal": ids["proposal"]}, signers=[lake.key, harbour.key]
    )
    ids["r1"] = harbour.add("share.revenue", revenue_body(ids["agreement"]))
    ids["r2"] = harbour.add("share.revenue", revenue_body(ids["agreement"], period="2026-12"))
    b = Base(lake, harbour, north, ids)
    ids["s1"] = lake.add("share.settle", settle_body(b, period="2026-11", revenue=[ids["r1"]]))
    payout = {"settlement": ids["s1"], "party": harbour.id, "amount": eur("50.00")}
    ids["p-harbour"] = lake.add("payment.record", payout)
    ended = lake.add("share.propose", share_body(lake, harbour))
    ids["ended"] = lake.add("share.activate", {"proposal": ended}, signers=[lake.key, harbour.key])
    lake.add("share.terminate", {"agreement": ids["ended"]}, signers=[lake.key, harbour.key])
    ids["c6"] = offer(lake.add("task.publish", task_body()), LIN)  # cancelled
    lake.add("contract.cancel", {"contract": ids["c6"], "reason": "gone"})
    return b


def share_body(a: Community, b: Community, **overrides: Any) -> dict[str, Any]:
    body = {
        "parties": [a.id, b.id],
        "currency": "EUR",
        "basis": "revenue",
        "period": "monthly",
        "tiers": [{"up_to": None, "weights": [5000, 5000]}],
    }
    body.update(overrides)
    return body


def revenue_body(agreement: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "agreement": agreement,
        "period": "2026-11",
        "revenue": eur("100.01"),
        "costs": eur("0.00"),
    }
    body.update(overrides)
    return body


def settle_body(b: Base, **overrides: Any) -> dict[str, Any]:
    body = {
        "agreement": b.ids["agreement"],
        "period": "2026-12",
        "revenue": [b.ids["r2"]],
        "basis_amount": eur("100.01"),
        "payouts": [
            {"party": b.lake.id, "amount": eur("50.01")},
            {"party": b.harbour.id, "amount": eur("50.00")},
        ],
    }
    body.update(overrides)
    return body


def sub(b: Base, contract: str, **extra: Any) -> dict[str, Any]:
    return {"contract": b.ids[contract], "milestone": None, "uri": "https://w.example/", **extra}


Case = Callable[[Base], Entry]

VALID: dict[str, Case] = {
    "apply": lambda b: b.lake.make(
        "task.apply", {"task": b.ids["t2"], "worker": pid(LIN), "note": "hi"}, signers=[LIN]
    ),
    "sign offer": lambda b: b.lake.make("contract.sign", {"offer": b.ids["c2"]}, signers=[LIN]),
    "cancel offer": lambda b: b.lake.make(
        "contract.cancel", {"contract": b.ids["c2"], "reason": "no"}
    ),
    "cancel submitted with worker": lambda b: b.lake.make(
        "contract.cancel", {"contract": b.ids["c1"], "reason": "both agree"}, signers=[AMARA]
    ),
    "reject": lambda b: b.lake.make(
        "work.reject", {"contract": b.ids["c1"], "milestone": None, "feedback": "redo"}
    ),
    "pay accepted": lambda b: b.lake.make(
        "payment.record", {"contract": b.ids["c3"], "milestone": None, "amount": eur("300.00")}
    ),
    "expire at deadline": lambda b: b.lake.make("task.expire", {"task": b.ids["t1"]}, time=at(30)),
    "revenue by proposer": lambda b: b.lake.make("share.revenue", revenue_body(b.ids["agreement"])),
    "settle": lambda b: b.lake.make("share.settle", settle_body(b)),
    "terminate": lambda b: b.lake.make(
        "share.terminate", {"agreement": b.ids["agreement"]}, signers=[b.harbour.key, b.lake.key]
    ),
    "follow": lambda b: b.lake.make("log.follow", {"log": b.north.id, "relation": "follow"}),
}

VIOLATIONS: dict[str, tuple[str, Case]] = {
    # shared checks
    "unknown type": ("schema.type", lambda b: b.lake.make("task.delete", {"task": b.ids["t1"]})),
    "unknown field": (
        "schema.task.close",
        lambda b: b.lake.make("task.close", {"task": b.ids["t1"], "why": "x"}),
    ),
    "missing field": ("schema.member.leave", lambda b: b.lake.make("member.leave", {})),
    "refs missing": (
        "refs.missing",
        lambda b: b.lake.make("task.close", {"task": b.ids["t1"]}, refs=[]),
    ),
    "seq gap": ("log.seq", lambda b: b.lake.make("task.close", {"task": b.ids["t1"]}, seq=99)),
    "first entry not genesis": (
        "log.genesis.first",
        lambda b: Community("Newcomer").make(
            "log.follow", {"log": b.lake.id, "relation": "follow"}
        ),
    ),
    "statement on a node-only type": (
        "task.close.consent",
        lambda b: b.lake.make("task.close", {"task": b.ids["t1"]}, signers=[AMARA]),
    ),
    # log
    "second genesis": ("log.genesis.seq", lambda b: _genesis(b.lake, b.lake)),
    "genesis of another key": ("log.genesis.key", lambda b: _genesis(Community("X"), b.lake)),
    "follow self": (
        "log.follow.self",
        lambda b: b.lake.make("log.follow", {"log": b.lake.id, "relation": "follow"}),
    ),
    # membership
    "enroll unsigned": (
        "member.enroll.consent",
        lambda b: b.lake.make(
            "member.enroll", {"worker": pid(LIN), "engagement": "gig", "display_name": "L"}
        ),
    ),
    "enroll signed by another": (
        "member.enroll.consent",
        lambda b: b.lake.make(
            "member.enroll",
            {"worker": pid(LIN), "engagement": "gig", "display_name": "L"},
            signers=[AMARA],
        ),
    ),
    "statement over another body": (
        "member.enroll.consent",
        lambda b: b.lake.make(
            "member.enroll",
            {"worker": pid(LIN), "engagement": "gig", "display_name": "L"},
            signers=[LIN],
            statement_body={"worker": pid(LIN), "engagement": "employee", "display_name": "L"},
        ),
    ),
    "statement of another type": (
        "member.leave.consent",
        lambda b: b.lake.make(
            "member.leave", {"worker": pid(AMARA)}, signers=[AMARA], statement_type="task.apply"
        ),
    ),
    "enroll twice": (
        "member.enroll.twice",
        lambda b: b.lake.make(
            "member.enroll",
            {"worker": pid(AMARA), "engagement": "gig", "display_name": "A"},
            signers=[AMARA],
        ),
    ),
    "leave when not a member": (
        "member.leave.unknown",
        lambda b: b.lake.make("member.leave", {"worker": pid(LIN)}, signers=[LIN]),
    ),
    # task
    "milestones short of reward": (
        "task.publish.milestones",
        lambda b: b.lake.make(
            "task.publish", task_body(milestones=[{"title": "a", "amount": eur("299.99")}])
        ),
    ),
    "milestones in another currency": (
        "task.publish.milestones",
        lambda b: b.lake.make(
            "task.publish",
            task_body(
                milestones=[{"title": "a", "amount": {"amount": "300.00", "currency": "USD"}}]
            ),
        ),
    ),
    "deadline in the past": (
        "task.publish.deadline",
        lambda b: b.lake.make("task.publish", task_body(deadline="2026-01-01T00:00:00Z")),
    ),
    "zero slots": (
        "schema.task.publish",
        lambda b: b.lake.make("task.publish", task_body(slots=0)),
    ),
    "float-like reward": (
        "schema.task.publish",
        lambda b: b.lake.make("task.publish", task_body(reward=eur("300.0"))),
    ),
    "close a non-task": (
        "task.close.task",
        lambda b: b.lake.make("task.close", {"task": b.ids["c1"]}),
    ),
    "close twice": (
        "task.close.status",
        lambda b: b.lake.make("task.close", {"task": b.ids["closed"]}),
    ),
    "close another log's task": (
        "task.close.owner",
        lambda b: b.harbour.make("task.close", {"task": b.ids["t1"]}),
    ),
    "expire early": (
        "task.expire.early",
        lambda b: b.lake.make("task.expire", {"task": b.ids["t1"]}),
    ),
    "apply twice": (
        "task.apply.twice",
        lambda b: b.lake.make(
            "task.apply", {"task": b.ids["t1"], "worker": pid(AMARA), "note": ""}, signers=[AMARA]
        ),
    ),
    "apply after deadline": (
        "task.apply.deadline",
        lambda b: b.lake.make(
            "task.apply",
            {"task": b.ids["t2"], "worker": pid(LIN), "note": ""},
            signers=[LIN],
            time=at(31),
        ),
    ),
    "apply to a closed task": (
        "task.apply.status",
        lambda b: b.lake.make(
            "task.apply", {"task": b.ids["closed"], "worker": pid(LIN), "note": ""}, signers=[LIN]
        ),
    ),
    "agent applies to a human task": (
        "task.apply.executor",
        lambda b: b.lake.make(
            "task.apply", {"task": b.ids["t2"], "worker": pid(BOT), "note": ""}, signers=[BOT]
        ),
    ),
    "engagement not allowed": (
        "task.apply.engagement",
        lambda b: b.lake.make(
            "task.apply", {"task": b.ids["t2"], "worker": pid(PRIYA), "note": ""}, signers=[PRIYA]
        ),
    ),
    # contract
    "offer beyond slots": (
        "contract.offer.slots",
        lambda b: b.lake.make(
            "contract.offer",
            {"task": b.ids["t1"], "worker": pid(LIN), "reward": eur("1.00"), "deadline": DEADLINE},
        ),
    ),
    "second live contract": (
        "contract.offer.twice",
        lambda b: b.lake.make(
            "contract.offer",
            {"task": b.ids["t2"], "worker": pid(LIN), "reward": eur("1.00"), "deadline": DEADLINE},
        ),
    ),
    "offer in another currency": (
        "contract.offer.currency",
        lambda b: b.lake.make(
            "contract.offer",
            {
                "task": b.ids["t2"],
                "worker": pid(PRIYA),
                "reward": {"amount": "1.00", "currency": "USD"},
                "deadline": DEADLINE,
            },
        ),
    ),
    "offer on a closed task": (
        "contract.offer.status",
        lambda b: b.lake.make(
            "contract.offer",
            {
                "task": b.ids["closed"],
                "worker": pid(LIN),
                "reward": eur("1.00"),
                "deadline": DEADLINE,
            },
        ),
    ),
    "sign by someone else": (
        "contract.sign.consent",
        lambda b: b.lake.make("contract.sign", {"offer": b.ids["c2"]}, signers=[AMARA]),
    ),
    "sign twice": (
        "contract.sign.status",
        lambda b: b.lake.make("contract.sign", {"offer": b.ids["c1"]}, signers=[AMARA]),
    ),
    "sign after offer deadline": (
        "contract.sign.late",
        lambda b: b.lake.make("contract.sign", {"offer": b.ids["c2"]}, signers=[LIN], time=at(25)),
    ),
    "claim an offer-only task": (
        "contract.sign.mode",
        lambda b: b.lake.make(
            "contract.sign", {"task": b.ids["t2"], "worker": pid(LIN)}, signers=[LIN]
        ),
    ),
    "sign with both forms": (
        "schema.contract.sign",
        lambda b: b.lake.make(
            "contract.sign", {"offer": b.ids["c2"], "task": b.ids["t2"]}, signers=[LIN]
        ),
    ),
    "cancel after submission alone": (
        "contract.cancel.submitted",
        lambda b: b.lake.make("contract.cancel", {"contract": b.ids["c1"], "reason": ""}),
    ),
    "cancel after payment": (
        "contract.cancel.paid",
        lambda b: b.lake.make(
            "contract.cancel", {"contract": b.ids["c4"], "reason": ""}, signers=[AMARA]
        ),
    ),
    "submit for someone else": (
        "work.submit.consent",
        lambda b: b.lake.make("work.submit", sub(b, "c3"), signers=[LIN]),
    ),
    "submit twice": (
        "work.submit.status",
        lambda b: b.lake.make("work.submit", sub(b, "c1"), signers=[AMARA]),
    ),
    "submit unsigned": (
        "work.submit.status",
        lambda b: b.lake.make("work.submit", sub(b, "c2"), signers=[LIN]),
    ),
    "submit nothing": (
        "work.submit.deliverable",
        lambda b: b.lake.make(
            "work.submit",
            {"contract": b.ids["c5"], "milestone": None},
            signers=[LIN],
        ),
    ),
    "no such milestone": (
        "work.accept.milestone",
        lambda b: b.lake.make(
            "work.accept", {"contract": b.ids["c1"], "milestone": 0, "rating": 3, "feedback": ""}
        ),
    ),
    "rating out of range": (
        "schema.work.accept",
        lambda b: b.lake.make(
            "work.accept", {"contract": b.ids["c1"], "milestone": None, "rating": 6, "feedback": ""}
        ),
    ),
    "bonus in another currency": (
        "work.accept.bonus",
        lambda b: b.lake.make(
            "work.accept",
            {
                "contract": b.ids["c1"],
                "milestone": None,
                "rating": 3,
                "feedback": "",
                "bonus": {"amount": "1.00", "currency": "USD"},
            },
        ),
    ),
    "bonus beyond the largest amount": (
        "work.accept.bonus",
        lambda b: b.lake.make(
            "work.accept",
            {
                "contract": b.ids["c1"],
                "milestone": None,
                "rating": 3,
                "feedback": "",
                "bonus": eur("90071992547409.91"),
            },
        ),
    ),
    "reject accepted work": (
        "work.reject.status",
        lambda b: b.lake.make(
            "work.reject", {"contract": b.ids["c3"], "milestone": None, "feedback": ""}
        ),
    ),
    "pay the wrong amount": (
        "payment.record.amount",
        lambda b: b.lake.make(
            "payment.record", {"contract": b.ids["c3"], "milestone": None, "amount": eur("299.99")}
        ),
    ),
    "pay unaccepted work": (
        "payment.record.status",
        lambda b: b.lake.make(
            "payment.record", {"contract": b.ids["c1"], "milestone": None, "amount": eur("300.00")}
        ),
    ),
    "confirm by someone else": (
        "payment.confirm.consent",
        lambda b: b.lake.make("payment.confirm", {"payment": b.ids["p4"]}, signers=[LIN]),
    ),
    "confirm twice": (
        "payment.confirm.twice",
        lambda b: b.lake.make("payment.confirm", {"payment": b.ids["p4"]}, signers=[AMARA]),
    ),
    "confirm a non-payment": (
        "payment.confirm.payment",
        lambda b: b.lake.make("payment.confirm", {"payment": b.ids["c1"]}, signers=[AMARA]),
    ),
    "confirm another log's payment": (
        "payment.confirm.owner",
        lambda b: b.harbour.make("payment.confirm", {"payment": b.ids["p4"]}, signers=[AMARA]),
    ),
    "cancel another log's contract": (
        "contract.cancel.owner",
        lambda b: b.harbour.make("contract.cancel", {"contract": b.ids["c2"], "reason": ""}),
    ),
    "cancel twice": (
        "contract.cancel.status",
        lambda b: b.lake.make("contract.cancel", {"contract": b.ids["c6"], "reason": ""}),
    ),
    "offer after the task's deadline": (
        "contract.offer.deadline",
        lambda b: b.lake.make(
            "contract.offer",
            {"task": b.ids["t2"], "worker": pid(LIN), "reward": eur("1.00"), "deadline": at(40)},
            time=at(31),
        ),
    ),
    "claim after the task's deadline": (
        "contract.sign.deadline",
        lambda b: b.lake.make(
            "contract.sign", {"task": b.ids["t2"], "worker": pid(LIN)}, signers=[LIN], time=at(31)
        ),
    ),
    "offer ending before it is made": (
        "contract.offer.term",
        lambda b: b.lake.make(
            "contract.offer",
            {
                "task": b.ids["t2"],
                "worker": pid(AMARA),
                "reward": eur("1.00"),
                "deadline": "2026-11-01T00:00:00Z",
            },
        ),
    ),
    "accept work not submitted": (
        "work.accept.status",
        lambda b: b.lake.make(
            "work.accept", {"contract": b.ids["c5"], "milestone": None, "rating": 3, "feedback": ""}
        ),
    ),
    "submit after the deadline": (
        "work.submit.late",
        lambda b: b.lake.make("work.submit", sub(b, "c5"), signers=[LIN], time=at(21)),
    ),
    "expire a closed task": (
        "task.expire.status",
        lambda b: b.lake.make("task.expire", {"task": b.ids["closed"]}, time=at(30)),
    ),
    "expire a non-task": (
        "task.expire.task",
        lambda b: b.lake.make("task.expire", {"task": b.ids["c1"]}, time=at(30)),
    ),
    # skill
    "attest unaccepted work": (
        "skill.attest.evidence",
        lambda b: b.lake.make(
            "skill.attest", {"worker": pid(AMARA), "skill": "cad", "evidence": [b.ids["c1"]]}
        ),
    ),
    "attest another worker's work": (
        "skill.attest.evidence",
        lambda b: b.lake.make(
            "skill.attest", {"worker": pid(LIN), "skill": "cad", "evidence": [b.ids["c3"]]}
        ),
    ),
    "attest a skill the task did not ask": (
        "skill.attest.skill",
        lambda b: b.lake.make(
            "skill.attest", {"worker": pid(AMARA), "skill": "welding", "evidence": [b.ids["c3"]]}
        ),
    ),
    "attest twice": (
        "skill.attest.twice",
        lambda b: b.lake.make(
            "skill.attest", {"worker": pid(AMARA), "skill": "cad", "evidence": [b.ids["c3"]]}
        ),
    ),
    # share
    "propose without being a party": (
        "share.propose.party",
        lambda b: b.north.make("share.propose", share_body(b.lake, b.harbour)),
    ),
    "weights not summing to 10000": (
        "share.propose.tiers",
        lambda b: b.lake.make(
            "share.propose",
            share_body(b.lake, b.harbour, tiers=[{"up_to": None, "weights": [5000, 4999]}]),
        ),
    ),
    "tier bound not an amount": (
        "share.propose.tiers",
        lambda b: b.lake.make(
            "share.propose",
            share_body(b.lake, b.harbour, tiers=[{"up_to": "10", "weights": [5000, 5000]}]),
        ),
    ),
    "activate without every party": (
        "share.activate.consent",
        lambda b: b.lake.make(
            "share.activate", {"proposal": b.ids["proposal"]}, signers=[b.lake.key]
        ),
    ),
    "activate twice": (
        "share.activate.status",
        lambda b: b.lake.make(
            "share.activate", {"proposal": b.ids["proposal"]}, signers=[b.lake.key, b.harbour.key]
        ),
    ),
    "revenue from a non-party": (
        "share.revenue.party",
        lambda b: b.north.make("share.revenue", revenue_body(b.ids["agreement"])),
    ),
    "revenue for a quarter of a monthly agreement": (
        "share.revenue.period",
        lambda b: b.lake.make("share.revenue", revenue_body(b.ids["agreement"], period="2026-Q4")),
    ),
    "settle a quarter of a monthly agreement": (
        "share.settle.period",
        lambda b: b.lake.make(
            "share.settle", settle_body(b, period="2026-Q4", revenue=[b.ids["r2"]])
        ),
    ),
    "revenue in another currency": (
        "share.revenue.currency",
        lambda b: b.lake.make(
            "share.revenue",
            revenue_body(b.ids["agreement"], costs={"amount": "0.00", "currency": "USD"}),
        ),
    ),
    "revenue citing the proposal": (
        "share.revenue.agreement",
        lambda b: b.lake.make("share.revenue", revenue_body(b.ids["proposal"])),
    ),
    "settle with other payouts": (
        "share.settle.payout",
        lambda b: b.lake.make(
            "share.settle",
            settle_body(
                b,
                payouts=[
                    {"party": b.lake.id, "amount": eur("50.00")},
                    {"party": b.harbour.id, "amount": eur("50.01")},
                ],
            ),
        ),
    ),
    "settle with another basis": (
        "share.settle.basis",
        lambda b: b.lake.make("share.settle", settle_body(b, basis_amount=eur("100.00"))),
    ),
    "settle by a party that did not propose": (
        "share.settle.owner",
        lambda b: b.harbour.make("share.settle", settle_body(b)),
    ),
    "settle revenue of another period": (
        "share.settle.revenue",
        lambda b: b.lake.make("share.settle", settle_body(b, revenue=[b.ids["r1"]])),
    ),
    "settle a settled period": (
        "share.settle.twice",
        lambda b: b.lake.make(
            "share.settle", settle_body(b, period="2026-11", revenue=[b.ids["r1"]])
        ),
    ),
    "settle an ended agreement": (
        "share.settle.status",
        lambda b: b.lake.make("share.settle", settle_body(b, agreement=b.ids["ended"])),
    ),
    "terminate an ended agreement": (
        "share.terminate.status",
        lambda b: b.lake.make(
            "share.terminate", {"agreement": b.ids["ended"]}, signers=[b.lake.key, b.harbour.key]
        ),
    ),
    "activate a non-proposal": (
        "share.activate.proposal",
        lambda b: b.lake.make("share.activate", {"proposal": b.ids["c1"]}, signers=[b.lake.key]),
    ),
    "activate another log's proposal": (
        "share.activate.owner",
        lambda b: b.harbour.make(
            "share.activate", {"proposal": b.ids["proposal"]}, signers=[b.lake.key, b.harbour.key]
        ),
    ),
    "pay a non-payee": (
        "payment.record.party",
        lambda b: b.lake.make(
            "payment.record",
            {"settlement": b.ids["s1"], "party": b.north.id, "amount": eur("1.00")},
        ),
    ),
    "pay a payout twice": (
        "payment.record.twice",
        lambda b: b.lake.make(
            "payment.record",
            {"settlement": b.ids["s1"], "party": b.harbour.id, "amount": eur("50.00")},
        ),
    ),
    "pay a payout with another amount": (
        "payment.record.amount",
        lambda b: b.lake.make(
            "payment.record",
            {"settlement": b.ids["s1"], "party": b.lake.id, "amount": eur("50.00")},
        ),
    ),
    "pay a non-settlement": (
        "payment.record.settlement",
        lambda b: b.lake.make(
            "payment.record", {"settlement": b.ids["c1"], "party": b.lake.id, "amount": eur("1.00")}
        ),
    ),
    "pay another log's settlement": (
        "payment.record.owner",
        lambda b: b.harbour.make(
            "payment.record",
            {"settlement": b.ids["s1"], "party": b.lake.id, "amount": eur("50.01")},
        ),
    ),
    "terminate without every party": (
        "share.terminate.consent",
        lambda b: b.lake.make(
            "share.terminate", {"agreement": b.ids["agreement"]}, signers=[b.lake.key]
        ),
    ),
}


def _genesis(community: Community, key_of: Community) -> Entry:
    return community.make(
        "log.genesis",
        {
            "name": "X",
            "kind": "partner",
            "public_key": key_of.key.public.to_b64(),
            "description": "",
            "url": "",
        },
    )


def test_base_is_valid() -> None:
    b = base()
    result = b.fold()
    assert result.violations == []
    assert result.pending == []
    stages = {
        name: result.state.contracts[b.ids[name]].stage for name in ("c1", "c2", "c3", "c4", "c5")
    }
    assert stages == {
        "c1": "submitted",
        "c2": "offered",
        "c3": "completed",
        "c4": "confirmed",
        "c5": "signed",
    }


@pytest.mark.parametrize("case", VALID.values(), ids=VALID.keys())
def test_valid(case: Case) -> None:
    b = base()
    result = b.fold()
    entry = case(b)
    assert result.apply(entry, entry.id) == []
    assert result.knows(entry.id)


@pytest.mark.parametrize(("rule", "case"), VIOLATIONS.values(), ids=VIOLATIONS.keys())
def test_violation(rule: str, case: Case) -> None:
    b = base()
    result = b.fold()
    before = repr(result.state)
    entry = case(b)
    violations = result.apply(entry, entry.id)
    assert [v.rule for v in violations] == [rule], violations
    assert violations[0].entry_id == entry.id
    assert repr(result.state) == before, "a violating entry must leave no trace"


def test_a_basis_beyond_the_largest_amount_is_a_violation_not_a_crash() -> None:
    lake, harbour, _, agreement = share_setup()
    huge = eur("90071992547409.91")
    body = {"agreement": agreement, "period": "2026-11", "revenue": huge, "costs": eur("0.00")}
    reports = [lake.add("share.revenue", body), harbour.add("share.revenue", body)]
    settle = lake.make(
        "share.settle",
        {
            "agreement": agreement,
            "period": "2026-11",
            "revenue": reports,
            "basis_amount": huge,
            "payouts": [{"party": lake.id, "amount": huge}, {"party": harbour.id, "amount": huge}],
        },
    )
    result = fold_all(lake, harbour)
    assert result.violations == []
    [violation] = result.apply(settle, settle.id)
    assert violation.rule == "share.settle.invalid"


def test_follow_needs_a_valid_genesis() -> None:
    stranger = Community("Stranger")
    stranger.add("log.genesis", _genesis(stranger, base().lake).body)  # another log's key
    stranger.add("log.follow", {"log": base().lake.id, "relation": "follow"})
    result = fold_all(stranger)
    assert [v.rule for v in result.violations] == ["log.genesis.key", "log.follow.genesis"]


@pytest.mark.parametrize(("rule", "case"), VIOLATIONS.values(), ids=VIOLATIONS.keys())
def test_check_refuses_and_records_nothing(rule: str, case: Case) -> None:
    b = base()
    result = b.fold()
    entry = case(b)
    violations = result.check(entry, entry.id)
    assert [v.rule for v in violations] == [rule]
    assert not result.knows(entry.id)
    assert result.violations == []


@pytest.mark.parametrize("case", VALID.values(), ids=VALID.keys())
def test_check_applies_a_valid_entry(case: Case) -> None:
    b = base()
    result = b.fold()
    entry = case(b)
    assert result.check(entry, entry.id) == []
    assert result.knows(entry.id)
    after = b.fold()
    after.apply(entry, entry.id)
    assert result.state == after.state


def test_check_refuses_unknown_refs() -> None:
    b = base()
    result = b.fold()
    entry = b.lake.make("task.close", {"task": b.ids["t1"]}, refs=[b.ids["t1"], "00" * 32])
    [violation] = result.check(entry, entry.id)
    assert violation.rule == "refs.unknown"
    assert result.pending == []

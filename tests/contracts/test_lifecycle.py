"""Worked lifecycles, one per state machine (the examples of docs/contracts.md)."""

from __future__ import annotations

from contracts.fold import Fold
from tests.contracts.helpers import Community, at, eur, fold_all, key, pid, share_setup, task_body


def test_task_and_contract_lifecycle() -> None:
    studio = Community("Lakeside")
    amara = key("worker/amara")
    studio.genesis()
    studio.add(
        "member.enroll",
        {"worker": pid(amara), "engagement": "freelance", "display_name": "Amara"},
        signers=[amara],
    )
    task = studio.add("task.publish", task_body())
    studio.add(
        "task.apply", {"task": task, "worker": pid(amara), "note": "Free in May."}, signers=[amara]
    )
    offer = studio.add(
        "contract.offer",
        {
            "task": task,
            "worker": pid(amara),
            "reward": eur("300.00"),
            "deadline": "2026-11-20T00:00:00Z",
        },
    )
    studio.add("contract.sign", {"offer": offer}, signers=[amara])
    studio.add(
        "work.submit",
        {"contract": offer, "milestone": None, "uri": "https://files.example/lamp"},
        signers=[amara],
    )
    studio.add("work.reject", {"contract": offer, "milestone": None, "feedback": "Too tall."})
    studio.add(
        "work.submit",
        {"contract": offer, "milestone": None, "sha256": "ab" * 32},
        signers=[amara],
    )
    studio.add(
        "work.accept",
        {
            "contract": offer,
            "milestone": None,
            "rating": 5,
            "feedback": "Lovely.",
            "bonus": eur("20.00"),
        },
    )
    paid = studio.add(
        "payment.record", {"contract": offer, "milestone": None, "amount": eur("320.00")}
    )
    studio.add("payment.confirm", {"payment": paid}, signers=[amara])
    studio.add("task.close", {"task": task})
    studio.add("skill.attest", {"worker": pid(amara), "skill": "cad", "evidence": [offer]})

    result = fold_all(studio)
    assert result.violations == []
    state = result.state
    assert state.tasks[task].status == "closed"
    contract = state.contracts[offer]
    assert contract.status == "completed"
    assert contract.stage == "confirmed"
    assert contract.parts[0].status == "confirmed"
    balance = state.balances.of(pid(amara), "EUR")
    assert (balance.earned, balance.paid, balance.confirmed) == (32000, 32000, 32000)
    assert state.ratings[pid(amara)] == {next(iter(state.ratings[pid(amara)])): 5}
    assert set(state.skills[pid(amara)]) == {"cad"}


def test_empty_fold() -> None:
    assert Fold().violations == []


def test_milestones_each_submitted_accepted_and_paid() -> None:
    studio = Community("Lakeside")
    lin = key("worker/lin")
    studio.genesis()
    milestones = [
        {"title": "Sketches", "amount": eur("100.00")},
        {"title": "CAD model", "amount": eur("200.00")},
    ]
    task = studio.add("task.publish", task_body(milestones=milestones))
    offer = studio.add(
        "contract.offer",
        {
            "task": task,
            "worker": pid(lin),
            "reward": eur("300.00"),
            "deadline": "2026-11-20T00:00:00Z",
            "milestones": milestones,
        },
    )
    studio.add("contract.sign", {"offer": offer}, signers=[lin])
    payments = []
    for n, amount in enumerate(("100.00", "200.00")):
        studio.add(
            "work.submit",
            {"contract": offer, "milestone": n, "uri": f"https://files.example/{n}"},
            signers=[lin],
        )
        studio.add(
            "work.accept", {"contract": offer, "milestone": n, "rating": 4, "feedback": "Good."}
        )
        payments.append(
            studio.add("payment.record", {"contract": offer, "milestone": n, "amount": eur(amount)})
        )
    studio.add("payment.confirm", {"payment": payments[0]}, signers=[lin])

    result = fold_all(studio)
    assert result.violations == []
    contract = result.state.contracts[offer]
    assert contract.status == "completed"
    assert [p.status for p in contract.parts] == ["confirmed", "paid"]
    assert contract.stage == "paid"
    balance = result.state.balances.of(pid(lin), "EUR")
    assert (balance.earned, balance.paid, balance.confirmed, balance.owed) == (
        30000,
        30000,
        10000,
        0,
    )


def test_open_task_claimed_directly_up_to_its_slots() -> None:
    studio = Community("Lakeside")
    workers = [key(f"worker/{n}") for n in range(3)]
    studio.genesis()
    task = studio.add("task.publish", task_body(slots=2, claim_mode="open"))
    claims = [
        studio.add("contract.sign", {"task": task, "worker": pid(w)}, signers=[w])
        for w in workers[:2]
    ]
    third = studio.make(
        "contract.sign", {"task": task, "worker": pid(workers[2])}, signers=[workers[2]]
    )
    result = fold_all(studio)
    assert [result.state.contracts[c].status for c in claims] == ["signed", "signed"]
    [violation] = result.apply(third, third.id)
    assert violation.rule == "contract.sign.slots"


def test_cancellation_frees_the_slot() -> None:
    studio = Community("Lakeside")
    amara, lin = key("worker/amara"), key("worker/lin")
    studio.genesis()
    task = studio.add("task.publish", task_body())
    first = studio.add(
        "contract.offer",
        {"task": task, "worker": pid(amara), "reward": eur("300.00"), "deadline": at(20)},
    )
    studio.add("contract.cancel", {"contract": first, "reason": "Amara is unavailable."})
    second = studio.add(
        "contract.offer",
        {"task": task, "worker": pid(lin), "reward": eur("300.00"), "deadline": at(20)},
    )
    studio.add("contract.sign", {"offer": second}, signers=[lin])
    studio.add(
        "work.submit",
        {"contract": second, "milestone": None, "uri": "https://x.example/"},
        signers=[lin],
    )
    studio.add("contract.cancel", {"contract": second, "reason": "Agreed to stop."}, signers=[lin])
    result = fold_all(studio)
    assert result.violations == []
    assert result.state.contracts[first].status == "cancelled"
    assert result.state.contracts[second].status == "cancelled"
    assert result.state.tasks[task].live == 0


def test_task_expires_at_its_deadline() -> None:
    studio = Community("Lakeside")
    studio.genesis()
    task = studio.add("task.publish", task_body(deadline=at(2)))
    early = studio.make("task.expire", {"task": task}, time=at(1))
    result = fold_all(studio)
    [violation] = result.apply(early, early.id)
    assert violation.rule == "task.expire.early"
    studio.add("task.expire", {"task": task}, time=at(2))
    result = fold_all(studio)
    assert result.violations == []
    assert result.state.tasks[task].status == "expired"


def test_membership_enroll_leave_enroll() -> None:
    studio = Community("Lakeside")
    bot = key("worker/quote-bot")
    studio.genesis()
    enroll = {"worker": pid(bot), "engagement": "agent", "display_name": "quote-bot"}
    studio.add("member.enroll", enroll, signers=[bot])
    studio.add("member.leave", {"worker": pid(bot)}, signers=[bot])
    studio.add("member.enroll", {**enroll, "engagement": "project"}, signers=[bot])
    result = fold_all(studio)
    assert result.violations == []
    member = result.state.members[(studio.id, pid(bot))]
    assert (member.engagement, member.active) == ("project", True)


def test_revenue_share_lifecycle() -> None:
    lake, harbour, _, agreement = share_setup()
    mine = lake.add(
        "share.revenue",
        {
            "agreement": agreement,
            "period": "2026-11",
            "revenue": eur("900.00"),
            "costs": eur("100.00"),
        },
    )
    theirs = harbour.add(
        "share.revenue",
        {
            "agreement": agreement,
            "period": "2026-11",
            "revenue": eur("700.00"),
            "costs": eur("99.99"),
        },
    )
    # basis = 1600.00 - 199.99 = 1400.01: 1000.00 split 60/40, 400.01 split 50/50
    settle = lake.add(
        "share.settle",
        {
            "agreement": agreement,
            "period": "2026-11",
            "revenue": [mine, theirs],
            "basis_amount": eur("1400.01"),
            "payouts": [
                {"party": lake.id, "amount": eur("800.01")},
                {"party": harbour.id, "amount": eur("600.00")},
            ],
        },
    )
    paid = lake.add(
        "payment.record", {"settlement": settle, "party": harbour.id, "amount": eur("600.00")}
    )
    lake.add("payment.confirm", {"payment": paid}, signers=[harbour.key])
    lake.add("share.terminate", {"agreement": agreement}, signers=[harbour.key, lake.key])

    result = fold_all(lake, harbour)
    assert result.pending == []
    assert result.violations == []
    assert result.state.agreements[agreement].status == "terminated"
    balance = result.state.balances.of(harbour.id, "EUR")
    assert (balance.earned, balance.paid, balance.confirmed) == (60000, 60000, 60000)
    assert result.state.balances.of(lake.id, "EUR").owed == 80001

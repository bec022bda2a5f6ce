"""Matching: open tasks for a worker's skills; candidate workers for a task."""

from __future__ import annotations

from contracts.matching import candidates, open_tasks, rating
from tests.contracts.helpers import Community, at, contract_flow, fold_all, key, pid, task_body

AMARA, LIN, BOT = key("worker/amara"), key("worker/lin"), key("worker/bot")


def studio() -> tuple[Community, dict[str, str]]:
    lake = Community("Lakeside")
    lake.genesis()
    lake.add(
        "member.enroll",
        {"worker": pid(BOT), "engagement": "agent", "display_name": "bot"},
        signers=[BOT],
    )
    done = contract_flow(lake, AMARA)  # Amara's cad work is accepted (rating 4)...
    lake.add("skill.attest", {"worker": pid(AMARA), "skill": "cad", "evidence": [done]})
    tasks = {
        "cad": lake.add("task.publish", task_body(skills=["cad"], deadline=at(10))),
        "both": lake.add("task.publish", task_body(skills=["cad", "welding"], deadline=at(20))),
        "welding": lake.add("task.publish", task_body(skills=["welding"])),
        "agents": lake.add(
            "task.publish", task_body(skills=["cad"], executor="agent", engagements=["agent"])
        ),
        "gone": lake.add("task.publish", task_body(skills=["cad"], deadline=at(1))),
    }
    lake.add("task.apply", {"task": tasks["both"], "worker": pid(LIN), "note": ""}, signers=[LIN])
    return lake, tasks


def test_open_tasks_for_attested_and_declared_skills() -> None:
    lake, tasks = studio()
    state = fold_all(lake).state
    now = at(2)
    found = open_tasks(state, worker=pid(AMARA), now=now)
    # the agents-only task is open to Amara (not enrolled) but ranks by deadline
    assert [m.task for m in found] == [tasks["cad"], tasks["both"], tasks["agents"]]
    assert found[0].attested == ("cad",)
    declared = open_tasks(state, worker=pid(AMARA), now=now, declared=["welding"])
    assert declared[0].task == tasks["both"]
    assert declared[0].matched == ("cad", "welding")
    assert declared[0].attested == ("cad",)
    # an enrolled agent only sees agent tasks
    bot = open_tasks(state, worker=pid(BOT), now=now, declared=["cad"])
    assert [m.task for m in bot] == [tasks["agents"]]


def test_candidates_for_a_task() -> None:
    lake, tasks = studio()
    state = fold_all(lake).state
    found = candidates(state, tasks["both"], now=at(2))
    assert [c.worker for c in found] == [pid(LIN), pid(AMARA)]
    assert found[0].applied
    assert found[0].matched == ()
    assert found[1].matched == ("cad",)
    assert found[1].rating == 4000
    assert rating(state, pid(LIN)) is None
    assert candidates(state, tasks["gone"], now=at(2)) == []

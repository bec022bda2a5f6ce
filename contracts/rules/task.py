"""Rules of `task.publish`, `task.close`, `task.expire` and `task.apply`.

State machine: published (open) -> offers and claims up to its slots -> closed (by its log,
any time while open) or expired (only by an entry whose time is at or after the deadline).
Deadlines are judged against the recording entry's time, never a clock. Every entry about
a task is recorded by the log that published it.

Eligibility (also used by contract offers and claims): a worker enrolled in the task's
community must have one of the task's allowed engagement types, and an `agent` engagement
only takes tasks whose executor is `agent` or `any` (a human one, `human` or `any`). A
worker who is not enrolled is not restricted by engagement: communities hire outsiders.
"""

from __future__ import annotations

from contracts.rules._base import Rule, consent, fail, no_consent, owned_by
from contracts.state import Milestone, State, TaskState
from contracts.view import EntryView

__all__ = ["RULES", "check_milestones", "eligible", "open_task"]


def check_milestones(entry: EntryView, rule: str) -> tuple[Milestone, ...]:
    """The body's milestones, which must be in the reward's currency and sum to it."""
    reward = entry.body["reward"]
    raw = entry.body.get("milestones")
    if raw is None:
        return ()
    total = 0
    for item in raw:
        if item["amount"].currency != reward.currency:
            fail(f"{rule}.milestones", "milestones must be in the reward's currency")
        total += item["amount"].minor
    if total != reward.minor:
        fail(f"{rule}.milestones", "the milestones' amounts must sum to the reward exactly")
    return tuple(Milestone(item["title"], item["amount"]) for item in raw)


def open_task(state: State, entry: EntryView, task_id: str, rule: str) -> TaskState:
    """The task, which must exist, belong to the entry's log, be open and not past deadline."""
    task = state.tasks.get(task_id)
    if task is None:
        fail(f"{rule}.task", "the task is not a published task")
    owned_by(entry, task.log, rule, "task")
    if task.status != "open":
        fail(f"{rule}.status", f"the task is {task.status}, not open")
    if entry.time >= task.deadline:
        fail(f"{rule}.deadline", "the task's deadline has passed")
    return task


def eligible(state: State, task: TaskState, worker: str, rule: str) -> str | None:
    """The worker's engagement in the task's community (None if not enrolled), if allowed."""
    member = state.members.get((task.log, worker))
    if member is None or not member.active:
        return None
    if member.engagement not in task.engagements:
        fail(f"{rule}.engagement", f"the task does not allow {member.engagement} workers")
    is_agent = member.engagement == "agent"
    if task.executor != "any" and is_agent != (task.executor == "agent"):
        fail(f"{rule}.executor", f"the task is for {task.executor} executors")
    return member.engagement


def publish(state: State, entry: EntryView) -> None:
    no_consent(entry, "task.publish")
    body = entry.body
    milestones = check_milestones(entry, "task.publish")
    if body["deadline"] <= entry.time:
        fail("task.publish.deadline", "the deadline must be after the task is published")
    state.tasks[entry.id] = TaskState(
        id=entry.id,
        log=entry.log,
        time=entry.time,
        title=body["title"],
        skills=body["skills"],
        reward=body["reward"],
        deadline=body["deadline"],
        slots=body["slots"],
        engagements=body["engagements"],
        executor=body["executor"],
        claim_mode=body["claim_mode"],
        milestones=milestones,
    )


def _open_task(state: State, entry: EntryView, kind: str) -> TaskState:
    """The open task that `task.close` / `task.expire` (`kind`) ends, recorded by its log."""
    no_consent(entry, kind)
    task = state.tasks.get(entry.body["task"])
    if task is None:
        fail(f"{kind}.task", "the task is not a published task")
    owned_by(entry, task.log, kind, "task")
    if task.status != "open":
        fail(f"{kind}.status", f"the task is {task.status}, not open")
    return task


def close(state: State, entry: EntryView) -> None:
    _open_task(state, entry, "task.close").status = "closed"


def expire(state: State, entry: EntryView) -> None:
    task = _open_task(state, entry, "task.expire")
    if entry.time < task.deadline:
        fail("task.expire.early", "a task expires only at or after its deadline")
    task.status = "expired"


def apply(state: State, entry: EntryView) -> None:
    worker = entry.body["worker"]
    consent(entry, (worker,), "task.apply", "the worker")
    task = open_task(state, entry, entry.body["task"], "task.apply")
    if worker in task.applicants:
        fail("task.apply.twice", "the worker has already applied for this task")
    eligible(state, task, worker, "task.apply")
    if isinstance(task.applicants, set):
        task.applicants.add(worker)
    else:  # the first: tasks without applicants share one empty frozenset
        task.applicants = {worker}


RULES: dict[str, Rule] = {
    "task.publish": publish,
    "task.close": close,
    "task.expire": expire,
    "task.apply": apply,
}

"""Matching workers and tasks: open tasks for a worker, candidate workers for a task.

Owns the ranking only; what is open, attested or allowed comes from the fold's `State`.
A worker's skills are those attested by any community (`skill.attest`) plus those they
declare (passed in: declarations are not ledger facts). Eligibility is the rule the task
itself enforces (`contracts.rules.task.eligible`): an enrolled worker's engagement must be
allowed and fit the executor kind. `now` is passed in (a ledger time); nothing reads a clock.

Ratings are averaged in thousandths (integers: no floats in `contracts`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from contracts.errors import RuleViolation
from contracts.rules.task import eligible
from contracts.state import State, TaskState

__all__ = ["Candidate", "TaskMatch", "attested_skills", "candidates", "open_tasks", "rating"]


@dataclass(frozen=True, slots=True)
class TaskMatch:
    """An open task a worker could take, and which of its skills the worker has."""

    task: str
    log: str
    matched: tuple[str, ...]
    #: the matched skills some community attested (the rest are only declared)
    attested: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A worker who could do a task: matched skills, whether they applied, their rating."""

    worker: str
    matched: tuple[str, ...]
    applied: bool
    #: average rating in thousandths (4500 = 4.5 stars), None before any rating
    rating: int | None


def attested_skills(state: State, worker: str) -> frozenset[str]:
    """The skills any community attested for `worker`."""
    return frozenset(state.skills.get(worker, {}))


def rating(state: State, worker: str) -> int | None:
    """The worker's average rating over all accepted work, in thousandths of a star."""
    ratings = state.ratings.get(worker)
    if not ratings:
        return None
    return sum(ratings.values()) * 1000 // len(ratings)


def _can_take(state: State, task: TaskState, worker: str, now: str) -> bool:
    if task.status != "open" or now >= task.deadline or task.slots_left <= 0:
        return False
    for contract_id, holder in task.contracts.items():
        if holder == worker and state.contracts[contract_id].status != "cancelled":
            return False
    try:
        eligible(state, task, worker, "matching")
    except RuleViolation:
        return False
    return True


def open_tasks(
    state: State, *, worker: str, now: str, declared: Iterable[str] = ()
) -> list[TaskMatch]:
    """Open tasks the worker may take that ask for at least one of their skills.

    Best first: most matched skills, then most attested among them, then nearest deadline.
    """
    attested = attested_skills(state, worker)
    skills = attested | frozenset(declared)
    found = []
    for task in state.tasks.values():
        matched = tuple(s for s in task.skills if s in skills)
        if matched and _can_take(state, task, worker, now):
            proven = tuple(s for s in matched if s in attested)
            found.append((task, TaskMatch(task.id, task.log, matched, proven)))
    found.sort(key=lambda p: (-len(p[1].matched), -len(p[1].attested), p[0].deadline, p[0].id))
    return [match for _, match in found]


def candidates(state: State, task_id: str, *, now: str) -> list[Candidate]:
    """Workers who applied for the task or hold an attested skill it asks for.

    Best first: applicants, then most matched skills, then best rating.
    """
    task = state.tasks[task_id]
    wanted = set(task.skills)
    workers = set(task.applicants)
    workers.update(w for w, skills in state.skills.items() if wanted & skills.keys())
    found = []
    for worker in workers:
        if not _can_take(state, task, worker, now):
            continue
        held = state.skills.get(worker, {})
        matched = tuple(s for s in task.skills if s in held)
        found.append(Candidate(worker, matched, worker in task.applicants, rating(state, worker)))
    found.sort(key=lambda c: (not c.applied, -len(c.matched), -(c.rating or 0), c.worker))
    return found

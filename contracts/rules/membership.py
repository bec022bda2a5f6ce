"""Rules of `member.enroll` and `member.leave`: who belongs to a community, and how.

Membership is per log (community). Enrolling needs the worker's statement and that they are
not an active member already; leaving needs the worker's statement and that they are one.
A worker who left may enroll again (possibly with another engagement type).
"""

from __future__ import annotations

from contracts.rules._base import Rule, consent, fail
from contracts.state import Member, State
from contracts.view import EntryView

__all__ = ["RULES"]


def enroll(state: State, entry: EntryView) -> None:
    body = entry.body
    worker = body["worker"]
    consent(entry, (worker,), "member.enroll", "the worker")
    member = state.members.get((entry.log, worker))
    if member is not None and member.active:
        fail("member.enroll.twice", "the worker is already a member of this community")
    state.members[(entry.log, worker)] = Member(
        log=entry.log,
        worker=worker,
        engagement=body["engagement"],
        display_name=body["display_name"],
        since=entry.time,
    )


def leave(state: State, entry: EntryView) -> None:
    worker = entry.body["worker"]
    consent(entry, (worker,), "member.leave", "the worker")
    member = state.members.get((entry.log, worker))
    if member is None or not member.active:
        fail("member.leave.unknown", "the worker is not a member of this community")
    member.active = False


RULES: dict[str, Rule] = {"member.enroll": enroll, "member.leave": leave}

"""Rule of `skill.attest`: a community attests a worker's skill, citing accepted work.

Every cited contract must be one of the attesting log's own, held by that worker, not
cancelled, with at least one accepted part, and on a task that lists the skill. A log
attests a given skill of a given worker once; other logs may attest it too.
"""

from __future__ import annotations

from contracts.rules._base import Rule, fail, no_consent
from contracts.state import Attestation, State
from contracts.view import EntryView

__all__ = ["RULES"]


def attest(state: State, entry: EntryView) -> None:
    no_consent(entry, "skill.attest")
    worker, skill, evidence = entry.body["worker"], entry.body["skill"], entry.body["evidence"]
    for contract_id in evidence:
        contract = state.contracts.get(contract_id)
        if (
            contract is None
            or contract.log != entry.log
            or contract.worker != worker
            or contract.status == "cancelled"
            or all(part.accepted_at is None for part in contract.parts)
        ):
            fail(
                "skill.attest.evidence",
                "each cited contract must be this log's, the worker's, with accepted work",
            )
        if skill not in state.tasks[contract.task].skills:
            fail("skill.attest.skill", f"a cited contract's task does not list {skill!r}")
    by_skill = state.skills.get(worker)
    held = by_skill.get(skill, ()) if by_skill is not None else ()
    for attestation in held:
        if state.attestations[attestation].log == entry.log:
            fail("skill.attest.twice", "this log has already attested that skill of the worker")
    if by_skill is None:
        by_skill = state.skills[worker] = {}
    # A sorted tuple: small, and the same whatever the order in which logs were read.
    by_skill[skill] = tuple(sorted((*held, entry.id))) if held else (entry.id,)
    state.attestations[entry.id] = Attestation(
        id=entry.id, log=entry.log, time=entry.time, worker=worker, skill=skill, evidence=evidence
    )


RULES: dict[str, Rule] = {"skill.attest": attest}

"""Rules of contracts and their work and payments: `contract.offer`, `contract.sign`,
`contract.cancel`, `work.submit`, `work.accept`, `work.reject`, `payment.record`,
`payment.confirm`.

State machine of a contract: offered -> signed (by a statement of the offered worker; or
claimed directly by a worker's `contract.sign {task, worker}` on a task whose claim mode is
`open`) -> completed when every part is accepted. Each part (the whole contract, or each
milestone, `milestone` null or its index) moves on its own: open -> submitted (worker
statement, not after the contract's deadline) <-> rejected; submitted -> accepted (rating,
feedback, optional bonus in the reward's currency) -> paid (`payment.record`, amount exactly
the part's amount plus bonus) -> confirmed (`payment.confirm`, statement of the worker).

Cancellation: the log alone may cancel before anything was submitted; with the worker's
statement, any time before the first payment (accepted but unpaid earnings are then
forgone). A cancelled contract frees its task slot. Offers and claims count against the
task's slots while not cancelled; a worker holds at most one live contract per task. An
offer already made may be signed even after its task closed (closing stops new offers).

Every entry about a contract is recorded by the log that owns the task.
"""

from __future__ import annotations

from contracts.errors import MoneyError
from contracts.money import Money
from contracts.rules._base import Rule, consent, fail, no_consent, owned_by
from contracts.rules.share import record_payout
from contracts.rules.task import check_milestones, eligible, open_task
from contracts.state import ContractState, Milestone, Part, Payment, State, TaskState
from contracts.view import EntryView

__all__ = ["RULES"]


def _parts(title: str, reward: Money, milestones: tuple[Milestone, ...]) -> list[Part]:
    """One part per milestone, or one part for the whole reward."""
    if milestones:
        return [Part(amount=m.amount, title=m.title) for m in milestones]
    return [Part(amount=reward, title=title)]


def _slot(state: State, task: TaskState, worker: str, rule: str) -> str | None:
    """Check the task has a free slot for the worker; return the worker's engagement."""
    for contract_id, holder in task.contracts.items():
        if holder == worker and state.contracts[contract_id].status != "cancelled":
            fail(f"{rule}.twice", "the worker already holds a contract for this task")
    if task.slots_left <= 0:
        fail(f"{rule}.slots", "every slot of the task is taken")
    return eligible(state, task, worker, rule)


def _contract(state: State, entry: EntryView, contract_id: str, rule: str) -> ContractState:
    contract = state.contracts.get(contract_id)
    if contract is None:
        fail(f"{rule}.contract", "the contract is not a known contract")
    owned_by(entry, contract.log, rule, "contract")
    return contract


def _add(state: State, task: TaskState, contract: ContractState) -> None:
    state.contracts[contract.id] = contract
    task.contracts[contract.id] = contract.worker
    task.live += 1


def offer(state: State, entry: EntryView) -> None:
    no_consent(entry, "contract.offer")
    body = entry.body
    task = open_task(state, entry, body["task"], "contract.offer")
    if body["reward"].currency != task.reward.currency:
        fail("contract.offer.currency", "the reward must be in the task's currency")
    if body["deadline"] <= entry.time:
        fail("contract.offer.term", "the contract's deadline must be after the offer")
    milestones = check_milestones(entry, "contract.offer")
    engagement = _slot(state, task, body["worker"], "contract.offer")
    contract = ContractState(
        id=entry.id,
        log=entry.log,
        task=task.id,
        worker=body["worker"],
        reward=body["reward"],
        deadline=body["deadline"],
        parts=_parts(task.title, body["reward"], milestones),
        milestones=bool(milestones),
        engagement=engagement,
        offered_at=entry.time,
    )
    _add(state, task, contract)


def sign(state: State, entry: EntryView) -> None:
    body = entry.body
    if "offer" in body:
        contract = _contract(state, entry, body["offer"], "contract.sign")
        consent(entry, (contract.worker,), "contract.sign", "the offered worker")
        if contract.status != "offered":
            fail("contract.sign.status", f"the contract is {contract.status}, not offered")
        if entry.time >= contract.deadline:
            fail("contract.sign.late", "the offer's deadline has passed")
        contract.status = "signed"
        contract.signed_at = entry.time
        return
    worker = body["worker"]
    consent(entry, (worker,), "contract.sign", "the claiming worker")
    task = open_task(state, entry, body["task"], "contract.sign")
    if task.claim_mode != "open":
        fail("contract.sign.mode", "the task takes offers only; it cannot be claimed directly")
    engagement = _slot(state, task, worker, "contract.sign")
    contract = ContractState(
        id=entry.id,
        log=entry.log,
        task=task.id,
        worker=worker,
        reward=task.reward,
        deadline=task.deadline,
        parts=_parts(task.title, task.reward, task.milestones),
        milestones=bool(task.milestones),
        engagement=engagement,
        offered_at=entry.time,
        status="signed",
        signed_at=entry.time,
    )
    _add(state, task, contract)


def cancel(state: State, entry: EntryView) -> None:
    contract = _contract(state, entry, entry.body["contract"], "contract.cancel")
    if contract.status == "cancelled":
        fail("contract.cancel.status", "the contract is already cancelled")
    if entry.signed:
        consent(entry, (contract.worker,), "contract.cancel", "the contract's worker")
        if contract.any_paid:
            fail("contract.cancel.paid", "a contract cannot be cancelled once payment began")
    elif contract.any_submitted:
        fail(
            "contract.cancel.submitted",
            "work was submitted: cancelling now needs the worker's statement",
        )
    for part in contract.parts:
        if part.status == "accepted":
            state.balances.earn(contract.worker, -part.due)
    contract.status = "cancelled"
    state.tasks[contract.task].live -= 1


def _part(contract: ContractState, entry: EntryView, rule: str, *statuses: str) -> Part:
    part = contract.part(entry.body["milestone"])
    if part is None:
        fail(f"{rule}.milestone", "the milestone is not one of the contract's parts")
    if part.status not in statuses:
        fail(f"{rule}.status", f"that part of the contract is {part.status}")
    return part


def submit(state: State, entry: EntryView) -> None:
    contract = _contract(state, entry, entry.body["contract"], "work.submit")
    consent(entry, (contract.worker,), "work.submit", "the contract's worker")
    if contract.status != "signed":
        fail("work.submit.status", f"the contract is {contract.status}, not signed")
    part = _part(contract, entry, "work.submit", "open", "rejected")
    if "uri" not in entry.body and "sha256" not in entry.body:
        fail("work.submit.deliverable", "a submission needs a uri or a sha256 of the work")
    if entry.time > contract.deadline:
        fail("work.submit.late", "the contract's deadline has passed")
    part.status = "submitted"
    part.submissions += 1


def accept(state: State, entry: EntryView) -> None:
    no_consent(entry, "work.accept")
    body = entry.body
    contract = _contract(state, entry, body["contract"], "work.accept")
    if contract.status != "signed":
        fail("work.accept.status", f"the contract is {contract.status}, not signed")
    part = _part(contract, entry, "work.accept", "submitted")
    bonus = body.get("bonus")
    if bonus is not None and bonus.currency != contract.reward.currency:
        fail("work.accept.bonus", "a bonus must be in the reward's currency")
    try:
        due = part.amount if bonus is None else part.amount + bonus
    except MoneyError as e:
        fail("work.accept.bonus", str(e))
    part.status = "accepted"
    part.bonus = bonus
    part.rating = body["rating"]
    part.feedback = body["feedback"]
    part.accepted_at = entry.time
    state.ratings.setdefault(contract.worker, {})[entry.id] = body["rating"]
    state.balances.earn(contract.worker, due)
    if all(p.accepted_at is not None for p in contract.parts):
        contract.status = "completed"
        contract.completed_at = entry.time


def reject(state: State, entry: EntryView) -> None:
    no_consent(entry, "work.reject")
    contract = _contract(state, entry, entry.body["contract"], "work.reject")
    if contract.status != "signed":
        fail("work.reject.status", f"the contract is {contract.status}, not signed")
    part = _part(contract, entry, "work.reject", "submitted")
    part.status = "rejected"
    part.feedback = entry.body["feedback"]


def record(state: State, entry: EntryView) -> None:
    no_consent(entry, "payment.record")
    body = entry.body
    if "settlement" in body:
        record_payout(state, entry)
        return
    contract = _contract(state, entry, body["contract"], "payment.record")
    if contract.status == "cancelled":
        fail("payment.record.status", "the contract is cancelled")
    part = _part(contract, entry, "payment.record", "accepted")
    if body["amount"] != part.due:
        fail("payment.record.amount", "the amount must be the part's reward plus any bonus")
    part.status = "paid"
    part.payment = entry.id
    state.payments[entry.id] = Payment(
        id=entry.id,
        log=entry.log,
        time=entry.time,
        payee=contract.worker,
        amount=body["amount"],
        contract=contract.id,
        milestone=body["milestone"],
        engagement=contract.engagement,
    )
    state.balances.pay(contract.worker, body["amount"])


def confirm(state: State, entry: EntryView) -> None:
    payment = state.payments.get(entry.body["payment"])
    if payment is None:
        fail("payment.confirm.payment", "the payment is not a recorded payment")
    owned_by(entry, payment.log, "payment.confirm", "payment")
    consent(entry, (payment.payee,), "payment.confirm", "the paid worker or party")
    if payment.confirmed:
        fail("payment.confirm.twice", "the payment is already confirmed")
    payment.confirmed = True
    state.balances.confirm(payment.payee, payment.amount)
    if payment.contract is not None:
        contract = state.contracts[payment.contract]
        part = contract.part(payment.milestone)
        assert part is not None
        part.status = "confirmed"


RULES: dict[str, Rule] = {
    "contract.offer": offer,
    "contract.sign": sign,
    "contract.cancel": cancel,
    "work.submit": submit,
    "work.accept": accept,
    "work.reject": reject,
    "payment.record": record,
    "payment.confirm": confirm,
}

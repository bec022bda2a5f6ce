"""A Hypothesis state machine: random sequences of valid and invalid contract entries.

Each step records one entry (often one that breaks a rule: a wrong signer, a wrong amount,
a part in the wrong state) and applies it; the invariants below hold after every step, and
folding everything again in one batch gives the same state.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from contracts.fold import Fold, fold
from ledger.statement import format_time
from tests.contracts.helpers import Community, eur, key, pid, task_body

WORKERS = [key(f"worker/s{n}") for n in range(3)]
workers = st.sampled_from(WORKERS)


class Ledger(RuleBasedStateMachine):
    tasks = Bundle("tasks")
    contracts = Bundle("contracts")
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.log = Community("Stateful")
        self.fold = Fold()
        self.log.genesis()
        assert self.fold.apply(*self.log.entries[0]) == []

    def record(self, type: str, body: dict[str, Any], **kw: Any) -> str:
        eid = self.log.add(type, body, **kw)
        entry, _ = self.log.entries[-1]
        before = repr(self.fold.state)
        violations = self.fold.apply(entry, eid)
        if violations:
            assert repr(self.fold.state) == before
        return eid

    @rule(
        target=tasks,
        slots=st.integers(1, 2),
        mode=st.sampled_from(["offer", "open"]),
        days=st.integers(1, 5),
    )
    def publish(self, slots: int, mode: str, days: int) -> str:
        deadline = format_time(self.log.now + timedelta(days=days))
        body = task_body(slots=slots, claim_mode=mode, deadline=deadline)
        return self.record("task.publish", body)

    @rule(target=contracts, task=tasks, worker=workers)
    def offer(self, task: str, worker: Any) -> str:
        state = self.fold.state.tasks.get(task)
        deadline = state.deadline if state else "2027-01-01T00:00:00Z"
        body = {"task": task, "worker": pid(worker), "reward": eur("300.00"), "deadline": deadline}
        return self.record("contract.offer", body)

    @rule(target=contracts, task=tasks, worker=workers)
    def claim(self, task: str, worker: Any) -> str:
        return self.record("contract.sign", {"task": task, "worker": pid(worker)}, signers=[worker])

    def worker_of(self, contract: str, other: Any, right: bool) -> Any:
        """The contract's worker when `right` (and the contract exists), else `other`."""
        state = self.fold.state.contracts.get(contract)
        if right and state is not None:
            return next(k for k in WORKERS if pid(k) == state.worker)
        return other

    @rule(contract=contracts, signer=workers, right=st.booleans())
    def sign(self, contract: str, signer: Any, right: bool) -> None:
        signer = self.worker_of(contract, signer, right)
        self.record("contract.sign", {"offer": contract}, signers=[signer])

    @rule(contract=contracts, signer=workers, right=st.booleans())
    def submit(self, contract: str, signer: Any, right: bool) -> None:
        body = {"contract": contract, "milestone": None, "uri": "https://w.example/"}
        self.record("work.submit", body, signers=[self.worker_of(contract, signer, right)])

    @rule(contract=contracts, rating=st.integers(1, 5), bonus=st.booleans())
    def accept(self, contract: str, rating: int, bonus: bool) -> None:
        body: dict[str, Any] = {
            "contract": contract,
            "milestone": None,
            "rating": rating,
            "feedback": "",
        }
        if bonus:
            body["bonus"] = eur("10.00")
        self.record("work.accept", body)

    @rule(contract=contracts)
    def reject(self, contract: str) -> None:
        self.record("work.reject", {"contract": contract, "milestone": None, "feedback": "again"})

    @rule(target=payments, contract=contracts, amount=st.sampled_from(["300.00", "310.00", "1.00"]))
    def pay(self, contract: str, amount: str) -> str:
        return self.record(
            "payment.record", {"contract": contract, "milestone": None, "amount": eur(amount)}
        )

    @rule(payment=payments, signer=workers, right=st.booleans())
    def confirm(self, payment: str, signer: Any, right: bool) -> None:
        paid = self.fold.state.payments.get(payment)
        if right and paid is not None:
            signer = next(k for k in WORKERS if pid(k) == paid.payee)
        self.record("payment.confirm", {"payment": payment}, signers=[signer])

    @rule(contract=contracts, with_worker=st.booleans())
    def cancel(self, contract: str, with_worker: bool) -> None:
        state = self.fold.state.contracts.get(contract)
        signers = [k for k in WORKERS if state and pid(k) == state.worker] if with_worker else []
        self.record("contract.cancel", {"contract": contract, "reason": ""}, signers=signers)

    @rule(task=tasks, expire=st.booleans())
    def end(self, task: str, expire: bool) -> None:
        self.record("task.expire" if expire else "task.close", {"task": task})

    @rule(data=st.data())
    def progress(self, data: st.DataObject) -> None:
        """Take a live contract one step further along its happy path."""
        state = self.fold.state
        live = sorted(
            c
            for c, v in state.contracts.items()
            if v.status in ("offered", "signed") or v.parts[0].status == "accepted"
        )
        live += sorted(p for p, v in state.payments.items() if not v.confirmed)
        if not live:
            return
        chosen = data.draw(st.sampled_from(live))
        if chosen in state.payments:
            self.confirm(chosen, WORKERS[0], right=True)
            return
        contract = state.contracts[chosen]
        part = contract.parts[0]
        if contract.status == "offered":
            self.sign(chosen, WORKERS[0], right=True)
        elif part.status in ("open", "rejected"):
            self.submit(chosen, WORKERS[0], right=True)
        elif part.status == "submitted":
            self.accept(chosen, rating=data.draw(st.integers(1, 5)), bonus=data.draw(st.booleans()))
        elif part.status == "accepted":
            self.pay(chosen, part.due.to_dict()["amount"])

    @rule(days=st.integers(0, 3))
    def wait(self, days: int) -> None:
        self.log.advance(days)

    @invariant()
    def balances_are_consistent(self) -> None:
        for balance in self.fold.state.balances.by_party.values():
            assert 0 <= balance.confirmed <= balance.paid <= balance.earned

    @invariant()
    def slots_and_parts_are_consistent(self) -> None:
        state = self.fold.state
        for task in state.tasks.values():
            live = [c for c in task.contracts if state.contracts[c].status != "cancelled"]
            assert task.live == len(live) <= task.slots
        for contract in state.contracts.values():
            accepted = all(p.accepted_at is not None for p in contract.parts)
            if contract.status != "cancelled":
                assert (contract.status == "completed") == accepted
                assert (contract.completed_at is not None) == accepted
            for part in contract.parts:
                if part.payment is not None:
                    assert state.payments[part.payment].amount == part.due

    def teardown(self) -> None:
        assert fold(self.log.entries).state == self.fold.state
        assert self.fold.pending == []


TestLedger = Ledger.TestCase
TestLedger.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)

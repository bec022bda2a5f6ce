"""node.service: the use cases over a real node (SQLite and PostgreSQL), every entry type."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from node.db.models import EntryRow, StatementOfferRow
from node.errors import NonceReused, RequestBodyError, RuleRejected
from node.local_node import LocalNode, init_node
from node.own_log import AppendResult, EntryDraft, Genesis
from node.service import Collected, NodeService, refs_for
from node.settings import Settings
from tests.node.conftest import NOW, Clock
from tests.node.stories import (
    PARTNER,
    WORKER,
    enroll_body,
    offer_body,
    proposal_body,
    signed,
    task_body,
)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def service(local_node: LocalNode, clock: Clock) -> NodeService:
    return NodeService(local_node, clock=clock)


def _count(service: NodeService) -> int:
    with service.node.sessions.begin() as session:
        return int(session.execute(select(func.count()).select_from(EntryRow)).scalar_one())


def _tick(clock: Clock, minutes: int = 5) -> None:
    clock.now += timedelta(minutes=minutes)


def _one(result: AppendResult | Collected) -> str:
    assert isinstance(result, AppendResult)
    return result.entries[0].id


def test_refs_follow_the_body() -> None:
    body = {"agreement": "a" * 64, "period": "2026-10", "revenue": ["b" * 64, "a" * 64]}
    assert refs_for("share.settle", body) == ("a" * 64, "b" * 64)
    with pytest.raises(RuleRejected, match=r"schema.type"):
        refs_for("no.such", {})


def test_a_contract_lifecycle_through_the_service(service: NodeService, clock: Clock) -> None:
    log, worker = service.log_id, WORKER.party_id
    _tick(clock)
    _one(service.submit(signed(WORKER, log, "member.enroll", enroll_body(WORKER), clock.now, "e")))
    task = _one(service.record([EntryDraft("task.publish", task_body(clock.now))]))
    _tick(clock)
    apply = {"task": task, "worker": worker, "note": "I can start Monday."}
    _one(service.submit(signed(WORKER, log, "task.apply", apply, clock.now, "a")))
    offer = _one(
        service.record([EntryDraft("contract.offer", offer_body(task, worker, clock.now))])
    )
    _tick(clock)
    _one(service.submit(signed(WORKER, log, "contract.sign", {"offer": offer}, clock.now, "s")))
    _tick(clock)
    work = {"contract": offer, "milestone": None, "uri": "https://files.example/lamp"}
    _one(service.submit(signed(WORKER, log, "work.submit", work, clock.now, "w")))
    accept = {
        "contract": offer,
        "milestone": None,
        "rating": 5,
        "feedback": "Lovely.",
        "bonus": {"amount": "20.00", "currency": "EUR"},
    }
    _one(service.record([EntryDraft("work.accept", accept)]))
    pay = {"contract": offer, "milestone": None, "amount": {"amount": "270.00", "currency": "EUR"}}
    payment = _one(service.record([EntryDraft("payment.record", pay)]))
    _tick(clock)
    _one(
        service.submit(signed(WORKER, log, "payment.confirm", {"payment": payment}, clock.now, "c"))
    )
    attest = {"worker": worker, "skill": "cad", "evidence": [offer]}
    _one(
        service.record(
            [EntryDraft("skill.attest", attest), EntryDraft("task.close", {"task": task})]
        )
    )
    with service.state() as state:
        assert state.tasks[task].status == "closed"
        assert state.contracts[offer].stage == "confirmed"
        assert "cad" in state.skills[worker]
        balance = state.balances.of(worker, "EUR")
        assert (balance.earned, balance.paid, balance.confirmed) == (27000, 27000, 27000)
    assert _count(service) == 12


def test_a_rule_violation_is_refused_and_nothing_is_stored(service: NodeService) -> None:
    before = _count(service)
    with pytest.raises(RuleRejected) as caught:
        service.record([EntryDraft("task.close", {"task": "ab" * 32})])
    assert caught.value.rule == "refs.unknown"
    body = task_body(NOW)
    body["deadline"] = "2020-01-01T00:00:00Z"
    with pytest.raises(RuleRejected, match=r"deadline"):
        service.record([EntryDraft("task.publish", body)])
    assert _count(service) == before
    # and the log goes on
    service.record([EntryDraft("task.publish", task_body(NOW))])
    assert _count(service) == before + 1


def test_a_batch_that_breaks_a_rule_late_is_refused_whole(service: NodeService) -> None:
    before = _count(service)
    good = EntryDraft("task.publish", task_body(NOW, title="first"))
    bad = EntryDraft("task.close", {"task": "cd" * 32})
    with pytest.raises(RuleRejected, match=r"refs.unknown"):
        service.record([good, bad])
    assert _count(service) == before
    assert service.projection.rebuilds == 1  # the torn state was dropped
    with service.state() as state:  # and rebuilt without the refused batch
        assert not state.tasks
    task = _one(service.record([good]))
    with service.state() as state:
        assert list(state.tasks) == [task]


def test_statements_are_checked(service: NodeService, clock: Clock) -> None:
    log = service.log_id
    enroll = enroll_body(WORKER)
    with pytest.raises(RuleRejected, match=r"statement.log"):
        service.submit(signed(WORKER, "ab" * 32, "member.enroll", enroll, clock.now, "x"))
    late = clock.now - timedelta(minutes=30)
    with pytest.raises(RuleRejected, match=r"statement.time"):
        service.submit(signed(WORKER, log, "member.enroll", enroll, late, "x"))
    with pytest.raises(RuleRejected, match=r"statement.type"):
        service.submit(signed(WORKER, log, "task.publish", task_body(NOW), clock.now, "x"))
    someone_else = dict(enroll, worker=PARTNER.party_id)
    with pytest.raises(RuleRejected, match=r"member.enroll.consent"):
        service.submit(signed(WORKER, log, "member.enroll", someone_else, clock.now, "x"))
    statement = signed(WORKER, log, "member.enroll", enroll, clock.now, "once")
    service.submit(statement)
    with pytest.raises(RuleRejected, match=r"statement.nonce"):
        service.submit(statement)
    with pytest.raises(NonceReused):  # the write path refuses a replay even past the service
        service.record(
            [EntryDraft("member.leave", {"worker": WORKER.party_id}, signed=(statement,))]
        )


def test_a_revenue_share_collects_every_partys_statement(
    service: NodeService, clock: Clock
) -> None:
    log = service.log_id
    proposal = _one(
        service.record([EntryDraft("share.propose", proposal_body([log, PARTNER.party_id]))])
    )
    _tick(clock)
    body = {"proposal": proposal}
    partner = signed(PARTNER, log, "share.activate", body, clock.now, "act")
    result = service.submit(partner)
    assert isinstance(result, AppendResult)  # the node signed for itself: all parties signed
    agreement = result.entries[0].id
    assert [s.statement.signer for s in result.entries[0].signed] == [
        service.node.store.key.public,
        PARTNER.public,
    ]
    with service.node.sessions.begin() as session:
        assert session.execute(select(func.count()).select_from(StatementOfferRow)).scalar() == 0
    revenue = {
        "agreement": agreement,
        "period": NOW.strftime("%Y-%m"),
        "revenue": {"amount": "1500.00", "currency": "EUR"},
        "costs": {"amount": "100.00", "currency": "EUR"},
    }
    service.record([EntryDraft("share.revenue", revenue)])
    settle = service.settlement(agreement, NOW.strftime("%Y-%m"))
    assert [p["amount"] for p in settle["payouts"]] == [  # type: ignore[index,union-attr]
        {"amount": "950.00", "currency": "EUR"},
        {"amount": "550.00", "currency": "EUR"},
    ]
    settled = _one(service.record([EntryDraft("share.settle", settle)]))
    payout = {
        "settlement": settled,
        "party": PARTNER.party_id,
        "amount": {"amount": "550.00", "currency": "EUR"},
    }
    service.record([EntryDraft("payment.record", payout)])
    with service.state() as state:
        assert state.agreements[agreement].settled == {NOW.strftime("%Y-%m"): settled}


def test_a_share_waits_for_a_party_that_has_not_signed(service: NodeService, clock: Clock) -> None:
    log = service.log_id
    third = WORKER
    parties = [log, PARTNER.party_id, third.party_id]
    proposal = _one(service.record([EntryDraft("share.propose", proposal_body3(parties))]))
    result = service.submit(
        signed(PARTNER, log, "share.activate", {"proposal": proposal}, clock.now, "p")
    )
    assert result == Collected("share.activate", proposal, (PARTNER.party_id,), (third.party_id,))
    with pytest.raises(RuleRejected, match=r"statement.collected"):
        service.submit(
            signed(PARTNER, log, "share.activate", {"proposal": proposal}, clock.now, "p2")
        )
    done = service.submit(
        signed(third, log, "share.activate", {"proposal": proposal}, clock.now, "t")
    )
    assert isinstance(done, AppendResult)
    assert len(done.entries[0].signed) == 3


def proposal_body3(parties: list[str]) -> dict[str, object]:
    body = proposal_body(parties)
    body["tiers"] = [{"up_to": None, "weights": [4000, 3000, 3000]}]
    return body  # type: ignore[return-value]


def test_concurrent_appends_are_grouped_and_none_is_lost(service: NodeService) -> None:
    before = _count(service)
    errors: list[BaseException] = []
    ids: list[str] = []
    lock = threading.Lock()

    def publish(n: int) -> None:
        try:
            result = service.record([EntryDraft("task.publish", task_body(NOW, title=f"t{n}"))])
            with lock:
                ids.append(result.entries[0].id)
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(ids)) == 40
    assert _count(service) == before + 40
    with service.state() as state:
        assert set(ids) <= set(state.tasks)


def test_batches_that_arrived_together_share_one_commit_and_fail_alone(
    service: NodeService,
) -> None:
    before, commits = _count(service), service.writer.commits
    good = json.dumps({"entries": [{"type": "task.publish", "body": task_body(NOW)}]})
    outcomes = service.record_batches(
        [
            [EntryDraft("task.publish", task_body(NOW, title="first"))],
            [EntryDraft("task.close", {"task": "ab" * 32})],  # cites an unknown task
            good.encode(),
            b'{"entries": 5}',
            [EntryDraft("task.publish", task_body(NOW, title="last"))] * 2,
        ]
    )
    first, refused, from_json, not_a_list, last = outcomes
    assert isinstance(refused, RuleRejected)
    assert refused.rule == "refs.unknown"
    assert isinstance(not_a_list, RequestBodyError)
    assert not_a_list.errors == {"json": {"entries": ["Not a valid list."]}}
    assert isinstance(first, AppendResult)
    assert isinstance(from_json, AppendResult)
    assert isinstance(last, AppendResult)
    assert [e.seq for r in (first, from_json, last) for e in r.entries] == [
        before,
        before + 1,
        before + 2,
        before + 3,
    ]
    assert first.checkpoint == last.checkpoint  # one transaction, one checkpoint
    assert service.writer.commits == commits + 1
    assert _count(service) == before + 4


def test_waiting_appends_share_one_commit(service: NodeService) -> None:
    writer = service.writer
    commits = writer.commits
    threads = [
        threading.Thread(
            target=service.record,
            args=([EntryDraft("task.publish", task_body(NOW, title=f"g{n}"))],),
        )
        for n in range(10)
    ]
    with service.projection.lock:  # the first leader blocks here; the others queue behind it
        threads[0].start()
        while not writer._leading:
            pass
        for thread in threads[1:]:
            thread.start()
        while len(writer._queue) < 9:
            pass
    for thread in threads:
        thread.join()
    assert writer.commits == commits + 2
    assert _count(service) == 11


def test_expire_due_records_task_expire_for_passed_deadlines(
    service: NodeService, clock: Clock
) -> None:
    soon = task_body(NOW, title="soon")
    soon["deadline"] = "2026-11-25T13:00:00Z"
    due = _one(service.record([EntryDraft("task.publish", soon)]))
    later = _one(service.record([EntryDraft("task.publish", task_body(NOW, title="later"))]))
    assert service.expire_due() == []
    clock.now += timedelta(hours=2)
    assert service.expire_due() == [due]
    assert service.expire_due() == []
    with service.state() as state:
        assert state.tasks[due].status == "expired"
        assert state.tasks[later].status == "open"


def test_a_partner_log_consents_through_its_own_node(
    service: NodeService, clock: Clock, tmp_path: Path
) -> None:
    settings = Settings(
        node_dir=tmp_path / "b", database_url=f"sqlite:///{tmp_path / 'b.db'}",
        key_file=tmp_path / "b" / "node.key",
    )  # fmt: skip
    partner_node, _ = init_node(settings, Genesis(name="B", kind="partner"), NOW)
    try:
        partner = NodeService(partner_node, clock=clock)
        parties = [service.log_id, partner.log_id]
        body = proposal_body(parties)
        proposal = _one(service.record([EntryDraft("share.propose", body)]))
        consent = partner.sign_as_party("share.activate", service.log_id, {"proposal": proposal})
        assert consent.statement.signer == partner_node.store.key.public
        result = service.submit(consent)
        assert isinstance(result, AppendResult)
        with pytest.raises(RuleRejected, match=r"statement\.type"):
            partner.sign_as_party("task.apply", service.log_id, {"task": proposal})
    finally:
        partner_node.close()


def test_a_cancel_after_submission_takes_the_workers_kept_statement(
    service: NodeService, clock: Clock
) -> None:
    log, worker = service.log_id, WORKER.party_id
    task = _one(service.record([EntryDraft("task.publish", task_body(clock.now))]))
    offer = _one(
        service.record([EntryDraft("contract.offer", offer_body(task, worker, clock.now))])
    )
    _tick(clock)
    service.submit(signed(WORKER, log, "contract.sign", {"offer": offer}, clock.now, "cs"))
    work = {"contract": offer, "milestone": None, "uri": "https://files.example/x"}
    service.submit(signed(WORKER, log, "work.submit", work, clock.now, "ws"))
    cancel = {"contract": offer, "reason": "The client withdrew."}
    with pytest.raises(RuleRejected, match=r"contract\.cancel\.submitted"):  # work was submitted
        service.record([EntryDraft("contract.cancel", cancel)])
    kept = service.submit(signed(WORKER, log, "contract.cancel", cancel, clock.now, "cc"))
    assert kept == Collected("contract.cancel", offer, (worker,), ())
    recorded = service.record([EntryDraft("contract.cancel", cancel)])
    assert [s.statement.signer for s in recorded.entries[0].signed] == [WORKER.public]
    assert service.collected("contract.cancel", offer) == []
    with service.state() as state:
        assert state.contracts[offer].status == "cancelled"

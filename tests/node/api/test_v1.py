"""The v1 REST API over HTTP (Flask's test client, a real node on SQLite and PostgreSQL):
every entry type round-trips, errors are JSON with the rule, nothing is stored on refusal."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from ledger.checkpoint import log_verifier
from ledger.receipt import verify_receipt
from ledger.statement import SignedStatement
from node.api.app import create_app
from node.api.v1.entries import append_out, append_out_json
from node.cli import rdh
from node.local_node import LocalNode
from node.own_log import EntryDraft, Genesis
from node.service import NodeService
from node.store import LogStore
from node.tokens import create_token
from tests.builders import key
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


class Api:
    """A client of one node: admin writes with the token, statements, reads."""

    def __init__(self, client: FlaskClient, token: str, clock: Clock, log: str) -> None:
        self.client, self.token, self.clock, self.log = client, token, clock, log
        self.labels = 0

    def write(self, kind: str, body: dict[str, Any], status: int = 201) -> Any:
        response = self.client.post(
            "/api/v1/entries",
            json={"entries": [{"type": kind, "body": body}]},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == status, response.get_json()
        data = response.get_json()
        return data["entries"][0]["id"] if status == 201 else data

    def sign(self, kind: str, body: dict[str, Any], status: int = 201, key: Any = WORKER) -> Any:
        self.clock.now += timedelta(minutes=3)
        self.labels += 1
        statement = signed(key, self.log, kind, body, self.clock.now, f"api{self.labels}")
        response = self.client.post("/api/v1/statements", json=statement.to_dict())
        assert response.status_code == status, response.get_json()
        data = response.get_json()
        return data["entries"][0]["id"] if status == 201 else data

    def get(self, path: str, status: int = 200, **query: Any) -> Any:
        response = self.client.get(f"/api/v1{path}", query_string=query)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def v1_app(local_node: LocalNode, clock: Clock) -> Flask:
    return create_app(local_node, service=NodeService(local_node, clock=clock))


@pytest.fixture
def api(v1_app: Flask, local_node: LocalNode, clock: Clock) -> Api:
    token = create_token(local_node.sessions, "test", NOW)
    return Api(v1_app.test_client(), token, clock, local_node.store.log_id)


def test_every_entry_type_round_trips(api: Api, local_node: LocalNode) -> None:
    worker = WORKER.party_id
    api.write("log.follow", {"log": PARTNER.party_id, "relation": "partner"})
    api.sign("member.enroll", enroll_body(WORKER))
    task = api.write("task.publish", task_body(api.clock.now))
    api.sign("task.apply", {"task": task, "worker": worker, "note": "Keen."})
    offer = api.write("contract.offer", offer_body(task, worker, api.clock.now))
    api.sign("contract.sign", {"offer": offer})
    work = {"contract": offer, "milestone": None, "uri": "https://files.example/1"}
    api.sign("work.submit", work)
    api.write("work.reject", {"contract": offer, "milestone": None, "feedback": "Brighter."})
    api.sign("work.submit", dict(work, uri="https://files.example/2"))
    accept = {"contract": offer, "milestone": None, "rating": 4, "feedback": "Good."}
    api.write("work.accept", accept)
    pay = {"contract": offer, "milestone": None, "amount": {"amount": "250.00", "currency": "EUR"}}
    payment = api.write("payment.record", pay)
    api.sign("payment.confirm", {"payment": payment})
    api.write("skill.attest", {"worker": worker, "skill": "cad", "evidence": [offer]})
    api.write("task.close", {"task": task})
    # a second task expires; a second contract is cancelled
    body = task_body(api.clock.now, title="Quick sketch")
    body["deadline"] = (api.clock.now + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    quick = api.write("task.publish", body)
    second = api.write(
        "contract.offer", offer_body(quick, worker, api.clock.now) | {"deadline": body["deadline"]}
    )
    api.write("contract.cancel", {"contract": second, "reason": "Plans changed."})
    api.clock.now += timedelta(minutes=30)
    api.write("task.expire", {"task": quick})
    # a revenue share with a partner log, then the worker leaves
    proposal = api.write("share.propose", proposal_body([api.log, PARTNER.party_id]))
    activated = api.sign("share.activate", {"proposal": proposal}, key=PARTNER)
    period = NOW.strftime("%Y-%m")
    money = {"amount": "1200.00", "currency": "EUR"}
    api.write(
        "share.revenue",
        {
            "agreement": activated,
            "period": period,
            "revenue": money,
            "costs": money | {"amount": "0.00"},
        },
    )
    settle = api.get(f"/agreements/{activated}/settlement", period=period)
    settlement = api.write("share.settle", settle)
    share = settle["payouts"][1]
    paid = api.write("payment.record", {"settlement": settlement, **share})
    api.sign("payment.confirm", {"payment": paid}, key=PARTNER)
    api.sign("share.terminate", {"agreement": activated}, key=PARTNER)  # the node co-signs
    api.sign("member.leave", {"worker": worker})

    types = {e["type"] for e in api.get("/entries", limit=500)}
    assert types >= {
        "log.genesis", "log.follow", "member.enroll", "member.leave", "task.publish", "task.close",
        "task.expire", "task.apply", "contract.offer", "contract.sign", "contract.cancel",
        "work.submit", "work.accept", "work.reject", "payment.record", "payment.confirm",
        "skill.attest", "share.propose", "share.activate", "share.revenue", "share.settle",
        "share.terminate",
    }  # fmt: skip
    assert api.get(f"/tasks/{task}")["status"] == "closed"
    assert api.get(f"/tasks/{quick}")["status"] == "expired"
    assert api.get(f"/contracts/{offer}")["stage"] == "confirmed"
    assert api.get(f"/contracts/{second}")["status"] == "cancelled"
    portfolio = api.get(f"/workers/{worker}")
    assert portfolio["attested"] == ["cad"]
    assert portfolio["balances"][0]["confirmed"] == 25000
    assert api.get("/members", active="false")["items"][0]["worker"] == worker
    agreement = api.get(f"/agreements/{activated}")
    assert agreement["status"] == "terminated"
    assert len(agreement["settlements"]) == 1
    statement = api.get("/value-added", period=period)
    assert statement["revenue"] == money
    assert statement["tasks_completed"] == 1
    # every entry's receipt verifies offline against the log's key
    verifier = log_verifier(local_node.store.key.public)
    for entry in api.get("/entries", limit=500):
        response = api.client.get(f"/api/v1/entries/{entry['id']}/receipt")
        verified = verify_receipt(response.data, key=verifier)
        assert verified.entry_id == entry["id"]


def test_a_rule_violation_is_a_422_naming_the_rule(api: Api) -> None:
    before = len(api.get("/entries"))
    body = task_body(NOW)
    body["deadline"] = "2020-01-01T00:00:00Z"
    error = api.write("task.publish", body, status=422)
    assert error["code"] == 422
    assert error["status"] == "Unprocessable Entity"
    assert error["errors"]["rule"].startswith("task.publish")
    assert "deadline" in error["message"]
    assert len(api.get("/entries")) == before


def test_a_replayed_statement_is_a_409(api: Api) -> None:
    statement = signed(WORKER, api.log, "member.enroll", enroll_body(WORKER), NOW, "replay")
    assert api.client.post("/api/v1/statements", json=statement.to_dict()).status_code == 201
    again = api.client.post("/api/v1/statements", json=statement.to_dict())
    assert again.status_code == 409
    assert again.get_json()["errors"]["rule"] == "statement.nonce"


@pytest.mark.parametrize(
    ("body", "status", "content_type"),
    [
        (b"{", 400, "application/json"),
        (b'{"entries": [], "entries": []}', 400, "application/json"),
        (b'{"entries": [{"type": "task.close", "body": {}, "extra": 1}]}', 422, "application/json"),
        (b'{"entries": []}', 422, "application/json"),
        (b'{"entries": [{"type": "task.close", "body": {"task": 1.5}}]}', 400, "application/json"),
        (b"[]", 422, "application/json"),
        (b'{"entries": []}', 415, "text/plain"),
    ],
)
def test_bad_bodies_are_refused_with_json_errors(
    api: Api, body: bytes, status: int, content_type: str
) -> None:
    before = len(api.get("/entries"))
    response = api.client.post(
        "/api/v1/entries",
        data=body,
        content_type=content_type,
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == status
    assert set(response.get_json()) == {"code", "status", "message", "errors"}
    assert len(api.get("/entries")) == before


def test_writes_need_the_admin_token(api: Api) -> None:
    response = api.client.post(
        "/api/v1/entries", json={"entries": [{"type": "task.publish", "body": task_body(NOW)}]}
    )
    assert response.status_code == 401
    wrong = api.client.post(
        "/api/v1/entries",
        json={"entries": [{"type": "task.publish", "body": task_body(NOW)}]},
        headers={"Authorization": "Bearer rdh_nope"},
    )
    assert wrong.status_code == 401


def test_statements_with_a_bad_signature_are_refused(api: Api) -> None:
    good = signed(WORKER, api.log, "member.enroll", enroll_body(WORKER), NOW, "sig").to_dict()
    forged = dict(good, statement=dict(good["statement"], body=enroll_body(WORKER, "Mallory")))
    response = api.client.post("/api/v1/statements", json=forged)
    assert response.status_code == 422
    assert response.get_json()["errors"]["rule"] == "statement.signature"
    assert api.get("/members")["total"] == 0


def test_the_openapi_document_lists_the_resources(api: Api) -> None:
    spec = api.get("/openapi.json")
    for path in ("/api/v1/entries", "/api/v1/statements", "/api/v1/tasks", "/api/v1/value-added"):
        assert path in spec["paths"]


def test_the_marketplace_filters_and_pages(api: Api) -> None:
    for n in range(5):
        api.write(
            "task.publish",
            task_body(NOW, title=f"Lamp {n}", skills=("cad",) if n % 2 else ("welding",)),
        )
    assert api.get("/tasks", skill="cad")["total"] == 2
    page = api.get("/tasks", limit=2, offset=1)
    assert page["total"] == 5
    assert len(page["items"]) == 2
    assert api.get("/tasks", q="lamp 3")["items"][0]["title"] == "Lamp 3"
    assert api.get("/tasks", limit=0, status=422)["errors"]["query"]["limit"]
    assert api.get("/tasks", bogus=1, status=422)["code"] == 422
    assert api.get(f"/workers/{WORKER.party_id}/matches", skill="cad")[0]["matched"] == ["cad"]


def test_an_export_after_every_entry_type_audits_clean(
    api: Api, local_node: LocalNode, tmp_path: Path
) -> None:
    test_every_entry_type_round_trips(api, local_node)
    runner = CliRunner()
    env = {"RDH_DATABASE_URL": local_node.settings.database_url}
    out = tmp_path / "bundle"
    exported = runner.invoke(
        rdh, ["export", "-d", str(local_node.settings.node_dir), str(out)], env=env
    )
    assert exported.exit_code == 0, exported.output
    audited = runner.invoke(rdh, ["audit", str(out), "--format", "json"])
    assert audited.exit_code == 0, audited.output
    report = json.loads(audited.output)
    assert report["ok"] is True
    assert report["rules_checked"] is True
    assert report["statements_checked"] >= 9  # the worker's and the partner's signatures


def test_the_node_signs_as_a_party_for_its_admin_only(api: Api, local_node: LocalNode) -> None:
    request = {"type": "share.activate", "log": PARTNER.party_id, "body": {"proposal": "ab" * 32}}
    assert api.client.post("/api/v1/statements/sign", json=request).status_code == 401
    response = api.client.post(
        "/api/v1/statements/sign", json=request, headers={"Authorization": f"Bearer {api.token}"}
    )
    assert response.status_code == 200
    signed_back = SignedStatement.from_dict(response.get_json())
    signed_back.verify()
    assert signed_back.statement.signer == local_node.store.key.public
    assert signed_back.statement.log == PARTNER.party_id
    refused = api.client.post(
        "/api/v1/statements/sign",
        json=dict(request, type="task.apply"),
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert refused.status_code == 422


def test_stored_entries_that_break_a_rule_are_flagged(api: Api, local_node: LocalNode) -> None:
    other = LogStore(local_node.sessions, key("mirrored-partner"))
    other.init_log(Genesis(name="Partner", kind="partner"), NOW)
    late = task_body(NOW)
    late["deadline"] = "2020-01-01T00:00:00Z"
    other.append([EntryDraft("task.publish", late)], NOW)  # authentic, but breaks a rule
    found = api.get("/violations")
    assert found["total"] == 1
    (item,) = found["items"]
    assert item["log"] == other.log_id
    assert item["seq"] == 1
    assert item["rule"].startswith("task.publish")
    assert api.get("/violations", log=api.log)["total"] == 0


@pytest.mark.parametrize("depth", [99, 150, 900, 5000])
def test_deep_bodies_in_a_batch_are_refused_whole(api: Api, depth: int) -> None:
    before = len(api.get("/entries"))
    good = json.dumps({"type": "task.publish", "body": task_body(NOW)})
    body = task_body(NOW)
    body["description"] = "DEEP"
    deep = json.dumps({"type": "task.publish", "body": body}).replace(
        '"DEEP"', "[" * depth + '"x"' + "]" * depth
    )
    data = '{"entries": [' + ", ".join([good, good, good, deep]) + "]}"
    response = api.client.post(
        "/api/v1/entries",
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code in (400, 422)
    if depth > 100:
        assert "deeper than 100" in response.get_json()["message"]
    assert len(api.get("/entries")) == before


def test_the_written_answer_is_the_same_json_as_append_out(local_node: LocalNode) -> None:
    service = NodeService(local_node, clock=Clock(NOW))
    result = service.record(
        [EntryDraft("task.publish", task_body(NOW, title=f"a{n}")) for n in range(3)]
    )
    assert json.loads(append_out_json(result)) == append_out(result)

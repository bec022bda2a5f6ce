"""Hostile input at the write API: clock skew and replayed statements, huge and deeply
nested JSON, giant numbers. Each is refused with a 4xx JSON error and the stored state
(size, checkpoint, entry and tile rows, all checked against the checkpoint) is unchanged.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from node.local_node import LocalNode
from tests.hardening.node_app import NodeApp, publish
from tests.node.stories import WORKER, enroll_body, signed

HOSTILE = {
    "nested-arrays": b'{"entries": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "nested-objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "deep-but-legal-body": b'{"entries": [{"type": "task.publish", "body": '
    + b'{"a":' * 98
    + b"1"
    + b"}" * 98
    + b"}]}",
    "huge-integer": b'{"entries": [{"type": "task.publish", "body": {"n": '
    + b"9" * 100_000
    + b"}}]}",
    "float": b'{"entries": [{"type": "task.publish", "body": {"n": 1e400}}]}',
    "duplicate-keys": b'{"entries": [], "entries": [{"type": "x", "body": {}}]}',
    "lone-surrogate": b'{"entries": [{"type": "\\ud800", "body": {}}]}',
    "not-utf8": b'{"entries": [{"type": "\xff\xfe", "body": {}}]}',
    "bom": b'\xef\xbb\xbf{"entries": []}',
    "many-keys": b'{"entries": [{"type": "task.publish", "body": {'
    + b",".join(b'"k%d":%d' % (i, i) for i in range(200_000))
    + b"}}]}",
    "oversized-entry": b'{"entries": [{"type": "task.publish", "body": {"title": "'
    + b"x" * 70_000
    + b'"}}]}',
    "too-big": b'{"entries": ["' + b"x" * (5 * 1024 * 1024) + b'"]}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_json_is_a_4xx_and_changes_nothing(local_node: LocalNode, name: str) -> None:
    node = NodeApp(local_node)
    before = node.stored()
    response = node.post("/api/v1/entries", data=HOSTILE[name])
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:300])
    error = response.get_json()
    assert set(error) == {"code", "status", "message", "errors"}
    assert "Traceback" not in response.get_data(as_text=True)
    assert node.stored() == before
    assert node.post("/api/v1/entries", publish(1, tag="still")).status_code == 201


@pytest.mark.parametrize("skew", [-3600, -301, 301, 86_400 * 365])
def test_a_statement_from_a_skewed_clock_is_refused(local_node: LocalNode, skew: int) -> None:
    node = NodeApp(local_node)
    before = node.stored()
    statement = signed(
        WORKER,
        node.log,
        "member.enroll",
        enroll_body(WORKER),
        node.now + timedelta(seconds=skew),
        f"skew{skew}",
    )
    response = node.client.post("/api/v1/statements", json=statement.to_dict())
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"]["rule"].startswith("statement.")
    assert node.stored() == before


def test_a_replayed_statement_is_refused_even_later(local_node: LocalNode) -> None:
    node = NodeApp(local_node)
    statement = signed(WORKER, node.log, "member.enroll", enroll_body(WORKER), node.now, "rp")
    assert node.client.post("/api/v1/statements", json=statement.to_dict()).status_code == 201
    after_first = node.stored()
    for seconds in (0, 60, 180):  # replays within the clock window: the nonce refuses them
        node.advance(seconds)
        again = node.client.post("/api/v1/statements", json=statement.to_dict())
        assert again.status_code == 409, again.get_json()
        assert again.get_json()["errors"]["rule"] == "statement.nonce"
    node.advance(3600)  # and later, the clock window refuses it first
    late = node.client.post("/api/v1/statements", json=statement.to_dict())
    assert late.status_code in (409, 422)
    assert node.stored() == after_first


def test_a_statement_for_another_log_is_refused(local_node: LocalNode) -> None:
    node = NodeApp(local_node)
    before = node.stored()
    statement = signed(WORKER, "ab" * 32, "member.enroll", enroll_body(WORKER), node.now, "x")
    response = node.client.post("/api/v1/statements", json=statement.to_dict())
    assert 400 <= response.status_code < 500
    assert node.stored() == before

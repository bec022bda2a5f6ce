"""Relay (DESIGN §6): a worker may use any node; a statement for another community's log is
handed to that log's node (known from the peers) and its decision passed back."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from node.api.app import create_app
from node.local_node import LocalNode, init_node
from node.own_log import Genesis
from node.peers import HttpTransport, add_peer
from node.service import NodeService
from node.settings import Settings
from tests.builders import key
from tests.node.stories import WORKER, enroll_body, signed


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Served:
    node: LocalNode
    url: str
    server: BaseWSGIServer

    @property
    def log(self) -> str:
        return self.node.store.log_id


def _serve(tmp_path: Path, name: str) -> Served:
    settings = Settings(
        node_dir=tmp_path / name,
        database_url=f"sqlite:///{tmp_path / f'{name}.db'}",
        key_file=tmp_path / name / "node.key",
    )
    node, _ = init_node(
        settings, Genesis(name=name, kind="micro-enterprise"), _now(), key=key(name)
    )
    app = create_app(node, service=NodeService(node, clock=_now))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return Served(node, f"http://127.0.0.1:{server.server_port}", server)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Served, Served]]:
    a, b = _serve(tmp_path, "studio"), _serve(tmp_path, "workshop")
    transport = HttpTransport()
    add_peer(a.node.sessions, transport, b.url, _now(), own_log=a.log, witness=False)
    transport.close()
    yield a, b
    for served in (a, b):
        served.server.shutdown()
        served.server.server_close()
        served.node.close()


def _post(served: Served, statement: dict[str, object]) -> tuple[int, dict[str, object], str]:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        served.url + "/api/v1/statements",
        data=json.dumps(statement).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return (
                response.status,
                json.load(response),
                response.headers.get("X-Rdh-Relayed-To", ""),
            )
    except urllib.error.HTTPError as e:
        return e.code, json.load(e), e.headers.get("X-Rdh-Relayed-To", "")


def test_a_statement_for_a_peer_log_is_relayed_and_recorded_there(
    pair: tuple[Served, Served],
) -> None:
    a, b = pair
    statement = signed(WORKER, b.log, "member.enroll", enroll_body(WORKER), _now(), "relay")
    status, answer, relayed = _post(a, statement.to_dict())
    assert status == 201, answer
    assert relayed == b.url
    entries = answer["entries"]
    assert isinstance(entries, list)
    assert entries[0]["log"] == b.log
    service = NodeService(b.node, clock=_now)
    with service.state() as state:
        assert (b.log, WORKER.party_id) in state.members
    again, refused, _ = _post(a, statement.to_dict())  # a replay, refused by the other node
    assert again == 409
    assert refused["errors"] == {"rule": "statement.nonce"}


def test_a_statement_for_an_unknown_log_or_a_dead_node_is_refused(
    pair: tuple[Served, Served],
) -> None:
    a, b = pair
    stranger = signed(WORKER, "ab" * 32, "member.enroll", enroll_body(WORKER), _now(), "x")
    status, answer, _ = _post(a, stranger.to_dict())
    assert status == 422
    assert answer["errors"] == {"rule": "statement.log"}
    forged = signed(WORKER, b.log, "member.enroll", enroll_body(WORKER), _now(), "y").to_dict()
    forged["statement"]["body"] = enroll_body(WORKER, "Mallory")  # type: ignore[index]
    status, answer, _ = _post(a, forged)
    assert status == 422
    assert answer["errors"] == {"rule": "statement.signature"}
    b.server.shutdown()
    b.server.server_close()
    late = signed(WORKER, b.log, "member.enroll", enroll_body(WORKER), _now(), "z")
    status, answer, _ = _post(a, late.to_dict())
    assert status == 502
    assert "could not take it" in str(answer["message"])

"""The C2SP tlog-witness endpoint `POST /witness/add-checkpoint` of a node, on SQLite and
PostgreSQL: every status code of the spec, the compare-and-swap of the stored checkpoint,
the cosignature line, and evidence kept for a same-size conflict."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from flask.testing import FlaskClient

from ledger.checkpoint import open_checkpoint
from ledger.cosignature import CosignerKey
from ledger.keys import encode_base64
from ledger.memlog import MemoryLog
from ledger.merkle import EMPTY_ROOT
from ledger.note import NoteVerifier
from node.api import create_app
from node.db.models import LogRow
from node.local_node import LocalNode
from node.witness import SIZE_CONTENT_TYPE, add_cosignatures, witness_name
from tests.builders import key
from tests.node.federation.logs import fork, memory_log


def _follow(node: LocalNode, log: MemoryLog) -> None:
    with node.sessions.begin() as session:
        session.add(
            LogRow(
                id=log.log_id,
                origin=log.origin,
                vkey=log.vkey,
                local=False,
                size=0,
                root=EMPTY_ROOT,
            )
        )


def _body(old: int, proof: Sequence[bytes], note: bytes) -> bytes:
    return (
        f"old {old}\n".encode()
        + b"".join(encode_base64(h).encode() + b"\n" for h in proof)
        + b"\n"
        + note
    )


@pytest.fixture
def client(local_node: LocalNode) -> FlaskClient:
    return create_app(local_node).test_client()


def _post(client: FlaskClient, body: bytes) -> tuple[int, str, bytes]:
    response = client.post("/witness/add-checkpoint", data=body, content_type="text/plain")
    return response.status_code, response.content_type, response.data


def test_add_checkpoint_cosigns_extensions_only(client: FlaskClient, local_node: LocalNode) -> None:
    log = memory_log(5)
    _follow(local_node, log)
    info: Any = client.get("/witness").json
    assert info["name"] == witness_name(local_node.store.log_id)
    witness = CosignerKey.from_vkey(info["vkey"])

    note3 = log.checkpoint(size=3)
    status, _, line = _post(client, _body(0, [], note3))
    assert status == 200
    cosigned = add_cosignatures(note3, [])  # unchanged
    verified = open_checkpoint(
        note3 + line, verifier=NoteVerifier.from_vkey(log.vkey), witnesses=[witness]
    )
    assert verified.cosigned_by == (witness.name,)
    assert cosigned == note3

    # stale old size: 409 with the stored size
    status, content_type, body = _post(client, _body(0, [], log.checkpoint(size=5)))
    assert (status, content_type, body) == (409, SIZE_CONTENT_TYPE, b"3\n")
    # a wrong proof: 422; the right one: 200
    assert _post(client, _body(3, [bytes(32)], log.checkpoint(size=5)))[0] == 422
    proof = log.tree.consistency_proof(3, 5)
    assert _post(client, _body(3, proof, log.checkpoint(size=5)))[0] == 200
    # the same checkpoint again is cosigned again
    assert _post(client, _body(5, [], log.checkpoint(size=5)))[0] == 200


BAD = {
    "no blank line": b"old 0\nabc",
    "no old line": b"new 0\n\nx",
    "leading zero": b"old 01\n\n",
    "not base64": b"old 1\n!!!\n\n",
}


@pytest.mark.parametrize("body", BAD.values(), ids=BAD.keys())
def test_malformed_requests_are_400(client: FlaskClient, body: bytes) -> None:
    assert _post(client, body)[0] == 400


def test_status_codes(client: FlaskClient, local_node: LocalNode) -> None:
    log = memory_log(4)
    unknown = memory_log(2, "stranger")
    assert _post(client, _body(0, [], unknown.checkpoint()))[0] == 404  # origin not followed
    _follow(local_node, log)
    forged = memory_log(4, "stranger-key")  # same entries, another key: not the log's signature
    note = log.checkpoint()
    bad_sig = note.replace(note.split(b" ")[-1], forged.checkpoint().split(b" ")[-1])
    assert _post(client, _body(0, [], bad_sig))[0] == 403
    assert _post(client, _body(9, [], note))[0] == 400  # old size above the checkpoint's
    own = local_node.store.checkpoint()
    assert _post(client, _body(0, [], own))[0] == 404  # a node does not witness itself


def test_a_same_size_conflict_is_409_and_kept_as_evidence(
    client: FlaskClient, local_node: LocalNode
) -> None:
    a, b = fork(3)
    _follow(local_node, a)
    assert _post(client, _body(0, [], a.checkpoint()))[0] == 200
    assert _post(client, _body(3, [], b.checkpoint()))[0] == 409
    evidence: Any = client.get("/evidence").json
    [item] = evidence
    assert item["log"] == a.log_id
    assert item["evidence"].startswith("rdh/equivocation/v1\n")
    assert key("forker").party_id == a.log_id

"""The federation endpoints: the C2SP tlog-witness API, the witness's key, and evidence.

    POST /witness/add-checkpoint   C2SP tlog-witness (status codes in `node.witness`)
    GET  /witness                  JSON {log, name, vkey}: this node's witness key
    GET  /evidence                 JSON [{id, log, evidence}]: stored equivocation evidence,
                                   each `evidence` an `rdh/equivocation/v1` file (protocol §13)

The views are thin: `node.witness.NodeWitness` does the witnessing, `node.evidence_store`
reads the evidence. Anyone may call them (tlog-witness authenticates the checkpoint's
signature, not the caller).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request

from node.api.app import current_node
from node.evidence_store import list_evidence
from node.witness import MAX_ADD_CHECKPOINT_BYTES, NodeWitness

__all__ = ["witness_blueprint"]

witness_blueprint = Blueprint("witness", __name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _witness() -> NodeWitness:
    return NodeWitness(current_node(), _now)


@witness_blueprint.post("/witness/add-checkpoint")
def add_checkpoint() -> Response:
    """Cosign a checkpoint that extends the one cosigned before for its origin."""
    length = request.content_length
    if length is not None and length > MAX_ADD_CHECKPOINT_BYTES:
        return Response("the request body is too large\n", 413, content_type="text/plain")
    body = request.stream.read(MAX_ADD_CHECKPOINT_BYTES + 1)
    if len(body) > MAX_ADD_CHECKPOINT_BYTES:
        return Response("the request body is too large\n", 413, content_type="text/plain")
    answer = _witness().add_checkpoint(body)
    response = Response(answer.body, answer.status, content_type=answer.content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


@witness_blueprint.get("/witness")
def witness_key() -> Response:
    """This node's witness: its log id, key name and cosignature vkey (type 0x04)."""
    witness = _witness()
    return jsonify(log=witness.log_id, name=witness.name, vkey=witness.vkey)


@witness_blueprint.get("/evidence")
def evidence() -> Response:
    """Every piece of equivocation evidence this node stores."""
    with current_node().sessions.begin() as session:
        items = [item.to_dict() for item in list_evidence(session)]
    response = jsonify(items)
    response.headers["Cache-Control"] = "no-store"
    return response

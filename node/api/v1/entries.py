"""`/api/v1/entries`: read the entries of every stored log, get receipts, write (admin).

GET  /entries?log=&type=&after=&limit=   entries of one log (default: this node's), by seq
GET  /entries/<id>                       one entry (JSON, with log and seq)
GET  /entries/<id>/receipt               its tlog-proof@v1 receipt (text), offline-checkable
POST /entries                            admin: append a batch of the node's own entries
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, make_response, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import RAISE
from sqlalchemy import select

from ledger.canonical import parse_canonical
from ledger.receipt import Receipt
from ledger.types import PartyId
from node.api.auth import admin_required
from node.api.v1 import current_service
from node.api.v1.body import fail
from node.api.v1.schemas import AppendOut, BatchIn, EntryListArgs, EntryOut
from node.db.models import EntryRow, entry_row
from node.log_reader import LogReader
from node.own_log import AppendResult

__all__ = ["append_out", "append_out_json", "entries_blueprint"]

entries_blueprint = Blueprint(
    "entries", __name__, url_prefix="/entries", description="Entries, receipts, admin writes"
)


def _entry_out(row: EntryRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "log": row.log_id,
        "seq": row.seq,
        "type": row.type,
        "time": row.time,
        "entry": parse_canonical(row.data),
    }


def append_out(result: AppendResult) -> dict[str, Any]:
    """What a write answers: the new entries' ids and seqs, and the signed checkpoint."""
    return {
        "entries": [
            {"id": e.id, "log": e.log, "seq": e.seq, "type": e.type} for e in result.entries
        ],
        "checkpoint": result.checkpoint.decode(),
    }


def append_out_json(result: AppendResult) -> str:
    """`append_out` as JSON text, written directly: a 1,000-entry answer is on the hot path.
    Every value but the checkpoint is hex, a decimal or a checked type name (no escaping)."""
    log = result.entries[0].log
    rows = ",".join(
        f'{{"id":"{e.id}","log":"{log}","seq":{e.seq},"type":"{e.type}"}}' for e in result.entries
    )
    return f'{{"entries":[{rows}],"checkpoint":{json.dumps(result.checkpoint.decode())}}}'


@entries_blueprint.route("")
class Entries(MethodView):
    @entries_blueprint.arguments(EntryListArgs, location="query", unknown=RAISE)
    @entries_blueprint.response(200, EntryOut(many=True))
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """List the entries of a log (this node's by default) from seq `after`+1."""
        service = current_service()
        log = args.get("log", service.log_id)
        query = (
            select(EntryRow)
            .where(EntryRow.log_id == log, EntryRow.seq > args["after"])
            .order_by(EntryRow.seq)
            .offset(args["offset"])
            .limit(args["limit"])
        )
        if "type" in args:
            query = query.where(EntryRow.type == args["type"])
        with service.node.sessions.begin() as session:
            return [_entry_out(row) for row in session.execute(query).scalars()]

    @entries_blueprint.response(201, AppendOut)
    @entries_blueprint.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": BatchIn}},
            "description": "entries: [{type, body, refs?, signed?}]; refs default to the "
            "entry ids the body names",
        }
    )
    @admin_required
    def post(self) -> Response:
        """Append the node's own entries as one batch, checked against the contract rules."""
        if request.mimetype != "application/json":
            fail(415, "send the body as application/json")
        # read by `node.drafts` where the write runs (the writer process, under `rdh serve`)
        result = current_service().record_json(request.get_data())
        return Response(append_out_json(result), status=201, mimetype="application/json")


def _row(entry_id: str) -> EntryRow:
    if len(entry_id) != 64 or any(c not in "0123456789abcdef" for c in entry_id):
        abort(404, message=f"{entry_id!r} is not an entry id (64 lowercase hex digits)")
    with current_service().node.sessions.begin() as session:
        row = entry_row(session, entry_id)
        if row is None:
            abort(404, message=f"no entry {entry_id} is stored on this node")
        assert row is not None
        session.expunge(row)
        return row


@entries_blueprint.route("/<entry_id>")
class OneEntry(MethodView):
    @entries_blueprint.response(200, EntryOut)
    def get(self, entry_id: str) -> dict[str, Any]:
        """One entry of any stored log, by id."""
        return _entry_out(_row(entry_id))


@entries_blueprint.route("/<entry_id>/receipt")
class EntryReceipt(MethodView):
    @entries_blueprint.response(
        200, {"type": "string"}, content_type="text/plain", description="tlog-proof@v1"
    )
    def get(self, entry_id: str) -> Response:
        """The entry's receipt: a tlog-proof@v1 with the entry bytes, against the log's
        latest signed checkpoint (verify it with `rdh verify`)."""
        row = _row(entry_id)
        with current_service().node.sessions.begin() as session:
            reader = LogReader(session, PartyId(row.log_id))
            checkpoint = reader.checkpoint()
            proof = reader.inclusion_proof(row.seq, checkpoint.size)
        receipt = Receipt(
            entry=row.data, index=row.seq, proof=tuple(proof), checkpoint=checkpoint.note
        )
        response = make_response(receipt.to_bytes())
        response.mimetype = "text/plain"
        response.headers["Content-Disposition"] = f'attachment; filename="{entry_id[:16]}.receipt"'
        return response

"""`POST /api/v1/statements`: a party's signed statement (a worker's consent).

No admin token: the signature is the authority (DESIGN §2.5). The node records the entry
the statement signs (201, with the entry and checkpoint), or, for entries that need several
parties' statements or the node's decision, keeps it until then (202, who signed and who
is still to sign). A statement addressed to another log is relayed to that log's node (known
from the peers) and its answer passed on, with `X-Rdh-Relayed-To: <url>`; 502 if that node
cannot be reached. See `node.service.NodeService.submit`.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ledger.errors import LedgerError
from ledger.statement import SignedStatement
from node.api.auth import admin_required
from node.api.v1 import current_service
from node.api.v1.body import json_body
from node.api.v1.entries import append_out
from node.api.v1.schemas import AppendOut, SignedStatementIn, StrictSchema
from node.errors import RuleRejected
from node.service import Collected, Relayed

__all__ = ["statements_blueprint"]

statements_blueprint = Blueprint(
    "statements", __name__, url_prefix="/statements", description="Parties' signed statements"
)


class CollectedOut(Schema):
    type = fields.String()
    target = fields.String()
    signed = fields.List(fields.String(), metadata={"description": "party ids that signed"})
    waiting = fields.List(fields.String(), metadata={"description": "party ids still to sign"})


@statements_blueprint.route("")
class Statements(MethodView):
    @statements_blueprint.response(201, AppendOut, description="recorded")
    @statements_blueprint.alt_response(202, schema=CollectedOut, description="kept")
    @statements_blueprint.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": SignedStatementIn}},
            "description": '{"statement": {v, type, log, signer, time, nonce, body}, '
            '"sig": base64}',
        }
    )
    def post(self) -> tuple[dict[str, Any], int]:
        """Submit a signed statement addressed to this node's log."""
        data = json_body(SignedStatementIn())
        try:
            signed = SignedStatement.from_dict(data)
        except LedgerError as e:
            raise RuleRejected("statement.format", f"the statement cannot be read: {e}") from e
        outcome = current_service().submit(signed)
        if isinstance(outcome, Relayed):  # the other log's node decided; pass its answer on
            response = Response(
                json.dumps(outcome.answer), status=outcome.status, mimetype="application/json"
            )
            response.headers["X-Rdh-Relayed-To"] = outcome.url
            return response  # type: ignore[return-value]
        if isinstance(outcome, Collected):
            return {
                "type": outcome.type,
                "target": outcome.target,
                "signed": list(outcome.signed),
                "waiting": list(outcome.waiting),
            }, 202
        return append_out(outcome), 201


class PartySignIn(StrictSchema):
    type = fields.String(required=True, validate=validate.Length(1, 40))
    log = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    body = fields.Dict(required=True)


@statements_blueprint.route("/sign")
class PartySign(MethodView):
    @statements_blueprint.response(200, SignedStatementIn, description="the signed statement")
    @statements_blueprint.doc(
        requestBody={"required": True, "content": {"application/json": {"schema": PartySignIn}}}
    )
    @admin_required
    def post(self) -> Response:
        """Admin: sign, as this node's log, a statement for an entry another log records
        with this log as a party (share.activate, share.terminate, payment.confirm of a
        payout). Submit the answer to that log's node at `POST /api/v1/statements`."""
        data = json_body(PartySignIn())
        signed = current_service().sign_as_party(data["type"], data["log"], data["body"])
        return Response(json.dumps(signed.to_dict()), status=200, mimetype="application/json")

"""The worker's side: their key and sign-in, statements they sign, their contracts and
portfolio.

    GET  /ui/keys                 create / back up / restore the key (keys.js), sign in or out
    POST /ui/signin               JSON {signer, sig}: a signature over the session's challenge
    POST /ui/signout              (form)
    POST /ui/statements           JSON {statement, sig}: relayed to `NodeService.submit`
    GET  /ui/me                   the signed-in worker's portfolio
    GET  /ui/workers/<party id>   a worker's portfolio across communities
    GET  /ui/contracts/<id>       a contract: terms, parts; sign, submit work, confirm payment

Sign-in proves that the browser holds the key of a party id: the server puts a random
challenge in the session (valid `CHALLENGE_SECONDS`, used once); the browser signs
`SIGNIN_PREFIX` + the canonical JSON `{"challenge", "host", "signer"}` with Ed25519, and the
server checks it. Only the public key and the signature travel; the private key never
leaves the browser. Statements need no sign-in: their signature is their authority.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import abort, jsonify, redirect, request, session, url_for
from werkzeug.wrappers import Response

from contracts.matching import attested_skills, rating
from contracts.schemas import ENGAGEMENTS
from ledger.canonical import canonicalize, parse
from ledger.errors import LedgerError
from ledger.keys import VerifyingKey, decode_base64
from ledger.statement import SignedStatement
from node.errors import NodeError, RuleRejected
from node.service import Collected, Relayed
from web.blueprint import back, community_names, page, service, web_blueprint
from web.security import signed_in_party

__all__ = ["CHALLENGE_SECONDS", "SIGNIN_PREFIX", "signin_message"]

SIGNIN_PREFIX = b"rdh/web-signin/v1\n"
CHALLENGE_SECONDS = 300
_MAX_JSON = 64 * 1024


def signin_message(*, challenge: str, host: str, signer: str) -> bytes:
    """The bytes a worker signs to sign in."""
    return SIGNIN_PREFIX + canonicalize({"challenge": challenge, "host": host, "signer": signer})


def _challenge() -> str:
    value = secrets.token_urlsafe(32)
    session["challenge"] = {"value": value, "until": int(time.time()) + CHALLENGE_SECONDS}
    return value


@web_blueprint.route("/keys")
def keys() -> str:
    return page("keys.html", challenge=_challenge(), host=request.host)


def _json_request() -> dict[str, Any]:
    if request.mimetype != "application/json" or (request.content_length or 0) > _MAX_JSON:
        abort(415, "Send a JSON body (at most 64 KiB).")
    try:
        value = parse(request.get_data())
    except LedgerError as e:
        abort(400, f"The body is not valid JSON: {e}")
    if not isinstance(value, dict):
        abort(400, "The body must be a JSON object.")
    return value


def _refuse(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify(code=status, message=message, **extra), status


@web_blueprint.route("/signin", methods=["POST"])
def signin() -> tuple[Response, int]:
    data = _json_request()
    pending = session.pop("challenge", None)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return _refuse(400, "The sign-in challenge has expired: reload the page and try again.")
    signer, sig = data.get("signer"), data.get("sig")
    if not isinstance(signer, str) or not isinstance(sig, str) or set(data) != {"signer", "sig"}:
        return _refuse(400, "Send exactly {signer, sig}.")
    try:
        key = VerifyingKey.from_b64(signer)
        message = signin_message(challenge=pending["value"], host=request.host, signer=signer)
        key.verify(signature=decode_base64(sig, what="sig"), data=message)
    except LedgerError:
        return _refuse(403, "The signature does not match the challenge: sign-in refused.")
    session["party"] = key.party_id
    session.permanent = True
    return jsonify(party=key.party_id), 200


@web_blueprint.route("/signout", methods=["POST"])
def signout() -> Response:
    session.pop("party", None)
    return back("web.keys")


@web_blueprint.route("/statements", methods=["POST"])
def statements() -> tuple[Response, int]:
    """Relay a signed statement to the node (the same checks as `POST /api/v1/statements`)."""
    data = _json_request()
    try:
        signed = SignedStatement.from_dict(data)
    except LedgerError as e:
        return _refuse(422, f"The statement cannot be read: {e}")
    try:
        outcome = service().submit(signed)
    except RuleRejected as e:
        return _refuse(422, str(e), rule=e.rule)
    except (NodeError, LedgerError) as e:
        return _refuse(422, str(e))
    if isinstance(outcome, Relayed):  # another community's node decided
        return jsonify(relayed=outcome.url, **outcome.answer), outcome.status
    if isinstance(outcome, Collected):
        return jsonify(
            collected=True, signed=list(outcome.signed), waiting=list(outcome.waiting)
        ), 202
    return jsonify(
        entries=[{"id": e.id, "seq": e.seq, "type": e.type} for e in outcome.entries]
    ), 201


@web_blueprint.route("/me")
def me() -> Response:
    party = signed_in_party()
    if party is None:
        return redirect(url_for("web.keys"))
    return redirect(url_for("web.worker", party=party))


@web_blueprint.route("/workers/<party>")
def worker(party: str) -> str:
    if len(party) != 64 or any(c not in "0123456789abcdef" for c in party):
        abort(404, "A worker is known by their party id: 64 lowercase hex digits.")
    with service().state() as state:
        names = community_names(state)
        memberships = [m for m in state.members.values() if m.worker == party]
        contracts = sorted(
            (c for c in state.contracts.values() if c.worker == party),
            key=lambda c: c.offered_at,
            reverse=True,
        )
        titles = {c.id: state.tasks[c.task].title for c in contracts if c.task in state.tasks}
        balances = [
            {"currency": code, "earned": b.earned, "paid": b.paid, "confirmed": b.confirmed}
            for (who, code), b in sorted(state.balances.by_party.items())
            if who == party
        ]
        skills = {s: sorted(ids) for s, ids in state.skills.get(party, {}).items()}
        ratings = dict(state.ratings.get(party, {}))
        average = rating(state, party)
        attested = sorted(attested_skills(state, party))
    return page(
        "worker.html",
        party=party,
        names=names,
        memberships=memberships,
        contracts=contracts,
        titles=titles,
        balances=[_money_row(b) for b in balances],
        skills=skills,
        attested=attested,
        ratings=ratings,
        average=average,
        engagements=ENGAGEMENTS,
        own=party == signed_in_party(),
    )


def _money_row(row: dict[str, Any]) -> dict[str, str]:
    from contracts.money import Money

    code = row["currency"]
    return {
        "currency": code,
        **{k: Money.from_minor(row[k], code).to_string() for k in ("earned", "paid", "confirmed")},
    }


@web_blueprint.route("/contracts/<contract_id>")
def contract(contract_id: str) -> str:
    svc = service()
    with svc.state() as state:
        found = state.contracts.get(contract_id)
        if found is None:
            abort(404, f"No contract {contract_id} is known to this node.")
        task = state.tasks.get(found.task)
        names = community_names(state)
        payments = {p.id: p for p in state.payments.values() if p.contract == contract_id}
    return page(
        "contract.html",
        contract=found,
        task=task,
        names=names,
        payments=payments,
        local=found.log == svc.log_id,
        mine=found.worker == signed_in_party(),
    )

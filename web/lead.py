"""The lead's dashboard: admin login, then the community's own entries from forms.

    GET/POST /ui/lead/login        an admin token (`rdh init` / `rdh token create`)
    POST     /ui/lead/logout
    GET      /ui/lead              publish, offers, review, payments, members by engagement
    POST     /ui/lead/publish | offer | accept | reject | pay | close | attest

Every action is one `NodeService.record` of one entry (the contract rules decide; a refusal
is shown as the rule's sentence, nothing is stored). The session keeps only the hash of the
admin token, checked on every request (`web.security.admin_signed_in`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import flash, redirect, request, session, url_for
from werkzeug.wrappers import Response

from contracts.errors import ContractError
from contracts.money import Money
from contracts.schemas import ENGAGEMENTS
from ledger.errors import LedgerError
from ledger.statement import format_time
from ledger.types import JSON
from node.api.auth import token_checker
from node.errors import NodeError
from node.own_log import EntryDraft
from node.tokens import token_hash
from web.blueprint import back, community_names, page, service, web_blueprint
from web.security import admin_signed_in

__all__ = ["FormError", "admin_only", "record_form"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class FormError(ValueError):
    """A form field cannot be used; the message says which and why."""


def admin_only(view: Callable[_P, _R]) -> Callable[_P, _R | Response]:
    @wraps(view)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R | Response:
        if not admin_signed_in():
            flash("Sign in as the community's lead (admin token) first.", "error")
            return redirect(url_for("web.login"), code=303)
        return view(*args, **kwargs)

    return wrapper


@web_blueprint.route("/lead/login", methods=["GET", "POST"])
def login() -> str | Response:
    if request.method == "POST":
        token = request.form.get("token", "").strip()
        if token and token_checker()(token):
            session["admin"] = token_hash(token)
            session.permanent = True
            return back("web.lead")
        flash("That admin token is not valid (make one with `rdh token create`).", "error")
    return page("login.html")


@web_blueprint.route("/lead/logout", methods=["POST"])
def logout() -> Response:
    session.pop("admin", None)
    return back("web.market")


# -- reading form fields --------------------------------------------------------------


def field(name: str, *, required: bool = True, limit: int = 2000) -> str:
    value = request.form.get(name, "").strip()
    if required and not value:
        raise FormError(f"{name.replace('_', ' ')} is required")
    if len(value) > limit:
        raise FormError(f"{name.replace('_', ' ')} is longer than {limit} characters")
    return value


def amount(name: str, currency: str, *, required: bool = True) -> dict[str, JSON] | None:
    text = field(name, required=required, limit=40)
    if not text:
        return None
    try:
        return Money.parse(text, currency).to_dict()  # type: ignore[return-value]
    except ContractError as e:
        raise FormError(f"{name.replace('_', ' ')}: {e}") from e


def when(name: str) -> str:
    """A `datetime-local` (UTC) or date field as a ledger time."""
    text = field(name, limit=20)
    if len(text) == 10:
        text += "T00:00"
    if len(text) == 16:
        text += ":00"
    return text + "Z"


def integer(name: str, low: int, high: int) -> int:
    text = field(name, limit=10)
    if not text.isdigit() or not low <= int(text) <= high:
        raise FormError(f"{name} must be a whole number from {low} to {high}")
    return int(text)


def milestone() -> int | None:
    text = request.form.get("milestone", "").strip()
    return int(text) if text.isdigit() else None


def record_form(build: Callable[[], tuple[str, dict[str, JSON]]], done: str) -> Response:
    """Record the entry `build` makes from the form; flash the outcome; go back."""
    target = request.form.get("next", "")
    if not target.startswith("/ui/") or target.startswith("//"):
        target = url_for("web.lead")
    try:
        kind, body = build()
        result = service().record([EntryDraft(kind, body)])
    except FormError as e:
        flash(f"Not recorded: {e}.", "error")
    except (NodeError, LedgerError, ContractError) as e:
        flash(f"Not recorded: {e}", "error")
    else:
        entry = result.entries[0]
        flash(f"{done} (entry {entry.seq}, {entry.id[:12]}…).", "ok")
    return redirect(target, code=303)


# -- the dashboard --------------------------------------------------------------------


@web_blueprint.route("/lead")
@admin_only
def lead() -> str:
    svc = service()
    log = svc.log_id
    with svc.state() as state:
        names = community_names(state)
        tasks = sorted(
            (t for t in state.tasks.values() if t.log == log and t.status == "open"),
            key=lambda t: t.time,
            reverse=True,
        )[:200]
        contracts = [c for c in state.contracts.values() if c.log == log]
        titles = {c.id: state.tasks[c.task].title for c in contracts if c.task in state.tasks}
        parts = [(c, i, p) for c in contracts for i, p in enumerate(c.parts)]
        review = [(c, i, p) for c, i, p in parts if p.status == "submitted"]
        to_pay = [(c, i, p) for c, i, p in parts if p.status == "accepted"]
        paid = [(c, i, p) for c, i, p in parts if p.status == "paid"]
        waiting = [c for c in contracts if c.status == "offered"]
        attestable = _attestable(state, contracts, log)
        members: dict[str, list[Any]] = {e: [] for e in ENGAGEMENTS}
        for m in state.members.values():
            if m.log == log and m.active:
                members[m.engagement].append(m)
        enrolled = {m.worker for m in state.members.values() if m.log == log and m.active}
        outside = sorted({c.worker for c in contracts if c.worker not in enrolled})
        partners = sorted(state.logs[log].follows.items()) if log in state.logs else []
    default_deadline = format_time(svc.clock() + timedelta(days=14))[:16]
    return page(
        "lead.html",
        names=names,
        tasks=tasks,
        titles=titles,
        review=review,
        to_pay=to_pay,
        waiting=waiting,
        paid=paid,
        attestable=attestable,
        members=members,
        outside=outside,
        partners=partners,
        engagements=ENGAGEMENTS,
        default_deadline=default_deadline,
    )


def _attestable(state: Any, contracts: list[Any], log: str) -> list[tuple[str, str, str]]:
    """(worker, skill, contract) for accepted work whose skill is not attested yet."""
    out = []
    for c in contracts:
        task = state.tasks.get(c.task)
        if task is None or not any(p.status in ("accepted", "paid") for p in c.parts):
            continue
        for skill in task.skills:
            if log not in {
                a.log
                for a in state.attestations.values()
                if a.worker == c.worker and a.skill == skill
            }:
                out.append((c.worker, skill, c.id))
    return out


@web_blueprint.route("/lead/publish", methods=["POST"])
@admin_only
def publish() -> Response:
    def build() -> tuple[str, dict[str, JSON]]:
        currency = field("currency", limit=3).upper()
        skills = [s.strip() for s in field("skills").split(",") if s.strip()]
        engagements = [e for e in request.form.getlist("engagements") if e in ENGAGEMENTS]
        if not engagements:
            raise FormError("choose at least one engagement type")
        return "task.publish", {
            "title": field("title", limit=200),
            "description": field("description", limit=5000),
            "skills": skills,  # type: ignore[dict-item]
            "reward": amount("reward", currency),
            "deadline": when("deadline"),
            "slots": integer("slots", 1, 1000),
            "engagements": engagements,  # type: ignore[dict-item]
            "executor": field("executor", limit=10),
            "claim_mode": field("claim_mode", limit=10),
        }

    return record_form(build, "Task published")


@web_blueprint.route("/lead/offer", methods=["POST"])
@admin_only
def offer() -> Response:
    def build() -> tuple[str, dict[str, JSON]]:
        return "contract.offer", {
            "task": field("task", limit=64),
            "worker": field("worker", limit=64),
            "reward": amount("reward", field("currency", limit=3).upper()),
            "deadline": when("deadline"),
        }

    return record_form(build, "Offer made: the worker can now sign it")


@web_blueprint.route("/lead/accept", methods=["POST"])
@admin_only
def accept() -> Response:
    def build() -> tuple[str, dict[str, JSON]]:
        body: dict[str, JSON] = {
            "contract": field("contract", limit=64),
            "milestone": milestone(),
            "rating": integer("rating", 1, 5),
            "feedback": field("feedback", required=False),
        }
        bonus = amount("bonus", field("currency", limit=3).upper(), required=False)
        if bonus is not None:
            body["bonus"] = bonus
        return "work.accept", body

    return record_form(build, "Work accepted")


@web_blueprint.route("/lead/reject", methods=["POST"])
@admin_only
def reject() -> Response:
    def build() -> tuple[str, dict[str, JSON]]:
        return "work.reject", {
            "contract": field("contract", limit=64),
            "milestone": milestone(),
            "feedback": field("feedback"),
        }

    return record_form(build, "Work rejected: the worker may submit again")


@web_blueprint.route("/lead/pay", methods=["POST"])
@admin_only
def pay() -> Response:
    def build() -> tuple[str, dict[str, JSON]]:
        contract_id = field("contract", limit=64)
        part_no = milestone()
        with service().state() as state:
            contract = state.contracts.get(contract_id)
            part = contract.part(part_no) if contract is not None else None
            if part is None:
                raise FormError("no such contract part")
            due = part.due.to_dict()
        return "payment.record", {
            "contract": contract_id,
            "milestone": part_no,
            "amount": due,  # type: ignore[dict-item]
        }

    return record_form(build, "Payment recorded: the worker can confirm it")


@web_blueprint.route("/lead/close", methods=["POST"])
@admin_only
def close() -> Response:
    return record_form(lambda: ("task.close", {"task": field("task", limit=64)}), "Task closed")


@web_blueprint.route("/lead/attest", methods=["POST"])
@admin_only
def attest() -> Response:
    def build() -> tuple[str, dict[str, JSON]]:
        return "skill.attest", {
            "worker": field("worker", limit=64),
            "skill": field("skill", limit=100),
            "evidence": [field("contract", limit=64)],
        }

    return record_form(build, "Skill attested")

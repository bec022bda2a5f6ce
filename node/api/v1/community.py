"""The contract state of every stored log, read-only: the marketplace and what it leads to.

    GET /tasks?status=&skill=&engagement=&log=&executor=&q=   tasks, newest first (paged)
    GET /tasks/<id>                       one task, with its description and contracts
    GET /tasks/<id>/candidates            workers who could do it, best first
    GET /contracts?worker=&log=&task=&stage=                contracts (paged)
    GET /contracts/<id>
    GET /members?log=&engagement=&active=                   members of communities
    GET /agreements, /agreements/<id>     revenue-share agreements (by proposal or agreement id)
    GET /agreements/<id>/settlement?period=                 the `share.settle` body to record
    GET /value-added?log=&period=&currency=                 a community's value-added statement
    GET /workers/<party id>               a worker's portfolio across communities
    GET /workers/<party id>/matches?skill=                  open tasks for the worker's skills
    GET /violations?log=                  stored entries that break a contract rule (flagged)

All from `NodeService.state()`: the fold over every stored entry (own and mirrored logs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import RAISE, fields, validate

from contracts.errors import ContractError
from contracts.matching import attested_skills, candidates, open_tasks, rating
from contracts.schemas import ENGAGEMENTS
from contracts.state import State
from contracts.value_added import value_added
from ledger.canonical import parse_canonical
from ledger.statement import format_time
from node.api.v1 import current_service
from node.api.v1.schemas import PageArgs, StrictSchema
from node.api.v1.views import plain
from node.db.models import entry_row

__all__ = ["community_blueprint"]

community_blueprint = Blueprint(
    "community", __name__, url_prefix="", description="Tasks, contracts, members, agreements"
)

_HEX64 = validate.Regexp(r"^[0-9a-f]{64}$", error="must be 64 lowercase hex digits")
_PERIOD = validate.Regexp(
    r"^\d{4}(-\d{2}|-Q[1-4])?$", error="a period is like 2026-11, 2026-Q4 or 2026"
)


class TaskArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(["open", "closed", "expired"]))
    skill = fields.String(validate=validate.Length(1, 100))
    engagement = fields.String(validate=validate.OneOf(ENGAGEMENTS))
    executor = fields.String(validate=validate.OneOf(["human", "agent", "any"]))
    log = fields.String(validate=_HEX64)
    q = fields.String(
        validate=validate.Length(1, 200), metadata={"description": "words in the title"}
    )


class ContractArgs(PageArgs):
    worker = fields.String(validate=_HEX64)
    log = fields.String(validate=_HEX64)
    task = fields.String(validate=_HEX64)
    stage = fields.String(validate=validate.Length(1, 40))


class MemberArgs(PageArgs):
    log = fields.String(validate=_HEX64)
    engagement = fields.String(validate=validate.OneOf(ENGAGEMENTS))
    active = fields.Boolean()


class PeriodArgs(StrictSchema):
    period = fields.String(required=True, validate=_PERIOD)


class ValueAddedArgs(PeriodArgs):
    log = fields.String(validate=_HEX64)
    currency = fields.String(load_default="EUR", validate=validate.Regexp(r"^[A-Z]{3}$"))


class ViolationArgs(PageArgs):
    log = fields.String(validate=_HEX64)


class MatchArgs(StrictSchema):
    skill = fields.List(fields.String(validate=validate.Length(1, 100)), load_default=list)


def _page(items: list[Any], args: dict[str, Any]) -> dict[str, Any]:
    offset, limit = args["offset"], args["limit"]
    return {"total": len(items), "offset": offset, "items": items[offset : offset + limit]}


def _now() -> str:
    return format_time(current_service().clock())


def _names(state: State) -> dict[str, str]:
    return {log_id: info.name for log_id, info in state.logs.items()}


def _task_view(state: State, task: Any) -> dict[str, Any]:
    out: dict[str, Any] = plain(task)
    out["community"] = _names(state).get(task.log, "")
    out["applicants"] = len(task.applicants)
    return out


@community_blueprint.route("/tasks")
class Tasks(MethodView):
    @community_blueprint.arguments(TaskArgs, location="query", unknown=RAISE)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The marketplace: tasks of every stored log, newest first."""
        words = args.get("q", "").lower().split()
        with current_service().state() as state:
            found = [
                t
                for t in state.tasks.values()
                if ("status" not in args or t.status == args["status"])
                and ("skill" not in args or args["skill"] in t.skills)
                and ("engagement" not in args or args["engagement"] in t.engagements)
                and ("executor" not in args or t.executor in (args["executor"], "any"))
                and ("log" not in args or t.log == args["log"])
                and all(w in t.title.lower() for w in words)
            ]
            found.sort(key=lambda t: (t.time, t.id), reverse=True)
            page = _page(found, args)
            page["items"] = [_task_view(state, t) for t in page["items"]]
            return page


def _entry_body(entry_id: str) -> dict[str, Any]:
    with current_service().node.sessions.begin() as session:
        row = entry_row(session, entry_id)
        if row is None:
            return {}
        data = row.data
    entry = parse_canonical(data)
    assert isinstance(entry, dict)
    body = entry.get("body")
    return body if isinstance(body, dict) else {}


def _get(objects: dict[str, Any], key: str, what: str) -> Any:
    found = objects.get(key)
    if found is None:
        abort(404, message=f"no {what} {key} is known to this node")
    return found


@community_blueprint.route("/tasks/<task_id>")
class OneTask(MethodView):
    def get(self, task_id: str) -> dict[str, Any]:
        """One task with its full published body and its contracts."""
        with current_service().state() as state:
            task = _get(state.tasks, task_id, "task")
            out = _task_view(state, task)
            out["contracts"] = [plain(state.contracts[c]) for c in task.contracts]
        out["published"] = _entry_body(task_id)
        return out


@community_blueprint.route("/tasks/<task_id>/candidates")
class TaskCandidates(MethodView):
    def get(self, task_id: str) -> list[Any]:
        """Workers who applied or hold an attested skill the task asks for, best first."""
        with current_service().state() as state:
            _get(state.tasks, task_id, "task")
            return [plain(c) for c in candidates(state, task_id, now=_now())]


@community_blueprint.route("/contracts")
class Contracts(MethodView):
    @community_blueprint.arguments(ContractArgs, location="query", unknown=RAISE)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Contracts of every stored log, newest first."""
        with current_service().state() as state:
            found = [
                c
                for c in state.contracts.values()
                if all(
                    name not in args or getattr(c, name) == args[name]
                    for name in ("worker", "log", "task")
                )
                and ("stage" not in args or c.stage == args["stage"])
            ]
            found.sort(key=lambda c: (c.offered_at, c.id), reverse=True)
            page = _page(found, args)
            page["items"] = [plain(c) for c in page["items"]]
            return page


@community_blueprint.route("/contracts/<contract_id>")
class OneContract(MethodView):
    def get(self, contract_id: str) -> Any:
        """One contract: its parts (milestones), stage, payments."""
        with current_service().state() as state:
            return plain(_get(state.contracts, contract_id, "contract"))


@community_blueprint.route("/members")
class Members(MethodView):
    @community_blueprint.arguments(MemberArgs, location="query", unknown=RAISE)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Members of every stored community: employees, gig workers, partners, agents."""
        with current_service().state() as state:
            found = [
                m
                for m in state.members.values()
                if ("log" not in args or m.log == args["log"])
                and ("engagement" not in args or m.engagement == args["engagement"])
                and ("active" not in args or m.active == args["active"])
            ]
            found.sort(key=lambda m: (m.log, m.display_name, m.worker))
            page = _page(found, args)
            page["items"] = [plain(m) for m in page["items"]]
            return page


def _agreements(state: State) -> Iterable[Any]:
    seen: set[int] = set()
    for agreement in [*state.proposals.values(), *state.agreements.values()]:
        if id(agreement) not in seen:
            seen.add(id(agreement))
            yield agreement


@community_blueprint.route("/agreements")
class Agreements(MethodView):
    def get(self) -> list[Any]:
        """Revenue-share agreements, proposed, active or terminated."""
        with current_service().state() as state:
            return [plain(a) for a in _agreements(state)]


@community_blueprint.route("/agreements/<agreement_id>")
class OneAgreement(MethodView):
    def get(self, agreement_id: str) -> Any:
        """One agreement (by proposal or agreement id), with its reports and settlements."""
        with current_service().state() as state:
            agreement = state.agreements.get(agreement_id) or _get(
                state.proposals, agreement_id, "agreement"
            )
            out = plain(agreement)
            key = agreement.agreement
            out["revenues"] = [plain(r) for r in state.revenues.values() if r.agreement == key]
            out["settlements"] = [
                plain(s) for s in state.settlements.values() if s.agreement == key
            ]
            return out


@community_blueprint.route("/agreements/<agreement_id>/settlement")
class Settlement(MethodView):
    @community_blueprint.arguments(PeriodArgs, location="query", unknown=RAISE)
    def get(self, args: dict[str, Any], agreement_id: str) -> Any:
        """The exact `share.settle` body for a period: record it with `POST /entries`."""
        return current_service().settlement(agreement_id, args["period"])


@community_blueprint.route("/value-added")
class ValueAdded(MethodView):
    @community_blueprint.arguments(ValueAddedArgs, location="query", unknown=RAISE)
    def get(self, args: dict[str, Any]) -> Any:
        """A community's value-added statement for a period (this node's by default)."""
        service = current_service()
        with service.state() as state:
            try:
                statement = value_added(
                    state,
                    log=args.get("log", service.log_id),
                    period=args["period"],
                    currency=args["currency"],
                )
            except ContractError as e:
                abort(422, message=str(e))
            return statement.to_dict()


@community_blueprint.route("/workers/<worker>")
class Worker(MethodView):
    def get(self, worker: str) -> dict[str, Any]:
        """A worker's portfolio across communities: memberships, contracts, earnings,
        attested skills, rating."""
        with current_service().state() as state:
            balances = _balances(state, worker)
            return {
                "worker": worker,
                "memberships": [plain(m) for m in state.members.values() if m.worker == worker],
                "contracts": [plain(c) for c in state.contracts.values() if c.worker == worker],
                "balances": balances,
                "skills": {s: sorted(ids) for s, ids in state.skills.get(worker, {}).items()},
                "attested": sorted(attested_skills(state, worker)),
                "rating": rating(state, worker),
            }


def _balances(state: State, worker: str) -> list[dict[str, Any]]:
    """The worker's earned, paid, confirmed and owed amounts, per currency (minor units)."""
    return [
        {"currency": code, **plain(balance), "owed": balance.owed}
        for (party, code), balance in sorted(state.balances.by_party.items())
        if party == worker
    ]


@community_blueprint.route("/workers/<worker>/matches")
class WorkerMatches(MethodView):
    @community_blueprint.arguments(MatchArgs, location="query", unknown=RAISE)
    def get(self, args: dict[str, Any], worker: str) -> list[Any]:
        """Open tasks for the worker's attested skills and the skills given, best first."""
        with current_service().state() as state:
            return [
                plain(m)
                for m in open_tasks(state, worker=worker, now=_now(), declared=args["skill"])
            ]


@community_blueprint.route("/violations")
class Violations(MethodView):
    @community_blueprint.arguments(ViolationArgs, location="query", unknown=RAISE)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Stored entries that break a contract rule: a mirrored log's entries are kept even
        when they do (they are authentic), and flagged here with the rule and one sentence."""
        service = current_service()
        with service.state():
            found = [
                v
                for v in service.projection.violations()
                if "log" not in args or v.log == args["log"]
            ]
        page = _page(found, args)
        page["items"] = [
            {"log": v.log, "seq": v.seq, "entry": v.entry_id, "rule": v.rule, "message": v.message}
            for v in page["items"]
        ]
        return page

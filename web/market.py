"""The marketplace (open tasks of every log the node holds) and the task page.

    GET /ui/market?skill=&engagement=&community=&currency=&min_reward=&q=&mine=&skills=&page=
    GET /ui/tasks/<task id>

The filters run over the contract state (`NodeService.state()`, kept in memory and caught
up incrementally, so no query per task): 10,000 open tasks cost one pass of cheap
comparisons, a nearly linear sort and the rendering of one page (`PAGE_SIZE` rows).
"Matches my skills" uses `contracts.matching.open_tasks` with the signed-in worker's
attested skills and the skills they type. The task page shows the terms and, on this
node's own tasks, the statements a worker can sign (apply, or claim an open task).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, request

from contracts.errors import ContractError
from contracts.matching import open_tasks
from contracts.money import Money
from contracts.schemas import ENGAGEMENTS
from contracts.state import State, TaskState
from ledger.statement import format_time
from web.blueprint import community_names, page, service, web_blueprint
from web.security import signed_in_party

__all__ = ["PAGE_SIZE", "Filters", "facets", "filter_tasks"]

PAGE_SIZE = 25
_MAX_PAGE = 100_000


@dataclass(frozen=True, slots=True)
class Filters:
    skill: str = ""
    engagement: str = ""
    community: str = ""
    currency: str = ""
    min_reward: int | None = None
    words: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: Any) -> tuple[Filters, list[str]]:
        problems: list[str] = []
        engagement = args.get("engagement", "").strip()
        if engagement and engagement not in ENGAGEMENTS:
            problems.append(f"{engagement!r} is not an engagement type")
            engagement = ""
        currency = args.get("currency", "").strip().upper()[:3]
        minimum = None
        text = args.get("min_reward", "").strip()
        if text:
            if not currency:
                problems.append("choose the currency of the minimum reward")
            else:
                try:
                    minimum = Money.parse(text, currency).minor
                except ContractError as e:
                    problems.append(f"minimum reward: {e}")
        return cls(
            skill=args.get("skill", "").strip()[:100],
            engagement=engagement,
            community=args.get("community", "").strip()[:64],
            currency=currency,
            min_reward=minimum,
            words=tuple(args.get("q", "").lower().split()[:10]),
        ), problems

    def keep(self, task: TaskState) -> bool:
        if self.skill and self.skill not in task.skills:
            return False
        if self.engagement and self.engagement not in task.engagements:
            return False
        if self.community and task.log != self.community:
            return False
        if self.currency and task.reward.currency.code != self.currency:
            return False
        if self.min_reward is not None and task.reward.minor < self.min_reward:
            return False
        title = task.title.lower()
        return all(w in title for w in self.words)


def filter_tasks(
    state: State, filters: Filters, only: dict[str, int] | None = None
) -> list[TaskState]:
    """The open tasks that pass `filters` (and are in `only`), newest first (or in the
    order of `only`). The fold adds tasks in the order it applies entries, so the reversed
    dict is nearly sorted already and the sort is close to one linear pass."""
    found = [
        t
        for t in reversed(state.tasks.values())
        if t.status == "open" and filters.keep(t) and (only is None or t.id in only)
    ]
    if only is not None:
        found.sort(key=lambda t: only[t.id])
    else:
        found.sort(key=_newest, reverse=True)
    return found


def _newest(task: TaskState) -> tuple[str, str]:
    return (task.time, task.id)


def facets(state: State) -> tuple[list[str], list[str]]:
    """The skills (at most 300) and currencies of the open tasks, for the filter form."""
    skills: set[str] = set()
    currencies: set[str] = set()
    for t in state.tasks.values():
        if t.status == "open":
            skills.update(t.skills)
            currencies.add(t.reward.currency.code)
    return sorted(skills)[:300], sorted(currencies)


@web_blueprint.route("/market")
def market() -> str:
    filters, problems = Filters.from_args(request.args)
    try:
        number = max(1, min(int(request.args.get("page", "1")), _MAX_PAGE))
    except ValueError:
        number = 1
    me = signed_in_party()
    mine = request.args.get("mine") == "1"
    declared = [s.strip() for s in request.args.get("skills", "").split(",") if s.strip()][:50]
    svc = service()
    with svc.state() as state:
        skills, currencies = facets(state)
        only = None
        if mine:
            if me is None:
                problems.append("sign in with your key to see the tasks that match your skills")
            else:
                now = format_time(svc.clock())
                matches = open_tasks(state, worker=me, now=now, declared=declared)
                only = {m.task: i for i, m in enumerate(matches)}
        found = filter_tasks(state, filters, only)
        start = (number - 1) * PAGE_SIZE
        rows = found[start : start + PAGE_SIZE]
        names = community_names(state)
        communities = sorted(names, key=lambda i: names.get(i, i))
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return page(
        "market.html",
        tasks=rows,
        total=len(found),
        page_no=number,
        pages=max(1, -(-len(found) // PAGE_SIZE)),
        names=names,
        skills=skills,
        currencies=currencies,
        communities=communities,
        engagements=ENGAGEMENTS,
        args=request.args,
        query=query,
        problems=problems,
        mine=mine,
    )


@web_blueprint.route("/tasks/<task_id>")
def task(task_id: str) -> str:
    svc = service()
    me = signed_in_party()
    with svc.state() as state:
        found = state.tasks.get(task_id)
        if found is None:
            abort(404, f"No task {task_id} is known to this node.")
        names = community_names(state)
        contracts = [state.contracts[c] for c in found.contracts]
        mine = [c for c in contracts if me is not None and c.worker == me]
        applied = me is not None and me in found.applicants
        genesis = state.logs.get(found.log)
        url = genesis.url if genesis is not None else ""
    published = _published(task_id)
    return page(
        "task.html",
        task=found,
        published=published,
        names=names,
        contracts=contracts,
        mine=mine,
        applied=applied,
        local=found.log == svc.log_id,
        community_url=url,
    )


def _published(task_id: str) -> dict[str, Any]:
    from web.explorer import entry_json

    entry = entry_json(task_id)
    body = entry.get("body") if entry else None
    return body if isinstance(body, dict) else {}

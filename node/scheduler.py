"""Periodic node jobs (deadline expiry, checkpoint publishing, sync) on APScheduler 3.

A `Job` is `(name, func, interval_seconds)`: `func()` is one service call. `NodeScheduler`
runs jobs on a `BackgroundScheduler` (UTC), each on an interval, once at start-up, with
`max_instances=1, coalesce=True` (a slow run is never overlapped; missed runs collapse into
one). An exception in a job is logged (logger `rdh.scheduler`) and the job runs again at
its next time; it never reaches the scheduler or the server.

A periodic task is registered, at import, with `register_job`; its function takes the
node's `NodeService` (the same one the app serves) and makes one call:

    @register_job("sync", interval_seconds=30)
    def _sync(service: NodeService) -> None:
        service.sync_peers()

and `node_jobs(service)` binds every registered job to it. The built-in jobs are here:
`checkpoint` (log the signed head) and `expire` (record `task.expire` for passed
deadlines). Only `rdh serve` (`node.serve`) starts a scheduler; `create_app` and the tests
of the app never do.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from ledger.checkpoint import Checkpoint
from ledger.keys import encode_base64
from node.errors import UsageError
from node.service import NodeService

__all__ = ["Job", "NodeJob", "NodeScheduler", "node_jobs", "register_job", "registered_jobs"]

log = logging.getLogger("rdh.scheduler")


class Job(NamedTuple):
    """A periodic job: `func()` every `interval_seconds`."""

    name: str
    func: Callable[[], None]
    interval_seconds: float


#: A job before it is bound to the node's service: `func(service)`.
NodeJob = Callable[[NodeService], None]

_REGISTRY: dict[str, tuple[NodeJob, float]] = {}


def register_job(name: str, *, interval_seconds: float) -> Callable[[NodeJob], NodeJob]:
    """Register `func(service)` as the periodic job `name` (a decorator; names are unique)."""
    if interval_seconds <= 0:
        raise UsageError(f"job {name!r} needs a positive interval, not {interval_seconds}")

    def add(func: NodeJob) -> NodeJob:
        if name in _REGISTRY:
            raise UsageError(f"a job named {name!r} is already registered")
        _REGISTRY[name] = (func, interval_seconds)
        return func

    return add


def registered_jobs() -> dict[str, float]:
    """The registered jobs' names and intervals, in registration order."""
    return {name: interval for name, (_, interval) in _REGISTRY.items()}


def node_jobs(service: NodeService) -> list[Job]:
    """Every registered job, bound to `service`."""
    return [
        Job(name, functools.partial(func, service), interval)
        for name, (func, interval) in _REGISTRY.items()
    ]


def _logged(job: Job) -> Callable[[], None]:
    """`job.func` with its exceptions logged instead of raised."""

    def run() -> None:
        try:
            job.func()
        except Exception:
            log.exception("job %s failed; it runs again in %s s", job.name, job.interval_seconds)

    return run


class NodeScheduler:
    """The node's jobs on a background thread; `start` once, `shutdown` when stopping."""

    def __init__(self, jobs: Sequence[Job], *, run_at_start: bool = True) -> None:
        self._scheduler = BackgroundScheduler(timezone=UTC)
        first = datetime.now(UTC) if run_at_start else None
        for job in jobs:
            self._scheduler.add_job(
                _logged(job),
                IntervalTrigger(seconds=job.interval_seconds, timezone=UTC),
                id=job.name,
                name=job.name,
                max_instances=1,
                coalesce=True,
                **({"next_run_time": first} if first else {}),
            )

    @property
    def job_names(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()]

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        self._scheduler.start()

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop scheduling; with `wait`, let running jobs finish first. Safe to repeat."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)


@register_job("checkpoint", interval_seconds=60)
def _log_head(service: NodeService) -> None:
    """Re-read the log's last signed checkpoint and log its size and root."""
    store = service.node.store
    checkpoint = Checkpoint.from_note(store.checkpoint())
    log.info(
        "log %s: signed size %d, root %s",
        store.log_id,
        checkpoint.size,
        encode_base64(checkpoint.root),
    )


@register_job("expire", interval_seconds=60)
def _expire(service: NodeService) -> None:
    """Record `task.expire` for every open task whose deadline has passed."""
    if expired := service.expire_due():
        log.info("recorded task.expire for %d task(s): %s", len(expired), ", ".join(expired))


# The federation jobs (`sync`, `witness`) register themselves when their module is imported.
import node.federation  # noqa: E402, F401

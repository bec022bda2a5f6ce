"""Fan pure work out over processes, in order, with a bounded number of items in flight.

`ProcessPoolExecutor.map` and `Pool.imap` read their whole input ahead, which would hold a
whole bundle in memory; `ordered_map` keeps at most `window` items submitted at a time, so
memory stays bounded whatever the input size, and yields results in input order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType
from typing import TypeVar

__all__ = ["ProcessMapper", "default_workers"]

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """One worker per core the process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _yield_to_parent() -> None:
    """Workers run a little nicer than the parent, which consumes their results in order:
    when the parent has work it gets a core at once, and the workers fill the idle time."""
    os.nice(5)


class ProcessMapper:
    """A process pool usable as `mapper(fn, items)`; with `workers=1` it runs in-process."""

    def __init__(self, workers: int | None = None, window_per_worker: int = 4) -> None:
        self.workers = workers or default_workers()
        self.window = self.workers * window_per_worker
        self._pool: ProcessPoolExecutor | None = None
        if self.workers > 1:
            context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=_yield_to_parent
            )
            # Fork every worker now, before the caller starts threads (a progress bar):
            # forking a process that runs threads can deadlock the child.
            self._pool.submit(os.getpid).result()

    def __call__(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        if self._pool is None:
            return map(fn, items)
        return self._ordered(self._pool, fn, items)

    def _ordered(
        self, pool: ProcessPoolExecutor, fn: Callable[[T], R], items: Iterable[T]
    ) -> Iterator[R]:
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= self.window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ProcessMapper:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

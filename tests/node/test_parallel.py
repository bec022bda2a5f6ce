"""The process mapper: results in input order, a bounded number of items in flight."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.audit import audit
from ledger.bundle import MemoryBundle
from node.bundle_files import DirectoryBundle, ZipBundle, open_bundle
from node.parallel import ProcessMapper, default_workers
from tests.builders import ecosystem, flip, write_bundle


def square(n: int) -> int:
    return n * n


def worker_pid(_: int) -> int:
    return os.getpid()


class Feed:
    """A generator of 0..count-1 that records how many items have been taken from it."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.taken = 0

    def __iter__(self) -> Iterator[int]:
        for n in range(self.count):
            self.taken += 1
            yield n


def test_default_workers_is_positive() -> None:
    assert default_workers() >= 1
    with ProcessMapper() as mapper:
        assert mapper.workers == default_workers()


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_in_input_order(workers: int) -> None:
    with ProcessMapper(workers) as mapper:
        assert list(mapper(square, range(100))) == [n * n for n in range(100)]
        assert list(mapper(square, [])) == []


@pytest.mark.parametrize(("workers", "per_worker"), [(1, 4), (2, 1), (2, 3)])
def test_input_is_read_at_most_a_window_ahead(workers: int, per_worker: int) -> None:
    feed = Feed(1000)
    with ProcessMapper(workers, window_per_worker=per_worker) as mapper:
        results = iter(mapper(square, feed))
        assert feed.taken == 0  # nothing is read before the first result is asked for
        assert next(results) == 0
        window = 1 if workers == 1 else mapper.window
        assert mapper.window == workers * per_worker
        assert feed.taken <= window
        for expected in range(1, 50):
            assert next(results) == expected * expected
            assert feed.taken <= expected + window
        assert sum(1 for _ in results) == 950
    assert feed.taken == 1000


def test_two_workers_use_other_processes() -> None:
    with ProcessMapper(2) as mapper:
        pids = set(mapper(worker_pid, range(40)))
    assert os.getpid() not in pids
    with ProcessMapper(1) as mapper:
        assert set(mapper(worker_pid, range(3))) == {os.getpid()}


def test_close_is_idempotent() -> None:
    mapper = ProcessMapper(2)
    mapper.close()
    mapper.close()


@pytest.mark.parametrize("tampered", [False, True], ids=["clean", "tampered"])
@pytest.mark.parametrize("kind", ["memory", "dir", "zip"])
def test_parallel_audit_equals_serial_audit(kind: str, tampered: bool, tmp_path: Path) -> None:
    files = dict(ecosystem().bundle().files)
    if tampered:
        name = next(n for n in files if n.endswith("tile/entries/001.p/44"))
        files[name] = flip(files[name], 500)
        files[next(n for n in files if n.endswith("tile/entries/000"))] = b"\x00"
    expected = audit(MemoryBundle(dict(files))).to_dict()
    if kind == "memory":
        source: MemoryBundle | DirectoryBundle | ZipBundle = MemoryBundle(files)
    else:
        source = open_bundle(write_bundle(files, tmp_path / ("b.zip" if kind == "zip" else "b")))
    with ProcessMapper(2, window_per_worker=1) as mapper:
        report = audit(source, mapper=mapper)
    if not isinstance(source, MemoryBundle):
        source.close()
    assert report.to_dict() == expected
    assert report.ok is not tampered

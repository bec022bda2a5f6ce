"""Proof benchmark: inclusion and consistency proofs from the stored tiles of a big log.

Builds a log of N entries (default 1,000,000 small `task.publish` entries) in a temporary
SQLite node with `LogStore.append` in batches of 1,000, then times 1,000 calls each of
`LogStore.inclusion_proof(index, size)` and `LogStore.consistency_proof(old, new)` with
random arguments (fixed seed; every size at most N, so most are not checkpointed sizes and
their partial tiles come from wider stored tiles). Each call is what an HTTP request costs:
one read transaction, the log head, the tile reads and the hashing. Every proof is checked
against the roots, so a fast wrong answer cannot pass. Goal: median <= 2 ms each.

Usage:  python benchmarks/proof_bench.py [--entries 1000000] [--queries 1000] [--db PATH]

With `--db PATH` the database is kept (and reused when it already holds the log).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ledger.keys import SigningKey
from ledger.merkle import verify_consistency, verify_inclusion
from node.db import make_engine, make_sessions, upgrade
from node.errors import NotFoundError
from node.store import EntryDraft, Genesis, LogStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BATCH = 1000


def _key() -> SigningKey:
    return SigningKey.from_seed(hashlib.sha256(b"proof-bench").digest())


def build(store: LogStore, entries: int) -> None:
    start = time.perf_counter()
    size = store.size
    while size < entries:
        count = min(BATCH, entries - size)
        drafts = [EntryDraft("task.publish", {"n": n}) for n in range(size, size + count)]
        store.append(drafts, NOW)
        size += count
        if size % 50_000 < BATCH or size == entries:
            rate = size / (time.perf_counter() - start)
            print(f"\r  built {size:>9,} / {entries:,} entries ({rate:,.0f}/s)", end="", flush=True)
    print(f"\n  built in {time.perf_counter() - start:.0f} s")


def _time(calls: list[Callable[[], None]]) -> tuple[float, float]:
    times = []
    for call in calls:
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000


def measure(store: LogStore, queries: int, seed: int = 2026) -> dict[str, tuple[float, float]]:
    rng = random.Random(seed)
    n = store.size
    with store.reader() as reader:
        sizes = {rng.randint(1, n) for _ in range(2 * queries)} | {n}
        roots = {s: reader.root(s) for s in sizes}
    sized = sorted(sizes)
    inclusion = []
    for _ in range(queries):
        size = rng.choice(sized)
        inclusion.append((rng.randrange(size), size))
    consistency = []
    for _ in range(queries):
        new = rng.choice(sized)
        old = rng.choice(sized[: sized.index(new) + 1])
        consistency.append((old, new))
    with store.reader() as reader:
        leaves = {i: bytes.fromhex(reader.entry(i).id) for i, _ in inclusion}

    def inclusion_call(index: int, size: int) -> Callable[[], None]:
        return lambda: check_inclusion(store, index, size)

    def check_inclusion(s: LogStore, index: int, size: int) -> None:
        proof = s.inclusion_proof(index, size)
        verify_inclusion(
            leaf_hash=leaves[index], index=index, size=size, proof=proof, root=roots[size]
        )

    def consistency_call(old: int, new: int) -> Callable[[], None]:
        def call() -> None:
            proof = store.consistency_proof(old, new)
            verify_consistency(
                old_size=old, new_size=new, old_root=roots[old], new_root=roots[new], proof=proof
            )

        return call

    inclusion_calls = [inclusion_call(i, s) for i, s in inclusion]
    consistency_calls = [consistency_call(o, s) for o, s in consistency]
    _time(inclusion_calls[:50])  # warm the connection pool and caches
    return {
        "inclusion": _time(inclusion_calls),
        "consistency": _time(consistency_calls),
    }


def run(db: Path, entries: int, queries: int) -> None:
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    store = LogStore(make_sessions(engine), _key())
    try:
        store.size  # noqa: B018 (does the log exist?)
    except NotFoundError:
        store.init_log(Genesis(name="proof bench", kind="platform"), NOW)
    if store.size < entries:
        build(store, entries)
    if store.size != entries:
        sys.exit(f"{db} holds {store.size:,} entries, not {entries:,}: use another --db")
    results = measure(store, queries)
    engine.dispose()
    for name, (median, p99) in results.items():
        verdict = "ok" if median <= 2 else "MISSES the 2 ms goal"
        print(f"{name:<12} median {median:.3f} ms  p99 {p99:.3f} ms  ({verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--db", type=Path, help="keep (or reuse) the database at this path")
    args = parser.parse_args()
    print(f"proof benchmark: {args.entries:,} entries, {args.queries:,} queries each")
    if args.db:
        run(args.db, args.entries, args.queries)
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp) / "bench.db", args.entries, args.queries)


if __name__ == "__main__":
    main()

"""Write-path benchmark: durable batch appends to the node's own log.

Times `LogStore.append` of batches of B entries (each a small `task.publish`, one in ten
with a worker statement) on SQLite (WAL, synchronous=FULL) and, if given, PostgreSQL.
Every batch is one transaction: lock, build, store, tiles, consistency proof, sign, commit.

Usage:  python benchmarks/store_bench.py [--batch 1000] [--batches 10] [--postgres URL]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from ledger.keys import SigningKey
from ledger.statement import Statement, format_time, sign_statement
from node.db import make_engine, make_sessions, upgrade
from node.store import EntryDraft, Genesis, LogStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _key(label: str) -> SigningKey:
    return SigningKey.from_seed(hashlib.sha256(label.encode()).digest())


def _drafts(store: LogStore, batch: int, start: int) -> list[EntryDraft]:
    worker = _key("worker")
    drafts = []
    for n in range(start, start + batch):
        signed = ()
        if n % 10 == 0:
            nonce = base64.urlsafe_b64encode(hashlib.sha256(str(n).encode()).digest()[:16])
            statement = Statement(
                type="task.apply",
                log=store.log_id,
                signer=worker.public,
                time=format_time(NOW),
                nonce=nonce.rstrip(b"=").decode(),
                body={"n": n},
            )
            signed = (sign_statement(statement, key=worker),)
        drafts.append(EntryDraft("task.publish", {"n": n, "title": f"task {n}"}, signed=signed))
    return drafts


def run(url: str, batch: int, batches: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    store = LogStore(make_sessions(engine), _key(f"bench-{time.time_ns()}"))
    store.init_log(Genesis(name="bench", kind="platform"), NOW)
    times = []
    for b in range(batches):
        drafts = _drafts(store, batch, b * batch)
        start = time.perf_counter()
        store.append(drafts, NOW)
        times.append(time.perf_counter() - start)
    engine.dispose()
    best, median = min(times), sorted(times)[len(times) // 2]
    print(
        f"{engine.dialect.name}: batch {batch}: median {median * 1000:.0f} ms "
        f"({batch / median:,.0f} entries/s), best {best * 1000:.0f} ms ({batch / best:,.0f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--postgres", help="a PostgreSQL URL (a scratch database)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.batch, args.batches)
    if args.postgres:
        run(args.postgres, args.batch, args.batches)


if __name__ == "__main__":
    main()

"""Federation (issue 5): replication over loopback, and a 50-node ecosystem simulation.

    python benchmarks/sync_bench.py [--entries 100000] [--nodes 50] [--follows 3] [--record]

1. *replication*: a source node with `--entries` `task.publish` entries (built in-process
   with `LogStore.append`, 1,000 a batch) is served by a real `rdh serve` process on
   127.0.0.1; a fresh node (SQLite) pulls the whole log with `node.sync.Syncer` (every hash
   tile verified against the signed root, every entry against its tile and parsed, batches
   of 4,096 committed with `synchronous=FULL`, the checkpoint cosigned). Timed from the
   first request to the last commit; entries/s. Goal: >= 20,000 entries/s (four times
   Hypercore 11's replication rate on this kind of machine, about 4,400-5,200 entries/s).
   Then the contract-rule check of those entries (the projection's fold, which `rdh sync`
   and the scheduler run after storing) is timed apart, and the mirror is checked in full
   (`verify_store(full=True)`: every entry rehashed against the signed checkpoint).
2. *ecosystem*: `--nodes` nodes, each following `--follows` others at random (fixed seed)
   plus its successor on a ring (so every log can reach every node). In each synchronous
   round every node pulls, from each node it follows, every log that node held at the
   start of the round (what `Syncer.sync_peer` does: logs spread transitively) and its
   evidence. Reported: rounds until every node holds every log; then one log shows a fork
   (branch A to the node it first reached, branch B to another) and the rounds until every
   node holds the evidence (a node detects it when it holds one branch and a peer serves
   the other, as `sync_log` does; evidence then spreads like a log, by `GET /evidence`).
   This is the protocol's spreading logic over an abstract network (no HTTP); with the
   scheduler's 5 s sync interval one round is at most 5 s plus the transfer.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from node.local_node import init_node  # noqa: E402
from node.own_log import EntryDraft, Genesis  # noqa: E402
from node.peers import HttpTransport, add_peer  # noqa: E402
from node.projection import Projection  # noqa: E402
from node.serve_process import start_serve  # noqa: E402
from node.settings import load_settings  # noqa: E402
from node.store_check import verify_store  # noqa: E402
from node.sync import Syncer  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
MARKER = "<!-- sync_bench rows -->"
NOW = datetime.now(UTC).replace(microsecond=0)


def _task(n: int) -> dict[str, object]:
    return {
        "title": f"Task {n}",
        "description": "A unit of work.",
        "skills": ["cad"],
        "reward": {"amount": "10.00", "currency": "EUR"},
        "deadline": "2030-01-01T00:00:00Z",
        "slots": 1,
        "engagements": ["freelance"],
        "executor": "human",
        "claim_mode": "offer",
    }


def _serve(node_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RDH_")}
    return start_serve(node_dir, env=env)


def replication(entries: int, work: Path, workers: int = 1) -> dict[str, float]:
    settings = load_settings(work / "source", {})
    node, _ = init_node(settings, Genesis(name="Source", kind="platform"), NOW)
    started = time.perf_counter()
    for start in range(0, entries - 1, 1000):
        drafts = [
            EntryDraft("task.publish", _task(n))
            for n in range(start, min(entries - 1, start + 1000))
        ]
        node.store.append(drafts, NOW)
    built = time.perf_counter() - started
    node.close()
    process, url = _serve(work / "source")
    try:
        mirror, _ = init_node(
            load_settings(work / "mirror", {}), Genesis(name="Mirror", kind="platform"), NOW
        )
        transport = HttpTransport()
        add_peer(mirror.sessions, transport, url, NOW, own_log=mirror.store.log_id)
        syncer = Syncer(
            mirror, clock=lambda: datetime.now(UTC), transport=transport, workers=workers
        )
        started = time.perf_counter()
        report = syncer.sync_all(force=True)
        seconds = time.perf_counter() - started
        syncer.close()
        assert report.entries == entries, report
        projection = Projection()
        started = time.perf_counter()
        with projection.lock, mirror.sessions.begin() as session:
            projection.catch_up(session)
        rules = time.perf_counter() - started
        assert not projection.violations()
        with mirror.sessions.begin() as session:
            verify_store(session, full=True)
        mirror.close()
    finally:
        process.terminate()
        process.wait(timeout=60)
    return {"built": built, "seconds": seconds, "rate": entries / seconds, "rules": rules}


def ecosystem(nodes: int, follows: int, seed: int = 5) -> dict[str, int]:
    rng = random.Random(seed)
    following = [
        {(i + 1) % nodes, *rng.sample([j for j in range(nodes) if j != i], follows)} - {i}
        for i in range(nodes)
    ]
    held = [{i} for i in range(nodes)]
    rounds = 0
    while any(len(h) < nodes for h in held):
        start = [set(h) for h in held]
        for i in range(nodes):
            for j in following[i]:
                held[i] |= start[j]
        rounds += 1
    # the fork: log 0 shows branch A to node a and branch B to node b (two nodes following 0)
    branch: dict[int, str] = {}
    followers = [i for i in range(nodes) if 0 in following[i]]
    a, b = followers[0], followers[1] if len(followers) > 1 else (followers[0] + 1) % nodes
    branch[a], branch[b] = "A", "B"
    evidence: set[int] = set()
    fork_rounds = 0
    while len(evidence) < nodes:
        start_branch, start_evidence = dict(branch), set(evidence)
        for i in range(nodes):
            for j in following[i]:
                theirs = start_branch.get(j)
                if j in start_evidence:
                    evidence.add(i)
                if theirs is None:
                    continue
                if i not in branch:
                    branch[i] = theirs
                elif branch[i] != theirs:
                    evidence.add(i)
        fork_rounds += 1
        if fork_rounds > 10 * nodes:
            raise SystemExit("the evidence does not spread")
    return {"rounds": rounds, "fork_rounds": fork_rounds, "edges": sum(map(len, following))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--follows", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="entry-check processes")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rep = replication(args.entries, Path(tmp), args.workers)
    eco = ecosystem(args.nodes, args.follows)
    print(
        f"replication: {args.entries:,} entries in {rep['seconds']:.2f} s = "
        f"{rep['rate']:,.0f} entries/s "
        f"(source built in {rep['built']:.1f} s; rule check afterwards {rep['rules']:.2f} s)"
    )
    print(
        f"ecosystem: {args.nodes} nodes, {eco['edges']} follow edges: full convergence in "
        f"{eco['rounds']} rounds, fork evidence on every node in {eco['fork_rounds']} rounds"
    )
    if args.record:
        cpu = platform.processor() or platform.machine()
        machine = f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"
        met = "met" if rep["rate"] >= 20_000 else "NOT met"
        row = (
            f"| {NOW.date()} | {machine} | {args.entries:,} | {args.workers} | "
            f"{rep['seconds']:.2f} s | {rep['rate']:,.0f} | {rep['rules']:.2f} s | {met} | "
            f"{args.nodes} nodes / {eco['edges']} edges | {eco['rounds']} | {eco['fork_rounds']} |"
        )
        text = RESULTS.read_text()
        RESULTS.write_text(text.replace(MARKER, row + "\n" + MARKER))


if __name__ == "__main__":
    main()

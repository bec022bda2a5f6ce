"""The marketplace page with 10,000 open tasks from 20 logs (issue 6): ≤ 100 ms median.

    python benchmarks/web_bench.py [--tasks 10000] [--logs 20] [--runs 40] [--record]

Builds a fresh SQLite node whose database holds 20 logs (its own and 19 others, stored the
way mirrored logs are: their own signed checkpoints, `local` false), each with a genesis and
tasks of varied skills, rewards, engagements and executors (all open). Then it opens the
node as `rdh serve` does, builds the app with the web UI (`web.create_web_app`) and times
`GET /ui/market` with several filters: the whole request (routing, the filters over the
contract state, Jinja rendering of one page of 25), first through Flask's test client (no
network) and then over HTTP to a waitress server on 127.0.0.1 (the server `rdh serve`
runs). The first request, which folds every stored entry into the contract state (what a
starting node does once), is timed apart. `--record` appends a row to RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402

from ledger.keys import SigningKey  # noqa: E402
from ledger.statement import format_time  # noqa: E402
from node.db.models import LogRow  # noqa: E402
from node.local_node import init_node, open_node  # noqa: E402
from node.own_log import EntryDraft, Genesis  # noqa: E402
from node.settings import load_settings  # noqa: E402
from node.store import LogStore  # noqa: E402
from web.app import create_web_app  # noqa: E402

SKILLS = ["cad", "joinery", "photography", "copywriting", "python", "logistics", "welding",
          "translation", "ux", "accounting", "3d-print", "sewing"]  # fmt: skip
ENGAGEMENTS = ["employee", "gig", "freelance", "alliance", "project", "agent"]
WORDS = ["lamp", "shelf", "chair", "catalogue", "website", "route", "invoice", "banner"]
NOW = datetime.now(UTC).replace(microsecond=0)


def _task(log_no: int, n: int) -> EntryDraft:
    k = log_no * 100_003 + n
    skills = sorted({SKILLS[k % len(SKILLS)], SKILLS[(k // 7) % len(SKILLS)]})
    engagements = sorted({ENGAGEMENTS[k % 6], ENGAGEMENTS[(k // 3) % 6]})
    executor = "agent" if "agent" in engagements and k % 2 else ("any" if k % 5 == 0 else "human")
    if executor == "human" and engagements == ["agent"]:
        executor = "any"
    return EntryDraft(
        "task.publish",
        {
            "title": f"{WORDS[k % len(WORDS)].title()} job {log_no}-{n}",
            "description": "A benchmark task with a description of moderate length. " * 3,
            "skills": skills,
            "reward": {"amount": f"{50 + (k * 37) % 950}.00", "currency": "EUR"},
            "deadline": format_time(NOW + timedelta(days=30 + k % 30)),
            "slots": 1 + k % 3,
            "engagements": engagements,
            "executor": executor,
            "claim_mode": "offer" if k % 4 else "open",
        },
    )


def build(directory: Path, tasks: int, logs: int) -> Path:
    settings = load_settings(directory, {})
    node, _ = init_node(settings, Genesis(name="Community 0", kind="micro-enterprise"), NOW)
    per_log = tasks // logs
    try:
        stores = [node.store]
        for n in range(1, logs):
            store = LogStore(
                node.sessions, SigningKey.from_seed(hashlib.sha256(b"log%d" % n).digest())
            )
            store.init_log(Genesis(name=f"Community {n}", kind="micro-enterprise"), NOW)
            stores.append(store)
        for log_no, store in enumerate(stores):
            drafts = [_task(log_no, n) for n in range(per_log)]
            for start in range(0, len(drafts), 1000):
                store.append(drafts[start : start + 1000], NOW + timedelta(seconds=log_no))
        with node.sessions.begin() as session:  # the others are stored as mirrored logs are
            session.execute(
                update(LogRow).where(LogRow.id != node.store.log_id).values(local=False)
            )
    finally:
        node.close()
    return directory


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _p95_ms(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.95) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--logs", type=int, default=20)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        directory = build(Path(tmp) / "node", args.tasks, args.logs)
        print(
            f"built {args.tasks:,} tasks in {args.logs} logs: {time.perf_counter() - started:.1f} s"
        )
        node = open_node(load_settings(directory, {}))
        try:
            app = create_web_app(node)
            client = app.test_client()
            t0 = time.perf_counter()
            first = client.get("/ui/market")
            first_s = time.perf_counter() - t0
            assert first.status_code == 200
            assert f"{args.tasks} open tasks" in first.get_data(as_text=True)
            other_log = node.store.log_id
            pages = -(-args.tasks // 25)
            queries = {
                "all, page 1": "/ui/market",
                "skill": "/ui/market?skill=cad",
                f"last page ({pages})": f"/ui/market?page={pages}",
                "engagement + min reward": (
                    "/ui/market?engagement=gig&min_reward=500.00&currency=EUR"
                ),
                "community": f"/ui/market?community={other_log}",
                "title words": "/ui/market?q=lamp",
            }
            results: dict[str, tuple[float, float]] = {}
            for name, url in queries.items():
                samples = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    response = client.get(url)
                    samples.append(time.perf_counter() - t0)
                    assert response.status_code == 200, url
                results[name] = (_median_ms(samples), _p95_ms(samples))
            http_ms = _over_http(app, args.runs)
        finally:
            node.close()

    print(f"first request (folds every entry): {first_s * 1000:.0f} ms")
    for name, (median, p95) in results.items():
        print(f"{name:28} median {median:6.1f} ms   p95 {p95:6.1f} ms")
    print(f"{'all, page 1, over HTTP':28} median {http_ms[0]:6.1f} ms   p95 {http_ms[1]:6.1f} ms")
    worst = max(m for m, _ in results.values())
    verdict = "met" if max(worst, http_ms[0]) <= 100 else "MISSED"
    print(f"goal (median <= 100 ms): {verdict}")
    if args.record:
        _record(args, first_s, results, http_ms, verdict)


def _over_http(app: object, runs: int) -> tuple[float, float]:
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    port = server.effective_port
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        samples = []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(runs + 3):
            t0 = time.perf_counter()
            conn.request("GET", "/ui/market")
            response = conn.getresponse()
            response.read()
            samples.append(time.perf_counter() - t0)
            assert response.status == 200
        conn.close()
        time.sleep(0.3)  # let waitress finish with the closed connection
    finally:
        server.close()
    samples = samples[3:]
    return _median_ms(samples), _p95_ms(samples)


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = " ".join(line.split(":", 1)[1].split()[:3])
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def _record(
    args: argparse.Namespace,
    first_s: float,
    results: dict[str, tuple[float, float]],
    http_ms: tuple[float, float],
    verdict: str,
) -> None:
    path = ROOT / "benchmarks" / "RESULTS.md"
    text = path.read_text()
    marker = "<!-- web_bench rows -->"
    medians = " / ".join(f"{m:.1f}" for m, _ in results.values())
    row = (
        f"| {NOW.date()} | {_machine()} | {args.tasks:,} / {args.logs} | {first_s:.2f} s "
        f"| {medians} | {max(p for _, p in results.values()):.1f} ms "
        f"| {http_ms[0]:.1f} ms | {verdict} |\n"
    )
    if marker not in text:
        raise SystemExit(f"RESULTS.md has no {marker} line: add the web section first")
    path.write_text(text.replace(marker, row.rstrip("\n") + "\n" + marker))
    print("recorded in benchmarks/RESULTS.md")


if __name__ == "__main__":
    main()

"""Write path over HTTP (issue 4): batch appends and 16 concurrent single-entry appends.

    python benchmarks/api_bench.py [--postgres URL] [--seconds 10] [--batch-requests 30]
                                   [--record]

Starts a real node server (what `rdh serve` runs, `node.serve.serve`: waitress, the node's
threads, the writer process of ADR 0007; `RDH_WRITER=thread` keeps the writes in the server
process) in a child process on 127.0.0.1, on a fresh SQLite node (or a fresh PostgreSQL
schema), and measures:

1. *batch*: 1,000 `task.publish` entries a request (`POST /api/v1/entries`, admin token),
   one client, 30 requests (`--batch-requests`) after 3 warm-up ones: entries/s, durable
   (each answer is after commit, SQLite `synchronous=FULL`), rules checked; with 100
   requests or more, also the rate in each tenth of them, as the log grows;
2. *bare*: `GET /bare`, a Flask view that returns two bytes, under the same server, 16
   connections (wrk), for `--seconds`: requests/s and latency percentiles;
3. *single*: one-entry appends from 16 connections (wrk), same duration: requests/s and
   latency. Goal: ≥ 50% of *bare*'s requests/s, p99 ≤ 50 ms.

Afterwards the node's store is checked in full (every entry rehashed against the signed
checkpoint) and the number of stored entries must equal the number acknowledged. Needs
`wrk` (Debian: `apt-get install wrk`). `--record` appends the figures to RESULTS.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONNECTIONS = 16
BATCH = 1000
BATCH_REQUESTS = 30
NOW = datetime.now(UTC).replace(microsecond=0)


def _task(n: int) -> dict[str, object]:
    return {
        "type": "task.publish",
        "body": {
            "title": f"Benchmark task {n}",
            "description": "A unit of work for the write-path benchmark.",
            "skills": ["cad", "welding"],
            "reward": {"amount": "120.00", "currency": "EUR"},
            "deadline": (NOW + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "slots": 1,
            "engagements": ["gig", "freelance"],
            "executor": "human",
            "claim_mode": "offer",
        },
    }


def serve_child(node_dir: str, port_file: str) -> None:
    """The server process: what `rdh serve` runs (`node.serve.serve`), plus a bare view."""
    from node.api.app import create_app
    from node.local_node import open_node
    from node.serve import serve
    from node.settings import load_settings

    def app_factory(*args: Any, **kwargs: Any) -> Any:
        app = create_app(*args, **kwargs)
        app.add_url_rule("/bare", "bare", lambda: "ok")
        return app

    def announce(url: str) -> None:
        Path(port_file).write_text(url.rstrip("/").rsplit(":", 1)[1])

    node = open_node(load_settings(Path(node_dir), os.environ))
    serve(
        node,
        host="127.0.0.1",
        port=0,
        threads=node.settings.threads,
        announce=announce,
        app_factory=app_factory,
    )


def _wrk(url: str, seconds: int, script: Path | None) -> tuple[float, dict[str, float]]:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = {}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        latency[pct] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} failed requests:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    latency["requests"] = requests
    return rps, latency


def _batch(url: str, token: str, clients: int, requests: int) -> float:
    """Entries/s of `requests` 1,000-entry appends from `clients` connections, each sending
    its share one after the other (3 warm-up requests first, not timed)."""
    parts = urlsplit(url)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    bodies = [
        json.dumps({"entries": [_task(r * BATCH + k) for k in range(BATCH)]}).encode()
        for r in range(requests + 3)
    ]
    seconds: list[float] = []

    def send(share: list[bytes]) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        for body in share:
            sent = time.perf_counter()
            connection.request("POST", "/api/v1/entries", body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            if response.status != 201:
                raise SystemExit(f"batch append failed: {response.status} {data[:300]!r}")
            seconds.append(time.perf_counter() - sent)
        connection.close()

    send(bodies[:3])
    shares = [bodies[3 + n :: clients] for n in range(clients)]
    threads = [threading.Thread(target=send, args=(share,)) for share in shares]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    tenth = requests // 10
    if clients == 1 and tenth >= 10:
        timed = seconds[3:]
        rates = [BATCH * tenth / sum(timed[n * tenth : (n + 1) * tenth]) for n in range(10)]
        print(
            f"batch, each tenth: {' '.join(f'{r:,.0f}' for r in rates)} entries/s", file=sys.stderr
        )
    return BATCH * requests / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL (a fresh schema is made in it)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--batch-clients", type=int, default=1, help="connections sending the 1,000-entry batches"
    )
    parser.add_argument(
        "--batch-requests", type=int, default=BATCH_REQUESTS, help="1,000-entry requests timed"
    )
    parser.add_argument("--record", action="store_true", help="append to benchmarks/RESULTS.md")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_child(*args.serve)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")

    from sqlalchemy import create_engine, text

    from node.keystore import generate_key
    from node.local_node import init_node, open_node
    from node.own_log import Genesis
    from node.settings import load_settings
    from node.store_check import verify_store
    from node.tokens import create_token

    work = Path(tempfile.mkdtemp(prefix="rdh-api-bench-"))
    env = dict(os.environ, RDH_THREADS=str(CONNECTIONS))
    schema = None
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with create_engine(args.postgres).begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        env["RDH_DATABASE_URL"] = f"{args.postgres}?options=-csearch_path%3D{schema}"
    node_dir = work / "node"
    settings = load_settings(node_dir, env)
    node, _ = init_node(
        settings, Genesis(name="Bench", kind="micro-enterprise"), NOW, key=generate_key()
    )
    token = create_token(node.sessions, "bench", NOW)
    node.close()
    port_file = work / "port"
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(node_dir), str(port_file)], env=env
    )
    try:
        while not port_file.exists():
            if server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.05)
        time.sleep(0.2)
        url = f"http://127.0.0.1:{port_file.read_text()}"
        print(f"server {url}, database {settings.database_url.split('?')[0]}", file=sys.stderr)
        batch_rate = _batch(url, token, args.batch_clients, args.batch_requests)
        print(
            f"batch: {batch_rate:,.0f} entries/s ({args.batch_clients} connection(s))",
            file=sys.stderr,
        )
        bare_rps, bare = _wrk(url + "/bare", args.seconds, None)
        print(f"bare GET: {bare_rps:,.0f} req/s, p99 {bare['99']:.1f} ms", file=sys.stderr)
        script = work / "post.lua"
        body = json.dumps({"entries": [_task(0)]})
        script.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(body)}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        )
        single_rps, single = _wrk(url + "/api/v1/entries", args.seconds, script)
        print(
            f"single appends: {single_rps:,.0f} req/s ({single_rps / bare_rps:.0%} of bare), "
            f"p50 {single['50']:.1f} ms, p99 {single['99']:.1f} ms",
            file=sys.stderr,
        )
    finally:
        server.terminate()
        server.wait()
    node = open_node(load_settings(node_dir, env))
    with node.sessions.begin() as session:
        verify_store(session, full=True)
    size = node.store.size
    node.close()
    expected = 1 + (args.batch_requests + 3) * BATCH + int(single["requests"])
    # wrk counts only completed requests; any in flight at its stop may also have committed
    if not expected <= size <= expected + CONNECTIONS:
        raise SystemExit(f"stored {size} entries, acknowledged {expected}")
    print(f"store verified in full: {size:,} entries", file=sys.stderr)
    if schema:
        with create_engine(args.postgres).begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    shutil.rmtree(work, ignore_errors=True)
    database = "PostgreSQL 15" if args.postgres else "SQLite (WAL, FULL)"
    database += f", writer {settings.writer}"
    if args.batch_requests != BATCH_REQUESTS:
        database += f", {args.batch_requests} batch requests"
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d} | {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()} | {database} | {batch_rate:,.0f} | "
        f"{bare_rps:,.0f} (p99 {bare['99']:.1f} ms) | {single_rps:,.0f} | "
        f"{single_rps / bare_rps:.0%} | {single['50']:.1f} ms | {single['99']:.1f} ms |"
    )
    print(row)
    if args.record:
        results = ROOT / "benchmarks" / "RESULTS.md"
        text_ = results.read_text()
        marker = "<!-- api_bench rows -->"
        results.write_text(text_.replace(marker, f"{row}\n{marker}"))


if __name__ == "__main__":
    main()

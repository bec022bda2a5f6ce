"""Audit benchmark: how long `rdh audit` takes on a large bundle, against the floor.

Generates (or reuses) a bundle of N entries across L logs, a share of them carrying one
worker statement, then times

* the *floor*: for every entry, parse + canonical check + leaf hash, and one Ed25519
  verification per statement, spread over all cores (no tree, tiles, fields or rules);
* `rdh audit` on the same bundle, as a subprocess, sampling the peak RSS of its whole
  process tree (main process plus workers).

Usage:  python benchmarks/audit_bench.py [--entries 1000000] [--logs 10] [--record]
`--record` appends the figures to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from ledger import bundle, canonical, tiles
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.entry import Entry
from ledger.keys import SigningKey
from ledger.merkle import leaf_hash
from ledger.note import NoteSigner
from ledger.statement import STATEMENT_PREFIX, Statement, sign_statement
from node.bundle_files import DirectoryBundle
from node.parallel import ProcessMapper

HERE = Path(__file__).resolve().parent
SKILLS = ["python", "welding", "cad", "sales", "logistics", "design", "sql", "translation"]
WORKERS = 500


def _seed(label: str) -> bytes:
    return hashlib.sha256(f"rdh-bench/{label}".encode()).digest()


def _time(i: int) -> str:
    return datetime.fromtimestamp(1_764_000_000 + i, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _generate_log(args: tuple[Path, int, int, float]) -> dict[str, object]:
    out, index, count, share = args
    key = SigningKey.from_seed(_seed(f"log/{index}"))
    log_id = key.public.party_id
    workers = [SigningKey.from_seed(_seed(f"worker/{w}")) for w in range(WORKERS)]
    sink = DirectoryBundle(out)
    writer = bundle.LogWriter(sink, log_id)
    every = round(1 / share) if share > 0 else 0
    previous: str | None = None
    for seq in range(count):
        when = _time(seq)
        signed = ()
        if every and seq % every == every - 1:
            worker = workers[(seq * 7 + index) % WORKERS]
            stmt = Statement(
                type="contract.sign",
                log=log_id,
                signer=worker.public,
                time=when,
                nonce=base64.urlsafe_b64encode(_seed(f"nonce/{index}/{seq}")[:16])
                .rstrip(b"=")
                .decode(),
                body={"offer": previous or "0" * 64, "accept": True},
            )
            signed = (sign_statement(stmt, key=worker),)
        entry = Entry(
            log=log_id,
            seq=seq,
            time=when,
            type="contract.sign" if signed else "task.publish",
            refs=(previous,) if previous else (),
            body={
                "title": f"Task {seq} of community {index}: assemble and test unit batch",
                "skills": [SKILLS[seq % len(SKILLS)], SKILLS[(seq // 3) % len(SKILLS)]],
                "reward": {"amount": f"{(seq % 900) + 100}.00", "currency": "EUR"},
                "deadline": _time(seq + 86_400 * 14),
                "slots": 1 + seq % 3,
            },
            signed=signed,
        )
        data = entry.to_bytes()
        lh = leaf_hash(data)
        writer.append(data, lh)
        previous = lh.hex()
    cp = Checkpoint(origin=f"rdh/{log_id}", size=count, root=writer.root())
    signer = NoteSigner(name=f"rdh/{log_id}", key=key)
    writer.finish(sign_checkpoint(cp, signer=signer))
    return bundle.LogInfo(id=log_id, origin=f"rdh/{log_id}", vkey=signer.vkey, size=count).to_dict()


def generate(out: Path, entries: int, logs: int, share: float) -> None:
    out.mkdir(parents=True, exist_ok=True)
    per_log = [entries // logs + (1 if i < entries % logs else 0) for i in range(logs)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        infos = pool.map(_generate_log, [(out, i, n, share) for i, n in enumerate(per_log)])
    manifest = bundle.Manifest(
        exporter="rdh benchmarks/audit_bench.py",
        logs=tuple(bundle.LogInfo(**info) for info in infos),  # type: ignore[arg-type]
    )
    DirectoryBundle(out).write(bundle.MANIFEST, manifest.to_bytes())
    print(f"generated {entries} entries in {logs} logs in {time.perf_counter() - started:.1f} s")


def _floor_bundle(data: bytes) -> int:
    """The floor's work for one entry bundle: parse, canonical check, leaf hash, signatures."""
    from ledger.keys import VerifyingKey

    count = 0
    for entry in tiles.decode_entry_bundle(data, None):
        value = canonical.parse_canonical(entry)
        hashlib.sha256(b"\x00" + entry).digest()
        assert isinstance(value, dict)
        for signed in value.get("signed", ()):  # type: ignore[union-attr]
            stmt = signed["statement"]
            key = VerifyingKey.from_b64(stmt["signer"])
            key.verify(
                signature=base64.b64decode(signed["sig"]),
                data=STATEMENT_PREFIX + canonical.canonicalize(stmt),
            )
        count += 1
    return count


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def floor(out: Path) -> tuple[float, float]:
    source = DirectoryBundle(out)
    manifest = bundle.read_manifest(source)

    def blobs():  # type: ignore[no-untyped-def]
        for log in manifest.logs:
            for _start, _count, data in bundle.entry_bundles(source, log):
                yield data

    started, cpu = time.perf_counter(), _children_cpu() + time.process_time()
    with ProcessMapper() as mapper:
        total = sum(mapper(_floor_bundle, blobs()))
    elapsed = time.perf_counter() - started
    cpu = _children_cpu() + time.process_time() - cpu
    print(f"floor: {total} entries in {elapsed:.2f} s (CPU {cpu:.1f} s)")
    return elapsed, cpu


def _tree_rss_kb(pid: int) -> int:
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as f:
                pids.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def run_audit(out: Path) -> tuple[float, float, int, dict[str, object]]:
    rdh = Path(sys.executable).with_name("rdh")
    started, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.Popen(
        [str(rdh), "audit", str(out), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    stdout, stderr = proc.communicate()
    cpu = _children_cpu() - cpu
    if proc.returncode not in (0, 1):
        raise SystemExit(f"rdh audit failed ({proc.returncode}): {stderr.decode()}")
    report = json.loads(stdout)
    print(
        f"rdh audit: {elapsed:.2f} s, peak RSS of process tree {peak / 1024:.0f} MB, "
        f"ok={report['ok']}"
    )
    return elapsed, peak, report


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--logs", type=int, default=10)
    parser.add_argument("--statement-share", type=float, default=0.2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=2, help="interleaved runs; best is kept")
    parser.add_argument("--record", action="store_true", help="append results to RESULTS.md")
    args = parser.parse_args()
    out = args.out or HERE / "out" / f"audit-{args.entries}-{args.logs}"
    if not (out / bundle.MANIFEST).exists():
        generate(out, args.entries, args.logs, args.statement_share)
    floors, audits = [], []
    for _ in range(args.repeat):  # interleaved, so a busy moment hurts both alike
        floors.append(floor(out))
        audits.append(run_audit(out))
    floor_s, floor_cpu = min(floors)
    audit_s, audit_cpu, _peak, report = min(audits, key=lambda a: a[0])
    peak_kb = max(a[2] for a in audits)
    ratio = audit_s / floor_s
    print(
        f"best of {args.repeat}: floor {floor_s:.1f} s, audit {audit_s:.1f} s; "
        f"CPU ratio {audit_cpu / floor_cpu:.2f}"
    )
    print(
        f"ratio audit/floor = {ratio:.2f} (goal <= 1.5); peak RSS {peak_kb / 1024:.0f} MB "
        "(goal <= 300 MB)"
    )
    if args.record:
        line = (
            f"| {datetime.now(UTC):%Y-%m-%d} | {_machine()} | {args.entries:,} / {args.logs} | "
            f"{report['statements_checked']:,} | {floor_s:.1f} s | {audit_s:.1f} s | "
            f"{ratio:.2f} | {peak_kb / 1024:.0f} MB | {'clean' if report['ok'] else 'FINDINGS'} |\n"
        )
        with (HERE / "RESULTS.md").open("a") as f:
            f.write(line)


if __name__ == "__main__":
    main()

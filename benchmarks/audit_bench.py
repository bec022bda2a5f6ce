"""Audit benchmark: `rdh audit` on a large bundle, against the floor.

Generates (or reuses) a bundle of N entries across L logs made of real contract lifecycles
that follow every contract rule (tasks published, offered, signed, submitted, accepted,
paid, skills attested, tasks closed); 20% of the entries carry one worker statement. Then,
interleaved and repeated (the best run of each is kept), it times

* the *floor*: for every entry, parse + canonical check + leaf hash, and one Ed25519
  verification per statement, spread over all cores (no tree, tiles, fields or rules);
* `rdh audit --ledger-only` (issue 2: goal <= 1.5 x floor, peak RSS <= 300 MB);
* `rdh audit` with the contract rules (issue 3: the rules add <= 30%).

Each `rdh audit` runs as a subprocess; the peak RSS of its whole process tree (main
process plus workers) is sampled every 50 ms.

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


class _Writer:
    """Appends rule-valid entries of one log straight into the bundle (constant memory)."""

    def __init__(self, out: Path, index: int) -> None:
        self.index = index
        self.key = SigningKey.from_seed(_seed(f"log/{index}"))
        self.id = self.key.public.party_id
        self.writer = bundle.LogWriter(DirectoryBundle(out), self.id)
        self.statements = 0

    def add(self, type: str, body: dict, refs: list[str], signer: SigningKey | None = None) -> str:  # type: ignore[type-arg]
        seq = self.writer.size
        when = _time(seq)
        signed = ()
        if signer is not None:
            self.statements += 1
            nonce = base64.urlsafe_b64encode(_seed(f"nonce/{self.index}/{seq}")[:16])
            stmt = Statement(
                type=type,
                log=self.id,
                signer=signer.public,
                time=when,
                nonce=nonce.rstrip(b"=").decode(),
                body=body,
            )
            signed = (sign_statement(stmt, key=signer),)
        entry = Entry(
            log=self.id, seq=seq, time=when, type=type, refs=tuple(refs), body=body, signed=signed
        )
        data = entry.to_bytes()
        lh = leaf_hash(data)
        self.writer.append(data, lh)
        return lh.hex()


def _task(n: int, skill: str) -> dict[str, object]:
    return {
        "title": f"Task {n}: assemble and test a batch of control units",
        "description": "Assemble, test and document one batch; see the attached spec.",
        "skills": [skill, SKILLS[n % len(SKILLS)]],
        "reward": {"amount": f"{(n % 900) + 100}.00", "currency": "EUR"},
        "deadline": "2027-12-31T00:00:00Z",
        "slots": 1,
        "engagements": ["freelance", "gig"],
        "executor": "human",
        "claim_mode": "offer",
    }


def _cycle(log: _Writer, worker: SigningKey, n: int) -> None:
    """Ten entries, two of them carrying a worker statement (20%): a task done and paid, its
    worker's skill attested, and a second task published and closed unfilled."""
    wid = worker.public.party_id
    skill = f"skill-{n}"
    body = _task(n, skill)
    task = log.add("task.publish", body, [])
    offer = log.add(
        "contract.offer",
        {"task": task, "worker": wid, "reward": body["reward"], "deadline": body["deadline"]},
        [task],
    )
    log.add("contract.sign", {"offer": offer}, [offer], worker)
    log.add("work.submit", {"contract": offer, "milestone": None, "sha256": task}, [offer], worker)
    accept = {"contract": offer, "milestone": None, "rating": 4 + n % 2, "feedback": "Good."}
    log.add("work.accept", accept, [offer])
    payment = {"contract": offer, "milestone": None, "amount": body["reward"]}
    log.add("payment.record", payment, [offer])
    log.add("skill.attest", {"worker": wid, "skill": skill, "evidence": [offer]}, [offer])
    log.add("task.close", {"task": task}, [task])
    spare = log.add("task.publish", _task(n + 1, f"spare-{n}"), [])
    log.add("task.close", {"task": spare}, [spare])


def _generate_log(args: tuple[Path, int, int]) -> dict[str, object]:
    out, index, count = args
    log = _Writer(out, index)
    workers = [SigningKey.from_seed(_seed(f"worker/{w}")) for w in range(WORKERS)]
    genesis = {
        "name": f"Community {index}",
        "kind": "micro-enterprise",
        "public_key": log.key.public.to_b64(),
        "description": "A benchmark micro-community.",
        "url": "http://127.0.0.1/",
    }
    log.add("log.genesis", genesis, [])
    n = 0
    while log.writer.size + 10 <= count:
        _cycle(log, workers[(n * 7 + index) % WORKERS], n)
        n += 1
    neighbour = SigningKey.from_seed(_seed(f"log/{index + 1}")).public.party_id
    while log.writer.size < count:  # top up to the exact size
        log.add("log.follow", {"log": neighbour, "relation": "follow"}, [])
    cp = Checkpoint(origin=f"rdh/{log.id}", size=count, root=log.writer.root())
    signer = NoteSigner(name=f"rdh/{log.id}", key=log.key)
    log.writer.finish(sign_checkpoint(cp, signer=signer))
    info = bundle.LogInfo(id=log.id, origin=f"rdh/{log.id}", vkey=signer.vkey, size=count)
    return info.to_dict()


def generate(out: Path, entries: int, logs: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    per_log = [entries // logs + (1 if i < entries % logs else 0) for i in range(logs)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        infos = pool.map(_generate_log, [(out, i, n) for i, n in enumerate(per_log)])
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


def run_audit(out: Path, *extra: str) -> tuple[float, float, int, dict[str, object]]:
    """Run `rdh audit` as a subprocess: wall time, CPU time, peak RSS (kB), the JSON report."""
    rdh = Path(sys.executable).with_name("rdh")
    started, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.Popen(
        [str(rdh), "audit", str(out), "--format", "json", *extra],
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
        f"rdh audit {' '.join(extra)}: {elapsed:.2f} s (CPU {cpu:.1f} s), peak RSS of tree "
        f"{peak / 1024:.0f} MB, ok={report['ok']}"
    )
    if not report["ok"]:
        for finding in report["findings"][:5]:
            print("  ", finding["rule"], finding["message"])
    return elapsed, cpu, peak, report


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
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=2, help="interleaved runs; best is kept")
    parser.add_argument("--record", action="store_true", help="append results to RESULTS.md")
    args = parser.parse_args()
    out = args.out or HERE / "out" / f"audit-{args.entries}-{args.logs}"
    if not (out / bundle.MANIFEST).exists():
        generate(out, args.entries, args.logs)
    floors, ledger_runs, full_runs = [], [], []
    for _ in range(args.repeat):  # interleaved, so a busy moment hurts all alike
        floors.append(floor(out))
        ledger_runs.append(run_audit(out, "--ledger-only"))
        full_runs.append(run_audit(out))
    floor_s, floor_cpu = min(floors)
    ledger_s, ledger_cpu, _, ledger_report = min(ledger_runs, key=lambda a: a[0])
    full_s, full_cpu, _, full_report = min(full_runs, key=lambda a: a[0])
    ledger_mb = max(a[2] for a in ledger_runs) / 1024
    full_mb = max(a[2] for a in full_runs) / 1024
    ratio, rules = ledger_s / floor_s, full_s / ledger_s - 1
    ok = ledger_report["ok"] and full_report["ok"]
    print(
        f"best of {args.repeat}: floor {floor_s:.1f} s (CPU {floor_cpu:.0f} s); "
        f"ledger-only {ledger_s:.1f} s (CPU {ledger_cpu:.0f} s); "
        f"with rules {full_s:.1f} s (CPU {full_cpu:.0f} s)"
    )
    print(
        f"audit/floor = {ratio:.2f} (goal <= 1.5), peak RSS {ledger_mb:.0f} MB (goal <= 300 MB); "
        f"rules add {rules:.0%} (goal <= 30%), peak RSS with rules {full_mb:.0f} MB; "
        f"{'clean' if ok else 'FINDINGS'}"
    )
    if args.record:
        row = (
            f"| {datetime.now(UTC):%Y-%m-%d} | {_machine()} | {args.entries:,} / {args.logs} | "
            f"{full_report['statements_checked']:,} | {floor_s:.1f} s | {ledger_s:.1f} s | "
            f"{ratio:.2f} | {ledger_mb:.0f} MB | {full_s:.1f} s | {rules:+.0%} | "
            f"{full_mb:.0f} MB | {'clean' if ok else 'FINDINGS'} |"
        )
        _record(HERE / "RESULTS.md", "## Audit", row)


def _record(path: Path, section: str, row: str) -> None:
    """Append `row` to the table of the section whose heading starts with `section`."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(section))
    end = start + 1
    while end < len(lines) and not lines[end].startswith("## "):
        end += 1
    last_row = max(i for i in range(start, end) if lines[i].startswith("|"))
    lines.insert(last_row + 1, row)
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

"""Fold benchmark: the per-entry cost of the contract rules against the audit's floor.

Builds N entries across L logs: complete contract lifecycles (enroll, publish, apply, offer,
sign, submit, accept, pay, confirm; five worker statements per contract), then times, on
one core,

* the floor: `Entry.from_bytes` + entry id + verifying every statement's signature;
* `Fold.apply` on the parsed entries (schemas, refs, rules, state), logs interleaved;
* its two halves as `rdh audit` splits them: `read_entry` (the checks that need no state,
  run in the audit's worker processes) and `Fold.apply_view` (the auditing process).

Usage:  python benchmarks/fold_bench.py [--entries 100000] [--logs 4]
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import time
from datetime import UTC, datetime, timedelta

from contracts.fold import Fold
from contracts.view import read_entry
from ledger.entry import Entry, entry_id, verify_statements
from ledger.keys import SigningKey
from ledger.statement import Statement, format_time, sign_statement

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _key(label: str) -> SigningKey:
    return SigningKey.from_seed(hashlib.sha256(label.encode()).digest())


class _Log:
    def __init__(self, n: int) -> None:
        self.key = _key(f"bench/log/{n}")
        self.id = self.key.public.party_id
        self.entries: list[bytes] = []
        self.nonce = 0

    def add(self, type: str, body: dict, refs: list[str], signer: SigningKey | None = None) -> str:  # type: ignore[type-arg]
        seq = len(self.entries)
        when = format_time(T0 + timedelta(seconds=seq))
        signed = ()
        if signer is not None:
            self.nonce += 1
            raw = hashlib.sha256(f"{self.id}/{self.nonce}".encode()).digest()[:16]
            nonce = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            stmt = Statement(
                type=type, log=self.id, signer=signer.public, time=when, nonce=nonce, body=body
            )
            signed = (sign_statement(stmt, key=signer),)
        entry = Entry(
            log=self.id, seq=seq, time=when, type=type, refs=tuple(refs), body=body, signed=signed
        )  # type: ignore[arg-type]
        data = entry.to_bytes()
        self.entries.append(data)
        return entry_id(data)


def _lifecycle(log: _Log, worker: SigningKey, n: int, enroll: bool) -> None:
    wid = worker.public.party_id
    reward = {"amount": "300.00", "currency": "EUR"}
    if enroll:
        body = {"worker": wid, "engagement": "freelance", "display_name": f"w{n}"}
        log.add("member.enroll", body, [], worker)
    task = log.add(
        "task.publish",
        {
            "title": f"Task {n}",
            "description": "Benchmark task.",
            "skills": ["cad"],
            "reward": reward,
            "deadline": "2027-12-31T00:00:00Z",
            "slots": 1,
            "engagements": ["freelance"],
            "executor": "human",
            "claim_mode": "offer",
        },
        [],
    )
    log.add("task.apply", {"task": task, "worker": wid, "note": ""}, [task], worker)
    deadline = "2027-12-31T00:00:00Z"
    offer = log.add(
        "contract.offer",
        {"task": task, "worker": wid, "reward": reward, "deadline": deadline},
        [task],
    )
    log.add("contract.sign", {"offer": offer}, [offer], worker)
    sub = {"contract": offer, "milestone": None, "sha256": task}
    log.add("work.submit", sub, [offer], worker)
    log.add(
        "work.accept", {"contract": offer, "milestone": None, "rating": 5, "feedback": ""}, [offer]
    )
    paid = log.add(
        "payment.record", {"contract": offer, "milestone": None, "amount": reward}, [offer]
    )
    log.add("payment.confirm", {"payment": paid}, [paid], worker)


def build(entries: int, logs: int) -> list[bytes]:
    all_logs = [_Log(n) for n in range(logs)]
    workers = [_key(f"bench/worker/{n}") for n in range(50)]
    for log in all_logs:
        log.add(
            "log.genesis",
            {
                "name": "Bench",
                "kind": "platform",
                "public_key": log.key.public.to_b64(),
                "description": "",
                "url": "",
            },
            [],
        )
    n = 0
    enrolled: set[tuple[int, int]] = set()
    while sum(len(log.entries) for log in all_logs) < entries:
        pair = (n % logs, n % 50)
        _lifecycle(all_logs[pair[0]], workers[pair[1]], n, pair not in enrolled)
        enrolled.add(pair)
        n += 1
    out: list[bytes] = []
    for k in range(max(len(log.entries) for log in all_logs)):  # interleave the logs
        out.extend(log.entries[k] for log in all_logs if k < len(log.entries))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--logs", type=int, default=4)
    args = parser.parse_args()
    data = build(args.entries, args.logs)
    gc.freeze()  # as `rdh audit` does: millions of small objects, collected rarely
    gc.set_threshold(100_000, 50, 100)
    start = time.perf_counter()
    parsed = []
    for item in data:
        entry = Entry.from_bytes(item)
        verify_statements(entry)
        parsed.append((entry, entry_id(item)))
    floor = time.perf_counter() - start
    fold = Fold()
    start = time.perf_counter()
    for entry, eid in parsed:
        fold.apply(entry, eid)
    rules = time.perf_counter() - start
    assert not fold.violations, fold.violations[:3]
    assert not fold.pending
    start = time.perf_counter()
    views = [read_entry(entry, eid) for entry, eid in parsed]
    read = time.perf_counter() - start
    fold = Fold()
    start = time.perf_counter()
    for view in views:
        fold.apply_view(view)
    applied = time.perf_counter() - start
    assert not fold.violations
    assert not fold.pending
    n = len(data)
    print(f"{n} entries, {args.logs} logs")
    print(f"floor (parse, id, signatures): {floor / n * 1e6:6.1f} us/entry")
    print(f"Fold.apply:                    {rules / n * 1e6:6.1f} us/entry")
    print(f"  read_entry (audit workers):  {read / n * 1e6:6.1f} us/entry")
    print(f"  Fold.apply_view:             {applied / n * 1e6:6.1f} us/entry")
    print(f"rules add {rules / floor:.0%} to the single-core floor")


if __name__ == "__main__":
    main()

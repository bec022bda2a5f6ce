"""A small example ecosystem, written as a real signed bundle without a node.

Three micro-communities (a design studio, a workshop and a sales community) each keep a
log; six workers, one of them a software agent, enroll, apply, sign contracts, submit work
and confirm payments with their own keys; each community cosigns (witnesses) the others'
checkpoints, and the bundle carries a 2-of-3 witness policy. Used by `rdh example` (the
README's `make run`) so a newcomer can watch `rdh audit` verify something real.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ledger import bundle
from ledger.keys import SigningKey
from ledger.memlog import MemoryLog, Witness
from ledger.policy import Policy
from ledger.statement import SignedStatement, Statement, format_time, sign_statement
from ledger.types import JSON

__all__ = ["ExampleEcosystem", "build_example"]

COMMUNITIES = [
    ("Lakeside Design Studio", "micro-enterprise", "Product and interaction design"),
    ("Harbour Workshop", "micro-enterprise", "Prototyping, machining and assembly"),
    ("Northgate Sales", "micro-enterprise", "Direct sales and customer success"),
]
WORKERS = [
    ("Amara Osei", "freelance", ["industrial-design", "cad"]),
    ("Lin Wei", "employee", ["cad", "machining"]),
    ("Sofia Marques", "gig", ["welding", "assembly"]),
    ("Jonas Berg", "project", ["sales", "negotiation"]),
    ("Priya Nair", "alliance", ["ux-research", "copywriting"]),
    ("quote-bot", "agent", ["pricing", "data-entry"]),
]


@dataclass(frozen=True, slots=True)
class ExampleEcosystem:
    """What `build_example` wrote, for printing a summary."""

    manifest: bundle.Manifest
    names: dict[str, str]
    statements: int


def _nonce() -> str:
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def tick(self, minutes: int = 37) -> str:
        self.now += timedelta(minutes=minutes)
        return format_time(self.now)


def _consent(
    log: MemoryLog, worker: SigningKey, kind: str, when: str, body: dict[str, JSON]
) -> Sequence[SignedStatement]:
    stmt = Statement(
        type=kind, log=log.log_id, signer=worker.public, time=when, nonce=_nonce(), body=body
    )
    return (sign_statement(stmt, key=worker),)


def build_example(sink: bundle.BundleSink, *, now: datetime | None = None) -> ExampleEcosystem:
    """Write the example ecosystem into `sink` and return what was written."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    clock = _Clock(now - timedelta(days=30))
    logs = [MemoryLog(SigningKey.from_seed(os.urandom(32))) for _ in COMMUNITIES]
    workers = [SigningKey.from_seed(os.urandom(32)) for _ in WORKERS]
    names: dict[str, str] = {}
    statements = 0
    for log, (name, kind, description) in zip(logs, COMMUNITIES, strict=True):
        names[log.log_id] = name
        log.append(
            type="log.genesis",
            time=clock.tick(),
            body={
                "name": name,
                "kind": kind,
                "public_key": log.key.public.to_b64(),
                "description": description,
                "url": "http://127.0.0.1/",
            },
        )
    for log in logs:
        for other in logs:
            if other is not log:
                log.append(type="log.follow", time=clock.tick(3), body={"log": other.log_id})
    for n, (log, worker, (wname, engagement, skills)) in enumerate(
        zip(logs * 2, workers, WORKERS, strict=False)
    ):
        when = clock.tick()
        body: dict[str, JSON] = {"engagement": engagement, "display_name": wname}
        log.append(
            type="member.enroll",
            time=when,
            body={"worker": worker.public.party_id, **body},
            signed=_consent(log, worker, "member.enroll", when, body),
        )
        statements += 1
        task = log.append(
            type="task.publish",
            time=clock.tick(),
            body={
                "title": f"{skills[0].replace('-', ' ').title()} for the spring range #{n + 1}",
                "skills": list(skills),
                "reward": {"amount": f"{250 + 75 * n}.00", "currency": "EUR"},
                "deadline": format_time(now + timedelta(days=14 + n)),
                "slots": 1,
                "executor": "agent" if engagement == "agent" else "human",
                "claim_mode": "offer",
            },
        )
        when = clock.tick()
        apply_body: dict[str, JSON] = {"task": task.id, "note": "Available this month."}
        applied = log.append(
            type="task.apply",
            time=when,
            refs=[task.id],
            body={"worker": worker.public.party_id, **apply_body},
            signed=_consent(log, worker, "task.apply", when, apply_body),
        )
        offer = log.append(
            type="contract.offer",
            time=clock.tick(),
            refs=[task.id, applied.id],
            body={
                "task": task.id,
                "worker": worker.public.party_id,
                "reward": {"amount": f"{250 + 75 * n}.00", "currency": "EUR"},
            },
        )
        when = clock.tick()
        signed = log.append(
            type="contract.sign",
            time=when,
            refs=[offer.id],
            body={"offer": offer.id},
            signed=_consent(log, worker, "contract.sign", when, {"offer": offer.id}),
        )
        when = clock.tick(600)
        deliverable: dict[str, JSON] = {
            "contract": signed.id,
            "uri": f"https://files.example/{n}",
            "sha256": task.id,
        }
        submitted = log.append(
            type="work.submit",
            time=when,
            refs=[signed.id],
            body=deliverable,
            signed=_consent(log, worker, "work.submit", when, deliverable),
        )
        accepted = log.append(
            type="work.accept",
            time=clock.tick(),
            refs=[submitted.id],
            body={"contract": signed.id, "rating": 4 + n % 2, "feedback": "Clear and on time."},
        )
        paid = log.append(
            type="payment.record",
            time=clock.tick(),
            refs=[accepted.id],
            body={"contract": signed.id, "amount": f"{250 + 75 * n}.00", "currency": "EUR"},
        )
        when = clock.tick()
        log.append(
            type="payment.confirm",
            time=when,
            refs=[paid.id],
            body={"payment": paid.id},
            signed=_consent(log, worker, "payment.confirm", when, {"payment": paid.id}),
        )
        statements += 4
    witnesses = [
        Witness(name=f"rdh-witness/{log.log_id[:16]}", key=SigningKey.from_seed(os.urandom(32)))
        for log in logs
    ]
    policy = Policy.from_text(_policy_text(logs, witnesses))
    timestamp = int(now.timestamp())
    for log, witness in zip(logs, witnesses, strict=True):
        others = [w for w in witnesses if w is not witness]
        log.export(sink, log.checkpoint(witnesses=others, timestamp=timestamp))
    manifest = bundle.Manifest(
        exporter="rdh example",
        exported_at=format_time(now),
        logs=tuple(
            bundle.LogInfo(id=log.log_id, origin=log.origin, vkey=log.vkey, size=log.size)
            for log in logs
        ),
    )
    sink.write(bundle.MANIFEST, manifest.to_bytes())
    sink.write(bundle.POLICY, policy.to_bytes())
    return ExampleEcosystem(manifest=manifest, names=names, statements=statements)


def _policy_text(logs: Sequence[MemoryLog], witnesses: Sequence[Witness]) -> str:
    lines = ["# Example ecosystem: any log, cosigned by at least 2 of the 3 community witnesses"]
    lines += [f"log {log.vkey}" for log in logs]
    lines += [f"witness w{i} {w.cosigner.to_vkey()}" for i, w in enumerate(witnesses)]
    lines.append("group communities 2 " + " ".join(f"w{i}" for i in range(len(witnesses))))
    lines.append("quorum communities")
    return "\n".join(lines) + "\n"

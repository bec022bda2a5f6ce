"""A small example ecosystem, written as a real signed bundle without a node.

Three micro-communities (a design studio, a workshop and a sales community) each keep a
log; six workers, one of them a software agent, enroll, apply, sign contracts, submit work
and confirm payments with their own keys, and earn attested skills; the studio and the
workshop share the value they add (a tiered agreement both logs sign, revenue reported by
each, one settled month, a payout confirmed). Every entry follows the contract rules
(`contracts`). Each community cosigns (witnesses) the others' checkpoints, and the bundle
carries a 2-of-3 witness policy. Used by `rdh example` (the README's `make run`) so a
newcomer can watch `rdh audit` verify something real.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from contracts.allocation import Tier, basis_amount, waterfall
from contracts.money import Money
from ledger import bundle
from ledger.entry import Entry
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
                log.append(
                    type="log.follow",
                    time=clock.tick(3),
                    body={"log": other.log_id, "relation": "partner"},
                )
    for n, (log, worker, story) in enumerate(zip(logs * 2, workers, WORKERS, strict=False)):
        statements += _worker_story(log, worker, story, n, clock, now)
    statements += _share_story(logs[0], logs[1], clock, now)
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


def _signed(
    log: MemoryLog,
    clock: _Clock,
    kind: str,
    body: dict[str, JSON],
    signers: Sequence[SigningKey] = (),
    refs: Sequence[str] = (),
    minutes: int = 37,
) -> Entry:
    """Append an entry with statements of `signers` over exactly its type and body."""
    when = clock.tick(minutes)
    signed = [s for key in signers for s in _consent(log, key, kind, when, body)]
    return log.append(type=kind, time=when, refs=refs, body=body, signed=signed)


def _worker_story(
    log: MemoryLog,
    worker: SigningKey,
    story: tuple[str, str, list[str]],
    n: int,
    clock: _Clock,
    now: datetime,
) -> int:
    """Enroll, publish, apply, offer, sign, submit, accept, pay, confirm, attest."""
    wname, engagement, skills = story
    wid = worker.public.party_id
    reward: dict[str, JSON] = {"amount": f"{250 + 75 * n}.00", "currency": "EUR"}
    enroll: dict[str, JSON] = {"worker": wid, "engagement": engagement, "display_name": wname}
    _signed(log, clock, "member.enroll", enroll, [worker])
    task = _signed(
        log,
        clock,
        "task.publish",
        {
            "title": f"{skills[0].replace('-', ' ').title()} for the spring range #{n + 1}",
            "description": "Part of the spring product range.",
            "skills": list(skills),
            "reward": reward,
            "deadline": format_time(now + timedelta(days=14 + n)),
            "slots": 1,
            "engagements": [engagement],
            "executor": "agent" if engagement == "agent" else "human",
            "claim_mode": "offer",
        },
    )
    apply: dict[str, JSON] = {"task": task.id, "worker": wid, "note": "Available this month."}
    applied = _signed(log, clock, "task.apply", apply, [worker], refs=[task.id])
    offer = _signed(
        log,
        clock,
        "contract.offer",
        {
            "task": task.id,
            "worker": wid,
            "reward": reward,
            "deadline": format_time(now + timedelta(days=10)),
        },
        refs=[task.id, applied.id],
    )
    contract = offer.id
    signed = _signed(log, clock, "contract.sign", {"offer": contract}, [worker], refs=[contract])
    deliverable: dict[str, JSON] = {
        "contract": contract,
        "milestone": None,
        "uri": f"https://files.example/{n}",
        "sha256": task.id,
    }
    _signed(
        log, clock, "work.submit", deliverable, [worker], refs=[contract, signed.id], minutes=600
    )
    accept: dict[str, JSON] = {
        "contract": contract,
        "milestone": None,
        "rating": 4 + n % 2,
        "feedback": "Clear and on time.",
    }
    _signed(log, clock, "work.accept", accept, refs=[contract])
    pay: dict[str, JSON] = {"contract": contract, "milestone": None, "amount": reward}
    paid = _signed(log, clock, "payment.record", pay, refs=[contract])
    _signed(log, clock, "payment.confirm", {"payment": paid.id}, [worker], refs=[paid.id])
    attest: dict[str, JSON] = {"worker": wid, "skill": skills[0], "evidence": [contract]}
    _signed(log, clock, "skill.attest", attest, refs=[contract])
    return 5


def _share_story(lake: MemoryLog, harbour: MemoryLog, clock: _Clock, now: datetime) -> int:
    """Two communities share value added: 70/30 up to 5,000.00 a month, 50/50 above."""
    parties: list[JSON] = [lake.log_id, harbour.log_id]
    tiers = [Tier(up_to=500000, weights=(7000, 3000)), Tier(up_to=None, weights=(5000, 5000))]
    proposal = _signed(
        lake,
        clock,
        "share.propose",
        {
            "parties": parties,
            "currency": "EUR",
            "basis": "value-added",
            "period": "monthly",
            "tiers": [
                {"up_to": "5000.00", "weights": [7000, 3000]},
                {"up_to": None, "weights": [5000, 5000]},
            ],
        },
    )
    keys = [lake.key, harbour.key]
    body: dict[str, JSON] = {"proposal": proposal.id}
    agreement = _signed(lake, clock, "share.activate", body, keys, refs=[proposal.id]).id
    period = format_time(now - timedelta(days=32))[:7]
    reports = []
    for log, revenue, costs in ((lake, 612000, 188050), (harbour, 254000, 91075)):
        report: dict[str, JSON] = {
            "agreement": agreement,
            "period": period,
            "revenue": Money.from_minor(revenue, "EUR").to_dict(),  # type: ignore[dict-item]
            "costs": Money.from_minor(costs, "EUR").to_dict(),  # type: ignore[dict-item]
        }
        reports.append(
            (_signed(log, clock, "share.revenue", report, refs=[agreement]), revenue, costs)
        )
    amount = basis_amount(
        basis="value-added",
        revenue=sum(r for _, r, _ in reports),
        costs=sum(c for _, _, c in reports),
    )
    split = waterfall(amount, tiers)
    payouts: list[JSON] = [
        {"party": party, "amount": Money.from_minor(total, "EUR").to_dict()}  # type: ignore[dict-item]
        for party, total in zip(parties, split.totals, strict=True)
    ]
    revenue_ids: list[JSON] = [entry.id for entry, _, _ in reports]
    settle = _signed(
        lake,
        clock,
        "share.settle",
        {
            "agreement": agreement,
            "period": period,
            "revenue": revenue_ids,
            "basis_amount": Money.from_minor(amount, "EUR").to_dict(),  # type: ignore[dict-item]
            "payouts": payouts,
        },
        refs=[agreement, *(str(r) for r in revenue_ids)],
    )
    pay: dict[str, JSON] = {
        "settlement": settle.id,
        "party": harbour.log_id,
        "amount": Money.from_minor(split.totals[1], "EUR").to_dict(),  # type: ignore[dict-item]
    }
    paid = _signed(lake, clock, "payment.record", pay, refs=[settle.id])
    _signed(lake, clock, "payment.confirm", {"payment": paid.id}, [harbour.key], refs=[paid.id])
    return 3


def _policy_text(logs: Sequence[MemoryLog], witnesses: Sequence[Witness]) -> str:
    lines = ["# Example ecosystem: any log, cosigned by at least 2 of the 3 community witnesses"]
    lines += [f"log {log.vkey}" for log in logs]
    lines += [f"witness w{i} {w.cosigner.to_vkey()}" for i, w in enumerate(witnesses)]
    lines.append("group communities 2 " + " ".join(f"w{i}" for i in range(len(witnesses))))
    lines.append("quorum communities")
    return "\n".join(lines) + "\n"

"""Builders for contract tests: communities (logs) that record entries, workers that sign.

Keys come from labels (SigningKey.from_seed(sha256(label))), times from a per-log clock, so
every entry and id is deterministic. `Community.add` appends a valid-looking entry to the
log (refs default to every entry id named in the body); `Community.make` builds the next
entry without appending it, for trying an entry that should break a rule.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.fold import Fold
from contracts.schemas import BODY_SPECS
from ledger.entry import Entry
from ledger.keys import SigningKey
from ledger.memlog import MemoryLog
from ledger.statement import Statement, format_time, sign_statement

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def key(label: str) -> SigningKey:
    return SigningKey.from_seed(hashlib.sha256(label.encode()).digest())


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


def at(days: float) -> str:
    return format_time(T0 + timedelta(days=days))


def body_refs(type: str, body: dict[str, Any]) -> list[str]:
    spec = BODY_SPECS.get(type)
    out: list[str] = []
    for name in spec.refs if spec else ():
        value = body.get(name)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list):
            out.extend(value)
    return out


class Community:
    """One log and its clock (one minute per entry unless told)."""

    def __init__(self, label: str, *, start: datetime = T0) -> None:
        self.label = label
        self.key = key(f"log/{label}")
        self.log = MemoryLog(self.key)
        self.id = self.log.log_id
        self.now = start
        self.entries: list[tuple[Entry, str]] = []
        self._nonces = 0

    def make(
        self,
        type: str,
        body: dict[str, Any],
        *,
        signers: Iterable[SigningKey] = (),
        refs: Sequence[str] | None = None,
        time: str | None = None,
        statement_body: dict[str, Any] | None = None,
        statement_type: str | None = None,
        seq: int | None = None,
    ) -> Entry:
        when = time or format_time(self.now + timedelta(minutes=1))
        signed = []
        for signer in signers:
            self._nonces += 1
            raw = hashlib.sha256(f"{self.label}/{self._nonces}".encode()).digest()[:16]
            stmt = Statement(
                type=statement_type or type,
                log=self.id,
                signer=signer.public,
                time=when,
                nonce=base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
                body=statement_body if statement_body is not None else body,
            )
            signed.append(sign_statement(stmt, key=signer))
        if refs is None:
            refs = list(dict.fromkeys(body_refs(type, body)))
        return Entry(
            log=self.id,
            seq=self.log.size if seq is None else seq,
            time=when,
            type=type,
            refs=tuple(refs),  # type: ignore[arg-type]
            body=body,
            signed=tuple(signed),
        )

    def add(self, type: str, body: dict[str, Any], **kwargs: Any) -> str:
        """Append the entry to the log and return its id."""
        entry = self.make(type, body, **kwargs)
        self.log.append_bytes(entry.to_bytes())
        self.now = max(self.now + timedelta(minutes=1), _parse(entry.time))
        self.entries.append((entry, entry.id))
        return entry.id

    def genesis(self, name: str | None = None) -> str:
        return self.add(
            "log.genesis",
            {
                "name": name or self.label,
                "kind": "micro-enterprise",
                "public_key": self.key.public.to_b64(),
                "description": f"The {self.label} community",
                "url": f"https://{self.label.lower()}.example/",
            },
        )

    def advance(self, days: float) -> None:
        self.now += timedelta(days=days)


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def pid(signing_key: SigningKey) -> str:
    return signing_key.public.party_id


def fold_all(*communities: Community) -> Fold:
    """Fold the communities' entries, log after log."""
    result = Fold()
    for community in communities:
        for entry, eid in community.entries:
            result.apply(entry, eid)
    return result


def task_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Design a lamp",
        "description": "A desk lamp for the spring range.",
        "skills": ["industrial-design", "cad"],
        "reward": eur("300.00"),
        "deadline": at(30),
        "slots": 1,
        "engagements": ["freelance", "gig", "employee"],
        "executor": "human",
        "claim_mode": "offer",
    }
    body.update(overrides)
    return body


def contract_flow(community: Community, worker: SigningKey, *, reward: str = "300.00") -> str:
    """Publish, offer, sign, submit, accept, pay and confirm one contract; its id."""
    task = community.add("task.publish", task_body(reward=eur(reward)))
    offer = community.add(
        "contract.offer",
        {"task": task, "worker": pid(worker), "reward": eur(reward), "deadline": at(25)},
    )
    community.add("contract.sign", {"offer": offer}, signers=[worker])
    community.add(
        "work.submit",
        {"contract": offer, "milestone": None, "uri": "https://w.example/"},
        signers=[worker],
    )
    community.add(
        "work.accept", {"contract": offer, "milestone": None, "rating": 4, "feedback": "ok"}
    )
    paid = community.add(
        "payment.record", {"contract": offer, "milestone": None, "amount": eur(reward)}
    )
    community.add("payment.confirm", {"payment": paid}, signers=[worker])
    return offer


OUTSIDE = hashlib.sha256(b"an entry no log here holds").hexdigest()


def ecosystem() -> list[Community]:
    """Three logs with references across them both ways, some invalid entries, and one
    entry (the last of Northgate) waiting forever on an entry outside these logs."""
    lake, harbour, north = Community("Lakeside"), Community("Harbour"), Community("Northgate")
    amara, lin = key("worker/amara"), key("worker/lin")
    for c in (lake, harbour, north):
        c.genesis()
    lake.add(
        "member.enroll",
        {"worker": pid(amara), "engagement": "freelance", "display_name": "Amara"},
        signers=[amara],
    )
    contract = contract_flow(lake, amara)
    lake.add("skill.attest", {"worker": pid(amara), "skill": "cad", "evidence": [contract]})
    contract_flow(harbour, lin, reward="120.50")
    # invalid: Harbour cannot attest work it did not accept
    harbour.add("skill.attest", {"worker": pid(amara), "skill": "cad", "evidence": [contract]})
    proposal = lake.add(
        "share.propose",
        {
            "parties": [lake.id, harbour.id],
            "currency": "EUR",
            "basis": "value-added",
            "period": "monthly",
            "tiers": [
                {"up_to": "1000.00", "weights": [6000, 4000]},
                {"up_to": None, "weights": [3333, 6667]},
            ],
        },
    )
    agreement = lake.add("share.activate", {"proposal": proposal}, signers=[lake.key, harbour.key])
    theirs = harbour.add(
        "share.revenue",
        {
            "agreement": agreement,
            "period": "2026-11",
            "revenue": eur("2000.00"),
            "costs": eur("0.00"),
        },
    )
    # invalid: Northgate is no party
    north.add(
        "share.revenue",
        {"agreement": agreement, "period": "2026-11", "revenue": eur("1.00"), "costs": eur("0.00")},
    )
    north.add("log.follow", {"log": lake.id, "relation": "follow"}, refs=[OUTSIDE])
    north.add("log.follow", {"log": harbour.id, "relation": "follow"})
    mine = lake.add(
        "share.revenue",
        {
            "agreement": agreement,
            "period": "2026-11",
            "revenue": eur("500.00"),
            "costs": eur("300.00"),
        },
    )
    # 2200.00: 1000.00 at 60/40, 1200.00 at 33.33/66.67
    settle = lake.add(
        "share.settle",
        {
            "agreement": agreement,
            "period": "2026-11",
            "revenue": [mine, theirs],
            "basis_amount": eur("2200.00"),
            "payouts": [
                {"party": lake.id, "amount": eur("999.96")},
                {"party": harbour.id, "amount": eur("1200.04")},
            ],
        },
    )
    paid = lake.add(
        "payment.record", {"settlement": settle, "party": harbour.id, "amount": eur("1200.04")}
    )
    lake.add("payment.confirm", {"payment": paid}, signers=[harbour.key])
    # invalid: settled twice
    lake.add("share.settle", lake.entries[-3][0].body)
    harbour.add("log.follow", {"log": lake.id, "relation": "partner"}, refs=[settle])
    return [lake, harbour, north]


def share_setup() -> tuple[Community, Community, str, str]:
    """Two communities activate a 60/40 then 50/50 revenue share over value added."""
    lake, harbour = Community("Lakeside"), Community("Harbour")
    lake.genesis()
    harbour.genesis()
    lake.add("log.follow", {"log": harbour.id, "relation": "partner"})
    proposal = lake.add(
        "share.propose",
        {
            "parties": [lake.id, harbour.id],
            "currency": "EUR",
            "basis": "value-added",
            "period": "monthly",
            "tiers": [
                {"up_to": "1000.00", "weights": [6000, 4000]},
                {"up_to": None, "weights": [5000, 5000]},
            ],
        },
    )
    agreement = lake.add("share.activate", {"proposal": proposal}, signers=[lake.key, harbour.key])
    return lake, harbour, proposal, agreement

"""Bodies and signed statements for driving a node through every entry type in tests.

Pure builders: they know the contract bodies (docs/contracts.md) and sign statements with
deterministic keys; the tests choose the transport (the service directly, or HTTP).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.keys import SigningKey
from ledger.statement import SignedStatement, Statement, format_time, sign_statement
from ledger.types import JSON
from tests.builders import key, nonce

EUR_250: dict[str, JSON] = {"amount": "250.00", "currency": "EUR"}


def signed(
    worker: SigningKey, log: str, kind: str, body: dict[str, JSON], at: datetime, label: str
) -> SignedStatement:
    """`worker`'s statement over exactly `kind` and `body`, addressed to `log`."""
    stmt = Statement(
        type=kind,
        log=log,  # type: ignore[arg-type]
        signer=worker.public,
        time=format_time(at),
        nonce=nonce(f"{label}/{worker.party_id}/{kind}/{sorted(body.items())!r}"),
        body=body,
    )
    return sign_statement(stmt, key=worker)


def task_body(
    now: datetime, *, title: str = "Design a lamp", skills: tuple[str, ...] = ("cad",)
) -> dict[str, JSON]:
    return {
        "title": title,
        "description": "A desk lamp for the spring range.",
        "skills": list(skills),
        "reward": EUR_250,
        "deadline": format_time(now + timedelta(days=14)),
        "slots": 1,
        "engagements": ["freelance", "gig"],
        "executor": "human",
        "claim_mode": "offer",
    }


def offer_body(task: str, worker: str, now: datetime) -> dict[str, JSON]:
    return {
        "task": task,
        "worker": worker,
        "reward": EUR_250,
        "deadline": format_time(now + timedelta(days=10)),
    }


def enroll_body(worker: SigningKey, name: str = "Amara Osei") -> dict[str, JSON]:
    return {"worker": worker.party_id, "engagement": "freelance", "display_name": name}


def proposal_body(parties: list[str]) -> dict[str, JSON]:
    return {
        "parties": list(parties),  # type: ignore[dict-item]
        "currency": "EUR",
        "basis": "revenue",
        "period": "monthly",
        "tiers": [
            {"up_to": "1000.00", "weights": [7000, 3000]},
            {"up_to": None, "weights": [5000, 5000]},
        ],
    }


WORKER = key("worker-amara")
PARTNER = key("partner-log")

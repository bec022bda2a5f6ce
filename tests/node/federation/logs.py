"""Genuine in-memory logs for the federation tests (valid entries, signed checkpoints)."""

from __future__ import annotations

from ledger.keys import SigningKey
from ledger.memlog import MemoryLog
from tests.builders import key

TIME = "2026-11-25T12:00:00Z"


def task(n: int, title: str = "task") -> dict[str, object]:
    return {
        "title": f"{title} {n}",
        "description": "A task.",
        "skills": ["cad"],
        "reward": {"amount": "10.00", "currency": "EUR"},
        "deadline": "2027-01-01T00:00:00Z",
        "slots": 1,
        "engagements": ["freelance"],
        "executor": "human",
        "claim_mode": "offer",
    }


def memory_log(size: int, label: str = "remote", signer: SigningKey | None = None) -> MemoryLog:
    """A log of `size` entries: its genesis, then tasks."""
    signer = signer or key(label)
    log = MemoryLog(signer)
    log.append(
        type="log.genesis",
        time=TIME,
        body={
            "name": label,
            "kind": "micro-enterprise",
            "public_key": signer.public.to_b64(),
            "description": "",
            "url": "",
        },
    )
    for n in range(size - 1):
        log.append(type="task.publish", time=TIME, body=task(n))  # type: ignore[arg-type]
    return log


def fork(size: int, label: str = "forker") -> tuple[MemoryLog, MemoryLog]:
    """Two logs of one key, equal up to `size - 1` entries, different at the last one."""
    a = memory_log(size - 1, label)
    b = memory_log(size - 1, label)
    a.append(type="task.publish", time=TIME, body=task(1, "branch A"))  # type: ignore[arg-type]
    b.append(type="task.publish", time=TIME, body=task(1, "branch B"))  # type: ignore[arg-type]
    return a, b

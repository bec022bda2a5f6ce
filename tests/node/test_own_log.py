"""node.own_log: the database store and the in-memory one are the same log.

The same script of batches, run on both, must give byte-identical entries and checkpoint
notes (Ed25519 signatures are deterministic), the same refusals, and the same proofs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from ledger.entry import Entry
from node.db import make_engine, make_sessions, upgrade
from node.errors import NodeError, NotFoundError, RuleRejected, UsageError
from node.memory_store import MemoryLogStore
from node.own_log import EntryDraft, Genesis, OwnLog
from node.store import LogStore
from tests.builders import key, statement
from tests.node.conftest import NOW

KEY = key("node-a")
WORKER = key("worker-1")


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[tuple[OwnLog, OwnLog]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'rdh.db'}")
    upgrade(engine)
    yield MemoryLogStore(KEY), LogStore(make_sessions(engine), KEY)
    engine.dispose()


def _signed(label: str, nonce: str | None = None, log: str = KEY.party_id) -> EntryDraft:
    return EntryDraft(
        "contract.sign", {}, signed=(statement(WORKER, log, label=label, nonce_label=nonce),)
    )


def _refuse(entries: Sequence[Entry]) -> None:
    raise RuleRejected("test.rule", "refused")


Step = Callable[[OwnLog], object]

SCRIPT: list[Step] = [
    lambda log: log.append([EntryDraft("task.publish", {"n": 1})], NOW),
    lambda log: log.init_log(Genesis(name="A", kind="platform"), NOW),
    lambda log: log.append([], NOW),
    lambda log: log.append([EntryDraft("task.publish", {"n": n}) for n in range(300)], NOW),
    lambda log: log.append([_signed("s1")], NOW),
    lambda log: log.append([_signed("s2", nonce="s1")], NOW),
    lambda log: log.append([_signed("s3", nonce="x"), _signed("s4", nonce="x")], NOW),
    lambda log: log.append([_signed("s5", log=key("node-b").party_id)], NOW),
    lambda log: log.append([EntryDraft("Bad", {})], NOW),
    lambda log: log.append([EntryDraft("task.publish", {})], NOW, check=_refuse),
    lambda log: log.append([EntryDraft("task.close", {"n": 2}), _signed("s6")], NOW),
    lambda log: log.init_log(Genesis(name="A", kind="platform"), NOW),
]


def _outcome(step: Step, log: OwnLog) -> object:
    try:
        return step(log)
    except NodeError as e:
        return (type(e).__name__, getattr(e, "rule", None), str(e))


def test_memory_and_database_logs_agree(logs: tuple[OwnLog, OwnLog]) -> None:
    memory, database = logs
    outcomes = [(_outcome(step, memory), _outcome(step, database)) for step in SCRIPT]
    for n, (in_memory, in_database) in enumerate(outcomes):
        assert in_memory == in_database, f"step {n}"
    kinds = [type(a).__name__ if not isinstance(a, tuple) else a[0] for a, _ in outcomes]
    assert kinds == [
        "NotFoundError",
        "AppendResult",
        "UsageError",
        "AppendResult",
        "AppendResult",
        "NonceReused",
        "NonceReused",
        "RuleRejected",
        "RuleRejected",
        "RuleRejected",
        "AppendResult",
        "UsageError",
    ]
    assert memory.size == database.size == 304
    assert memory.checkpoint() == database.checkpoint()
    for seq in (0, 150, 303):
        assert memory.entry(seq) == database.entry(seq)
        assert memory.entry_by_id(memory.entry(seq).id) == database.entry(seq)
    for index, size in [(0, 1), (5, 300), (303, 304)]:
        assert memory.inclusion_proof(index, size) == database.inclusion_proof(index, size)
    for old, new in [(0, 5), (1, 302), (256, 304), (304, 304)]:
        assert memory.consistency_proof(old, new) == database.consistency_proof(old, new)


@pytest.mark.parametrize(
    "call",
    [
        lambda log: log.entry(304),
        lambda log: log.entry_by_id("0" * 64),
        lambda log: log.inclusion_proof(0, 305),
        lambda log: log.inclusion_proof(4, 4),
        lambda log: log.consistency_proof(5, 4),
    ],
    ids=["entry", "entry-id", "proof-size", "proof-index", "consistency-order"],
)
def test_both_say_not_found(logs: tuple[OwnLog, OwnLog], call: Step) -> None:
    for log in logs:
        log.init_log(Genesis(name="A", kind="platform"), NOW)
        log.append([EntryDraft("task.publish", {"n": n}) for n in range(303)], NOW)
        with pytest.raises(NotFoundError):
            call(log)


def test_genesis_kind_is_checked() -> None:
    with pytest.raises(UsageError, match="kind is one of"):
        Genesis(name="A", kind="company")

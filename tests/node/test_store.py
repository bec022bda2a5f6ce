"""node.store: the write path on a real SQLite file and a real PostgreSQL server.

Appends are durable batches; a rejected batch or a replayed nonce stores nothing; the stored
tree is the RFC 6962 tree of the stored bytes; proofs from stored tiles verify; and the
start-up check refuses a database that no longer matches its last signed checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger.audit import audit
from ledger.bundle import MemoryBundle
from ledger.checkpoint import Checkpoint, log_verifier, open_checkpoint
from ledger.entry import Entry
from ledger.merkle import MemoryTree, leaf_hash, verify_consistency, verify_inclusion
from ledger.tiles import tiles_for_size
from ledger.types import EntryId
from node.db import CheckpointRow, EntryRow, LogRow, NonceRow, TileRow
from node.errors import NonceReused, NotFoundError, RuleRejected, StoreMismatch, UsageError
from node.export import export_bundle
from node.store import EntryDraft, Genesis, LogStore
from node.store_check import verify_store
from tests.builders import key, statement
from tests.node.conftest import NOW

WORKER = key("worker-1")


def _drafts(n: int, start: int = 0) -> list[EntryDraft]:
    return [EntryDraft("task.publish", {"n": start + i}) for i in range(n)]


def _count(sessions: sessionmaker[Session], table: type) -> int:
    with sessions.begin() as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def _stored_bytes(store: LogStore) -> list[bytes]:
    with store.reader() as reader:
        return reader.entry_data(0, reader.log().size)


def _open(store: LogStore, note: bytes) -> Checkpoint:
    return open_checkpoint(note, verifier=log_verifier(key("node-a").public)).checkpoint


def test_init_writes_genesis_and_signs_checkpoint_1(store: LogStore) -> None:
    genesis = Entry.from_bytes(store.entry(0).data)
    assert (genesis.seq, genesis.type, genesis.log) == (0, "log.genesis", store.log_id)
    assert genesis.body == {
        "name": "Node A",
        "kind": "micro-enterprise",
        "public_key": key("node-a").public.to_b64(),
        "description": "",
        "url": "",
    }
    assert genesis.time == "2026-11-25T12:00:00Z"
    checkpoint = _open(store, store.checkpoint())
    assert checkpoint.size == 1
    assert checkpoint.root == leaf_hash(genesis.to_bytes())
    assert store.entry_by_id(genesis.id).seq == 0


def test_init_twice_is_refused(store: LogStore) -> None:
    with pytest.raises(UsageError, match="already exists"):
        store.init_log(Genesis(name="Again", kind="platform"), NOW)


def test_append_round_trip(store: LogStore) -> None:
    ref = store.entry(0).id
    drafts = [
        EntryDraft("task.publish", {"title": "Paint"}, refs=(ref,)),
        EntryDraft("task.close", {"task": "x"}, time="2026-11-25T12:30:00Z"),
    ]
    result = store.append(drafts, NOW)
    assert [e.seq for e in result.entries] == [1, 2]
    assert result.size == 3
    assert result.entries[0].refs == (ref,)
    assert result.entries[1].time == "2026-11-25T12:30:00Z"
    for entry in result.entries:
        stored = store.entry(entry.seq)
        assert stored.data == entry.to_bytes()
        assert (stored.id, stored.type, stored.time) == (entry.id, entry.type, entry.time)
        assert store.entry_by_id(entry.id).seq == entry.seq
    assert _open(store, result.checkpoint).size == 3
    assert store.checkpoint() == result.checkpoint


def test_missing_things_are_not_found(store: LogStore) -> None:
    with pytest.raises(NotFoundError):
        store.entry(5)
    with pytest.raises(NotFoundError):
        store.entry_by_id("0" * 64)
    with pytest.raises(NotFoundError):
        store.tile(0, 1, 1)
    with pytest.raises(NotFoundError):
        store.inclusion_proof(0, 2)


def test_an_entry_of_another_log_is_not_found_by_id_in_this_one(
    store: LogStore, sessions: sessionmaker[Session]
) -> None:
    other, entry_id = "cd" * 32, "ef" * 32
    with sessions.begin() as session:
        session.add(LogRow(id=other, origin="o", vkey="k", local=False, size=1, root=b"\0" * 32))
        session.flush()
        session.add(EntryRow(log_id=other, seq=0, id=entry_id, type="a.b", time="t", data=b"x"))
    with pytest.raises(NotFoundError, match="has no entry"):
        store.entry_by_id(entry_id)


def test_append_before_init_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(NotFoundError, match="rdh init"):
        LogStore(sessions, key("nobody")).append(_drafts(1), NOW)


def test_empty_batch_is_refused(store: LogStore) -> None:
    with pytest.raises(UsageError, match="nothing"):
        store.append([], NOW)


def test_batch_of_1000_is_one_tree(store: LogStore) -> None:
    result = store.append(_drafts(1000), NOW)
    assert result.size == 1001
    data = _stored_bytes(store)
    assert [e.to_bytes() for e in result.entries] == data[1:]
    tree = MemoryTree(leaf_hash(d) for d in data)
    checkpoint = _open(store, result.checkpoint)
    assert checkpoint.root == tree.root()
    for ref in tiles_for_size(1001):
        expected = b"".join(
            tree.hash_at(8 * ref.level, ref.index * 256 + i) for i in range(ref.width)
        )
        assert store.tile(ref.level, ref.index, ref.width) == expected


def test_stored_tree_equals_memory_tree_over_many_batches(store: LogStore) -> None:
    sizes = [1]
    for n in (1, 254, 1, 300, 7, 255, 256):
        sizes.append(store.append(_drafts(n, sizes[-1]), NOW).size)
    tree = MemoryTree(leaf_hash(d) for d in _stored_bytes(store))
    with store.reader() as reader:
        for size in sizes:
            stored = reader.checkpoint(size)
            assert stored.root == tree.root(size) == _open(store, stored.note).root
            assert reader.root(size) == tree.root(size)


def test_only_the_widest_partial_tiles_are_kept(
    store: LogStore, sessions: sessionmaker[Session]
) -> None:
    """Small commits do not leave a partial tile per size behind (each would be up to 8 KiB),
    yet every earlier size's tiles, roots and proofs are still served."""
    sizes = [1]
    for n in (1, 1, 3, 250, 1, 2, 300, 1):
        sizes.append(store.append(_drafts(n, sizes[-1]), NOW).size)
    size = sizes[-1]
    with sessions.begin() as session:
        stored = set(session.execute(select(TileRow.level, TileRow.index, TileRow.width)).all())
    assert stored == {(ref.level, ref.index, ref.width) for ref in tiles_for_size(size)}
    tree = MemoryTree(leaf_hash(d) for d in _stored_bytes(store))
    with store.reader() as reader:
        for old in sizes:
            assert reader.root(old) == tree.root(old) == reader.checkpoint(old).root
            for ref in tiles_for_size(old):
                expected = b"".join(
                    tree.hash_at(8 * ref.level, ref.index * 256 + i) for i in range(ref.width)
                )
                assert reader.tile(ref.level, ref.index, ref.width) == expected
            assert reader.consistency_proof(old, size) == tree.consistency_proof(old, size)


@pytest.mark.parametrize(("index", "size"), [(0, 1), (0, 600), (255, 256), (256, 600), (599, 600)])
def test_inclusion_proofs_verify(store: LogStore, index: int, size: int) -> None:
    store.append(_drafts(255), NOW)
    store.append(_drafts(344), NOW)
    data = store.entry(index).data
    with store.reader() as reader:
        root = reader.root(size)
    proof = store.inclusion_proof(index, size)
    verify_inclusion(leaf_hash=leaf_hash(data), index=index, size=size, proof=proof, root=root)


def test_consistency_proofs_verify(store: LogStore) -> None:
    notes = [store.checkpoint()]
    for n in (3, 300, 1, 500):
        notes.append(store.append(_drafts(n), NOW).checkpoint)
    heads = [_open(store, note) for note in notes]
    for old in heads:
        for new in heads:
            if old.size <= new.size:
                proof = store.consistency_proof(old.size, new.size)
                verify_consistency(
                    old_size=old.size,
                    new_size=new.size,
                    old_root=old.root,
                    new_root=new.root,
                    proof=proof,
                )


def _reject(entries: Sequence[Entry]) -> None:
    raise RuleRejected("task.publish.title", f"entry {entries[-1].seq} has no title")


def test_rejected_batch_stores_nothing(store: LogStore, sessions: sessionmaker[Session]) -> None:
    store.append(_drafts(10), NOW)
    before = {t: _count(sessions, t) for t in (EntryRow, TileRow, CheckpointRow, NonceRow)}
    note = store.checkpoint()
    drafts = [*_drafts(299), EntryDraft("contract.sign", {}, signed=(_signed(store, "a"),))]
    with pytest.raises(RuleRejected, match="no title") as raised:
        store.append(drafts, NOW, check=_reject)
    assert raised.value.rule == "task.publish.title"
    assert {t: _count(sessions, t) for t in before} == before
    assert store.checkpoint() == note
    assert store.size == 11
    assert store.append(_drafts(1), NOW).size == 12  # the log goes on from where it was


def test_check_sees_the_entries_with_their_seq(store: LogStore) -> None:
    seen: list[int] = []
    store.append(_drafts(3), NOW, check=lambda entries: seen.extend(e.seq for e in entries))
    assert seen == [1, 2, 3]


def _signed(store: LogStore, label: str, *, nonce_label: str | None = None, log: str = ""):  # type: ignore[no-untyped-def]
    return statement(WORKER, log or store.log_id, label=label, nonce_label=nonce_label)


def test_statement_nonces_are_recorded(store: LogStore, sessions: sessionmaker[Session]) -> None:
    store.append([EntryDraft("contract.sign", {}, signed=(_signed(store, "s1"),))], NOW)
    with sessions.begin() as session:
        assert session.execute(select(NonceRow.seq)).scalars().all() == [1]


def test_replayed_nonce_is_rejected(store: LogStore, sessions: sessionmaker[Session]) -> None:
    store.append([EntryDraft("contract.sign", {}, signed=(_signed(store, "s1"),))], NOW)
    replay = _signed(store, "s2", nonce_label="s1")  # new statement, old nonce
    entries_before = _count(sessions, EntryRow)
    with pytest.raises(NonceReused, match="already recorded at seq 1"):
        store.append([*_drafts(5), EntryDraft("work.submit", {}, signed=(replay,))], NOW)
    assert _count(sessions, EntryRow) == entries_before


def test_nonce_twice_in_one_batch_is_rejected(store: LogStore) -> None:
    one, two = _signed(store, "a", nonce_label="n"), _signed(store, "b", nonce_label="n")
    drafts = [EntryDraft("contract.sign", {}, signed=(one,)), EntryDraft("x.y", {}, signed=(two,))]
    with pytest.raises(NonceReused, match="twice in this batch"):
        store.append(drafts, NOW)
    assert store.size == 1


def test_statement_for_another_log_is_rejected(store: LogStore) -> None:
    other = _signed(store, "a", log=key("node-b").party_id)
    with pytest.raises(RuleRejected, match="addressed to log") as raised:
        store.append([EntryDraft("contract.sign", {}, signed=(other,))], NOW)
    assert raised.value.rule == "statement.signature"
    assert store.size == 1


# -- start-up check ----------------------------------------------------------------------


def test_verify_store_accepts_a_consistent_store(
    store: LogStore, sessions: sessionmaker[Session]
) -> None:
    for n in (300, 2, 256):
        store.append(_drafts(n), NOW)
    with sessions.begin() as session:
        verify_store(session, full=True)


def _tamper(sessions: sessionmaker[Session], *statements: object) -> None:
    with sessions.begin() as session:
        for stmt in statements:
            session.execute(stmt)  # type: ignore[call-overload]


def _check_fails(sessions: sessionmaker[Session], match: str, *, full: bool = False) -> None:
    with pytest.raises(StoreMismatch, match=match), sessions.begin() as session:
        verify_store(session, full=full)


def test_verify_store_catches_a_deleted_last_entry(
    store: LogStore, sessions: sessionmaker[Session]
) -> None:
    store.append(_drafts(134), NOW)
    _tamper(sessions, delete(EntryRow).where(EntryRow.seq == 134))
    _check_fails(
        sessions, "holds 134 entries .* last signed checkpoint is for 135: .* restored backup"
    )
    with pytest.raises(StoreMismatch):  # and the writer refuses too
        store.append(_drafts(1), NOW)


def test_verify_store_catches_a_truncated_tile(
    store: LogStore, sessions: sessionmaker[Session]
) -> None:
    store.append(_drafts(299), NOW)  # 300: one full level-0 tile and a partial one of 44
    _tamper(
        sessions,
        update(TileRow)
        .where(TileRow.level == 0, TileRow.index == 0, TileRow.width == 256)
        .values(data=b"\x00" * 32 * 255),
    )
    _check_fails(sessions, "tile/0/000 .* holds 8160 bytes, not 8192")


def test_verify_store_catches_a_changed_tile(
    store: LogStore, sessions: sessionmaker[Session]
) -> None:
    store.append(_drafts(10), NOW)
    _tamper(sessions, update(TileRow).where(TileRow.width == 11).values(data=b"\x07" * 32 * 11))
    _check_fails(sessions, "do not reproduce the root")


def test_verify_store_catches_rolled_back_checkpoints(
    store: LogStore, sessions: sessionmaker[Session]
) -> None:
    store.append(_drafts(119), NOW)
    store.append(_drafts(15), NOW)
    _tamper(sessions, delete(CheckpointRow).where(CheckpointRow.size == 135))
    _check_fails(sessions, "holds 135 entries .* last signed checkpoint is for 120")
    with pytest.raises(StoreMismatch, match="disagree"):
        store.append(_drafts(1), NOW)


def test_verify_store_catches_a_rolled_back_database(
    store: LogStore, sessions: sessionmaker[Session]
) -> None:
    """A restored backup: the entries and head roll back, the published checkpoint stays."""
    store.append(_drafts(119), NOW)
    store.append(_drafts(15), NOW)
    with sessions.begin() as session:
        root = session.execute(select(CheckpointRow.root).where(CheckpointRow.size == 120)).scalar()
    _tamper(
        sessions,
        delete(EntryRow).where(EntryRow.seq >= 120),
        update(LogRow).values(size=120, root=root),
    )
    _check_fails(sessions, "holds 120 entries .* is for 135: it looks like a restored backup")


def test_verify_store_full_catches_changed_entry_bytes(
    store: LogStore, sessions: sessionmaker[Session]
) -> None:
    store.append(_drafts(20), NOW)
    _tamper(sessions, update(EntryRow).where(EntryRow.seq == 3).values(data=b'{"x":1}'))
    with sessions.begin() as session:
        verify_store(session)  # the quick check reads only the tiles and the last entry
    _check_fails(sessions, "entry bytes were changed", full=True)


def test_exported_bundle_passes_the_audit(store: LogStore) -> None:
    store.append(_drafts(300), NOW)
    store.append([EntryDraft("contract.sign", {}, signed=(_signed(store, "s"),))], NOW)
    sink = MemoryBundle()
    manifest = export_bundle(store, sink, exported_at="2026-11-25T13:00:00Z")
    assert manifest.logs[0].size == 302
    report = audit(sink)
    assert report.ok, [f.to_text() for f in report.findings]
    assert report.errors == []


def test_exported_bundle_with_a_wrong_entry_fails_the_audit(store: LogStore) -> None:
    store.append(_drafts(3), NOW)
    sink = MemoryBundle()
    export_bundle(store, sink)
    name = f"logs/{store.log_id}/tile/entries/000.p/4"
    sink.files[name] = sink.files[name].replace(b'"n":2', b'"n":9')
    assert not audit(sink).ok


def test_entry_ids_are_leaf_hashes(store: LogStore) -> None:
    result = store.append(_drafts(2), NOW)
    for entry in result.entries:
        assert store.entry(entry.seq).id == EntryId(leaf_hash(entry.to_bytes()).hex())


@pytest.mark.parametrize(
    ("draft", "match"),
    [
        (EntryDraft("Task", {}), "entry type must be a dotted lowercase name"),
        (EntryDraft("task.publish", {}, time="yesterday"), "entry time must be a UTC time"),
        (EntryDraft("task.publish", {}, refs=(EntryId("nope"),)), "each entry ref"),
        (EntryDraft("task.publish", {"x": "y" * 70000}), "more than 65535"),
    ],
    ids=["type", "time", "ref", "size"],
)
def test_malformed_draft_is_rejected(store: LogStore, draft: EntryDraft, match: str) -> None:
    with pytest.raises(RuleRejected, match=match) as raised:
        store.append([*_drafts(2), draft], NOW)
    assert raised.value.rule == "entry.format"
    assert store.size == 1


def test_verify_store_full_catches_a_changed_full_tile(
    store: LogStore, sessions: sessionmaker[Session]
) -> None:
    store.append(_drafts(299), NOW)  # the root is read from the level-1 tile, not this one
    _tamper(sessions, update(TileRow).where(TileRow.width == 256).values(data=b"\x01" * 8192))
    with sessions.begin() as session:
        verify_store(session)
    _check_fails(sessions, r"tile/0/000 .* is not the tile of its entries", full=True)


def test_missing_partial_tile_stops_writer_and_start_up(
    store: LogStore, sessions: sessionmaker[Session]
) -> None:
    store.append(_drafts(9), NOW)
    _tamper(sessions, delete(TileRow).where(TileRow.width == 10))
    restarted = LogStore(sessions, key("node-a"))  # a writer that did not write the head itself
    with pytest.raises(StoreMismatch):
        restarted.append(_drafts(1), NOW)
    _check_fails(sessions, "incomplete or damaged")
    assert store.size == 10

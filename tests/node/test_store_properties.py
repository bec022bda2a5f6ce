"""node.store, property-based: whatever the batch sizes, the stored tree is the RFC 6962
tree of the stored bytes, and every proof served from the stored tiles verifies."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.checkpoint import Checkpoint
from ledger.merkle import MemoryTree, leaf_hash, verify_consistency, verify_inclusion
from ledger.tiles import tiles_for_size
from node.db import make_engine, make_sessions, upgrade
from node.store import EntryDraft, Genesis, LogStore
from tests.builders import key
from tests.node.conftest import NOW


@settings(max_examples=15, deadline=None)
@given(
    batches=st.lists(st.integers(1, 600), min_size=1, max_size=5),
    picks=st.lists(st.integers(0, 10**6), min_size=4, max_size=4),
)
def test_stored_tree_and_proofs(batches: list[int], picks: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'rdh.db'}")
        upgrade(engine)
        store = LogStore(make_sessions(engine), key("node-a"))
        heads = [Checkpoint.from_note(store.init_log(Genesis("A", "platform"), NOW).checkpoint)]
        for n, count in enumerate(batches):
            drafts = [EntryDraft("task.publish", {"b": n, "k": k}) for k in range(count)]
            heads.append(Checkpoint.from_note(store.append(drafts, NOW).checkpoint))
        with store.reader() as reader:
            data = reader.entry_data(0, heads[-1].size)
            tree = MemoryTree(leaf_hash(d) for d in data)
            for ref in tiles_for_size(heads[-1].size):
                want = b"".join(
                    tree.hash_at(8 * ref.level, ref.index * 256 + i) for i in range(ref.width)
                )
                assert reader.read_tile(ref) == want
        for old, new in [*itertools.pairwise(heads), (heads[0], heads[-1])]:
            assert new.root == tree.root(new.size)
            verify_consistency(
                old_size=old.size,
                new_size=new.size,
                old_root=old.root,
                new_root=new.root,
                proof=store.consistency_proof(old.size, new.size),
            )
        for pick in picks:
            head = heads[pick % len(heads)]
            index = pick % head.size
            verify_inclusion(
                leaf_hash=leaf_hash(data[index]),
                index=index,
                size=head.size,
                proof=store.inclusion_proof(index, head.size),
                root=head.root,
            )
        engine.dispose()

"""The `rdh example` bundle follows every contract rule."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.fold import Fold
from ledger import bundle, tiles
from node.example import build_example


def test_example_bundle_folds_without_violations() -> None:
    sink = bundle.MemoryBundle()
    example = build_example(sink, now=datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    manifest = bundle.read_manifest(sink)
    result = Fold()
    # read the logs one after another: cross-log references wait, then resolve
    for log in reversed(manifest.logs):
        for _, count, data in bundle.entry_bundles(sink, log):
            for entry in tiles.decode_entry_bundle(data, count):
                assert result.apply_bytes(entry) == []
    assert result.violations == []
    assert result.pending == []
    state = result.state
    assert len(state.contracts) == 6
    assert all(c.status == "completed" for c in state.contracts.values())
    assert all(p.confirmed for p in state.payments.values())
    [agreement] = state.agreements.values()
    assert agreement.status == "active"
    assert len(agreement.settled) == 1
    assert example.statements == 33

"""Properties of the fold: order independence across logs, chunks equal a batch, pending."""

from __future__ import annotations

import functools
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.errors import RuleViolation
from contracts.fold import Fold, fold
from contracts.schemas import load_body
from ledger.entry import Entry
from tests.contracts.helpers import OUTSIDE, Community, ecosystem, fold_all

Logs = list[list[tuple[Entry, str]]]


@functools.cache
def logs() -> tuple[tuple[tuple[Entry, str], ...], ...]:
    return tuple(tuple(c.entries) for c in ecosystem())


@functools.cache
def reference() -> Fold:
    return fold(e for log in logs() for e in log)


def interleave(order: list[int]) -> list[tuple[Entry, str]]:
    """The logs' entries, each log in seq order, taking the next from log `order[k]`."""
    cursors = [0] * len(logs())
    out = []
    for n in order:
        if cursors[n] < len(logs()[n]):
            out.append(logs()[n][cursors[n]])
            cursors[n] += 1
    for n, log in enumerate(logs()):  # whatever the order left over
        out.extend(log[cursors[n] :])
    return out


orders = st.lists(st.integers(0, 2), max_size=80)


def test_reference_fold() -> None:
    result = reference()
    assert sorted(v.rule for v in result.violations) == [
        "share.revenue.party",
        "share.settle.twice",
        "skill.attest.evidence",
    ]
    waiting, behind = result.pending  # the second waits behind the first, in seq order
    assert waiting.missing == (OUTSIDE,)
    assert behind.missing == ()
    assert waiting.log == behind.log == Community("Northgate").id
    assert behind.seq == waiting.seq + 1


@settings(max_examples=60, deadline=None)
@given(order=orders)
def test_result_does_not_depend_on_the_interleaving_of_logs(order: list[int]) -> None:
    result = fold(interleave(order))
    assert result.state == reference().state
    assert result.violations == reference().violations
    assert result.pending == reference().pending


@settings(max_examples=40, deadline=None)
@given(order=orders, cuts=st.lists(st.integers(0, 80), max_size=6))
def test_one_at_a_time_equals_one_batch(order: list[int], cuts: list[int]) -> None:
    entries = interleave(order)
    batch = fold(entries)
    incremental = Fold()
    reported = []
    bounds = [0, *sorted(c % (len(entries) + 1) for c in cuts), len(entries)]
    for start, stop in itertools.pairwise(bounds):
        for entry, eid in entries[start:stop]:
            reported += incremental.apply(entry, eid)
        # between chunks, what is known is consistent: nothing applied is also pending
        assert not any(incremental.knows(p.entry_id) for p in incremental.pending)
    assert incremental.state == batch.state
    assert sorted(reported, key=lambda v: (v.log, v.seq)) == batch.violations


@settings(max_examples=30, deadline=None)
@given(first=st.integers(0, 2), order=orders)
def test_entries_wait_for_their_references_and_then_apply(first: int, order: list[int]) -> None:
    """Read one log alone first: its entries citing other logs wait, none fails for it."""
    alone = fold(logs()[first])
    assert all(v.rule != "refs.missing" for v in alone.violations)
    for entry, eid in interleave(order):
        if entry.log != logs()[first][0][0].log:
            alone.apply(entry, eid)
    assert alone.state == reference().state
    assert alone.violations == reference().violations
    assert alone.pending == reference().pending


def test_a_waiting_entry_holds_back_the_rest_of_its_log() -> None:
    lake, harbour, _ = ecosystem()
    result = fold_all(harbour)
    first = result.pending[0]
    assert first.missing[0] in {e for _, e in lake.entries}
    # every later entry of Harbour waits behind the first, whatever its own refs
    assert [p.seq for p in result.pending] == list(range(first.seq, len(harbour.entries)))
    assert not result.knows(harbour.entries[-1][1])
    for entry, eid in lake.entries:
        result.apply(entry, eid)
    assert result.pending == []


def test_a_copy_is_independent() -> None:
    lake, harbour, _ = ecosystem()
    original = fold_all(lake)
    trial = original.copy()
    for entry, eid in harbour.entries:
        trial.apply(entry, eid)
    assert trial.state != original.state
    assert original.state == fold_all(lake).state
    assert not original.knows(harbour.entries[0][1])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(max_size=5)
    | st.sampled_from(["", "00" * 32, "12.50", "EUR", "2026-11", "2026-11-25T15:04:05Z"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["amount", "currency", "title", "up_to", "weights", "party"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_hostile_bodies_are_violations_never_crashes(data: st.DataObject) -> None:
    """Replace one field of one entry (keeping its statements and refs): the fold reports
    violations or waits, and never raises."""
    entries = [e for log in logs() for e in log]
    index = data.draw(st.integers(0, len(entries) - 1))
    entry, _ = entries[index]
    body = dict(entry.body)
    name = data.draw(st.sampled_from([*sorted(body), "extra"]))
    body[name] = data.draw(json_values)
    changed = Entry(
        log=entry.log,
        seq=entry.seq,
        time=entry.time,
        type=entry.type,
        refs=entry.refs,
        body=body,
        signed=entry.signed,
    )
    result = fold([(changed, changed.id) if k == index else e for k, e in enumerate(entries)])
    if not result.knows(changed.id):
        assert changed.id in {p.entry_id for p in result.pending}
        return
    try:
        load_body(changed.type, body)
    except RuleViolation:
        mine = [v.rule for v in result.violations if v.entry_id == changed.id]
        assert mine == [f"schema.{changed.type}"]

"""Federation with real `rdh serve` processes on 127.0.0.1 (issue 5).

- five nodes in a chain converge: every node serves every log, each log's checkpoint is
  cosigned by its witness peers, and an export passes `rdh audit` and `rdh audit --policy`;
- a `rdh sync` SIGKILLed mid-sync leaves a node that starts, and the next sync resumes;
- a malicious peer (forged signature, wrong root, truncated or garbage tiles, altered
  entries, oversized or slow answers) is detected: nothing is stored, the peer is backed off;
- a log that shows one fork to one node and another to a second is caught, and the
  evidence reaches every node, shows in `rdh status` and fails the audit of that log.

Waits poll with deadlines (generous, for a loaded 2-core machine); nothing sleeps blindly.
"""

from __future__ import annotations

import functools
import itertools
import signal
import sqlite3
import subprocess
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.node.federation.fake_peer import MODES, FakePeer
from tests.node.federation.logs import fork, memory_log
from tests.node.federation.nodes import RDH, NodeProcess, wait_for
from tests.node.stories import task_body

CONVERGE = 150.0  # seconds: four hops of 5 s sync rounds, with room for a slow machine


@pytest.fixture
def started() -> Iterator[list[NodeProcess]]:
    nodes: list[NodeProcess] = []
    yield nodes
    for node in nodes:
        node.stop()


def _entries(node: NodeProcess, count: int, title: str) -> None:
    now = datetime.now(UTC)
    node.post_entries(
        [
            {"type": "task.publish", "body": task_body(now, title=f"{title} {n}")}
            for n in range(count)
        ]
    )


def _cosigned_by(node: NodeProcess, log_id: str, witness: NodeProcess) -> bool:
    note = node.get_bytes(f"/logs/{log_id}/checkpoint")
    return f"— rdh-witness/{witness.log_id} ".encode() in note


def _witnessed(left: NodeProcess, right: NodeProcess) -> bool:
    return _cosigned_by(left, left.log_id, right) and _cosigned_by(right, right.log_id, left)


def test_five_nodes_in_a_chain_converge(tmp_path: Path, started: list[NodeProcess]) -> None:
    nodes = [NodeProcess.create(tmp_path / f"n{i}", f"Node {i}") for i in range(5)]
    for node in nodes:
        node.start()
        started.append(node)
    for i, node in enumerate(nodes):
        _entries(node, 3 + i, node.name)
    for left, right in itertools.pairwise(nodes):
        right.cli("peer", "add", left.url)
        left.cli("peer", "add", right.url)
        left.post_entries(
            [{"type": "log.follow", "body": {"log": right.log_id, "relation": "follow"}}]
        )
    want = {node.log_id: node.sizes()[node.log_id] for node in nodes}

    def converged() -> bool:
        return all(node.sizes() == want for node in nodes)

    wait_for(converged, timeout=CONVERGE, what="five nodes to hold every log at its size")
    for left, right in itertools.pairwise(nodes):  # neighbours witness each other
        wait_for(
            functools.partial(_witnessed, left, right), timeout=60, what="neighbours' cosignatures"
        )
    middle = nodes[2]
    status = middle.cli("status").stdout
    assert "mirrored   4 log(s)" in status
    assert "evidence   0" in status
    bundle = tmp_path / "ledger.zip"
    out = middle.cli("export", str(bundle)).stdout
    assert "5 log(s)" in out
    middle.cli("audit", str(bundle))
    policy = tmp_path / "policy"
    with zipfile.ZipFile(bundle) as archive:
        policy.write_bytes(archive.read("policy"))
    middle.cli("audit", "--policy", str(policy), str(bundle))
    # demanding every witness fails: the mirrored logs are not cosigned by all of them
    strict = middle.cli("export", "--quorum", "all", str(tmp_path / "all"))
    assert "does not meet the policy's quorum" in strict.stderr


def _db_count(node: NodeProcess, log_id: str) -> int:
    with sqlite3.connect(f"file:{node.dir / 'rdh.db'}?mode=ro", uri=True, timeout=30) as db:
        return int(
            db.execute("select count(*) from entries where log_id = ?", (log_id,)).fetchone()[0]
        )


def test_a_sync_killed_midway_resumes(tmp_path: Path, started: list[NodeProcess]) -> None:
    source = NodeProcess.create(tmp_path / "source", "Source")
    source.start()
    started.append(source)
    for _ in range(6):
        _entries(source, 500, "bulk")
    total = source.sizes()[source.log_id]
    mirror = NodeProcess.create(tmp_path / "mirror", "Mirror")
    mirror.cli("peer", "add", source.url)
    process = subprocess.Popen(
        [*RDH, "sync", "-d", str(mirror.dir), "--batch-entries", "256"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=mirror.env,
    )
    try:
        wait_for(
            lambda: _db_count(mirror, source.log_id) > 0,
            timeout=60,
            what="a first batch",
            step=0.02,
        )
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    stored = _db_count(mirror, source.log_id)
    assert 0 < stored < total, stored
    assert "matches the last signed checkpoint" in mirror.cli("status", "--full").stdout
    mirror.start()
    started.append(mirror)
    wait_for(
        lambda: mirror.sizes().get(source.log_id) == total, timeout=90, what="the resumed sync"
    )
    mirror.stop()
    assert (
        "matches the last signed checkpoint (full check)" in mirror.cli("status", "--full").stdout
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_malicious_peer_is_detected(tmp_path: Path, mode: str) -> None:
    fake = FakePeer(memory_log(300, f"malicious-{mode}"))
    node = NodeProcess.create(tmp_path / "victim", "Victim")
    try:
        node.cli("peer", "add", fake.url)
        fake.mode = mode
        started = time.monotonic()
        result = node.cli("sync", "--timeout", "3", check=False)
        assert result.returncode == 1, result.stdout + result.stderr
        assert time.monotonic() - started < 60
        assert _db_count(node, fake.log.log_id) == 0
        with sqlite3.connect(f"file:{node.dir / 'rdh.db'}?mode=ro", uri=True) as db:
            failures, error = db.execute("select failures, last_error from peers").fetchone()
        assert failures == 1, error
        fake.mode = "honest"  # the same peer, honest again, is pulled in full
        node.cli("sync")
        assert _db_count(node, fake.log.log_id) == 300
    finally:
        fake.close()


def test_fork_evidence_reaches_every_node(tmp_path: Path, started: list[NodeProcess]) -> None:
    branch_a, branch_b = fork(5)
    fake_a, fake_b = FakePeer(branch_a), FakePeer(branch_b)
    try:
        x, y, w = (NodeProcess.create(tmp_path / n, n) for n in ("x", "y", "w"))
        for node in (x, y, w):
            node.start()
            started.append(node)
        x.cli("peer", "add", fake_a.url)  # x is shown branch A
        y.cli("peer", "add", fake_b.url)  # y is shown branch B
        forker = branch_a.log_id
        wait_for(lambda: forker in x.sizes() and forker in y.sizes(), timeout=60, what="both forks")
        x.cli("peer", "add", y.url)
        y.cli("peer", "add", x.url)
        w.cli("peer", "add", x.url)  # w only ever talks to x (branch A)

        def everywhere() -> bool:
            return all(
                any(item["log"] == forker for item in node.get("/evidence")) for node in (x, y, w)
            )

        wait_for(everywhere, timeout=CONVERGE, what="the evidence on every node")
        w.stop()
        started.remove(w)
        assert f"EQUIVOCATION by log {forker}" in w.cli("status").stdout
        bundle = tmp_path / "w.zip"
        w.cli("export", str(bundle))
        audit = w.cli("audit", str(bundle), check=False)
        assert audit.returncode == 1
        assert "equivocation" in audit.stdout + audit.stderr
    finally:
        fake_a.close()
        fake_b.close()

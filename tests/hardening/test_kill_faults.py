"""Processes killed part-way: SIGKILL during `rdh export` and during `rdh sync` (after each
kill the databases pass the full start-up check and the work completes when rerun), and a
peer that accepts connections but never answers (a bounded wait, one line, no traceback).
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from node.db.models import LogRow
from node.local_node import open_node
from node.own_log import EntryDraft
from node.settings import load_settings
from tests.hardening.live import ROOT, LiveNode, rdh
from tests.hardening.node_app import NOW
from tests.node.stories import task_body

KILLS = 6


def _fill(node_dir: Path, env: dict[str, str], count: int) -> int:
    node = open_node(load_settings(node_dir, env))
    try:
        for start in range(0, count, 500):
            drafts = [
                EntryDraft("task.publish", task_body(NOW, title=f"k{start}-{k}"))
                for k in range(min(500, count - start))
            ]
            node.store.append(drafts, NOW)
        return node.store.size
    finally:
        node.close()


def _kill_after(args: list[str], env: dict[str, str], delay: float) -> int | None:
    process = subprocess.Popen(
        [sys.executable, "-c", "from node.cli import main; main()", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return process.wait(timeout=delay)  # finished before the kill
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
        return None


def _full_check(node_dir: Path, env: dict[str, str]) -> None:
    open_node(load_settings(node_dir, env), full_check=True).close()


def test_sigkill_during_export(tmp_path: Path) -> None:
    node = LiveNode.init(tmp_path / "a")
    size = _fill(node.node_dir, node.env, 3000)
    rng = random.Random(8)
    out = tmp_path / "bundle"
    for _ in range(KILLS):
        code = _kill_after(["export", "-d", str(node.node_dir), "--force", str(out)], node.env,
                           rng.uniform(0.3, 1.5))  # fmt: skip
        _full_check(node.node_dir, node.env)
        if code is None and out.exists():  # what is left audits whole, or fails: never a part
            audit = rdh("audit", str(out))
            assert audit.returncode in (0, 1, 2), audit.stderr
            assert "Traceback" not in audit.stderr
            if audit.returncode == 0:
                assert f"({size} entries" in audit.stdout, audit.stdout
    assert rdh("export", "-d", str(node.node_dir), "--force", str(out)).returncode == 0
    result = rdh("audit", str(out))
    assert result.returncode == 0, result.stdout
    assert f"({size} entries" in result.stdout, result.stdout


def test_sigkill_during_sync(tmp_path: Path) -> None:
    source = LiveNode.init(tmp_path / "a")
    size = _fill(source.node_dir, source.env, 3000)
    source.serve()
    mirror = LiveNode.init(tmp_path / "b", name="Mirror")
    try:
        added = rdh("peer", "add", "-d", str(mirror.node_dir), "--no-witness", source.url)
        assert added.returncode == 0, added.stderr
        rng = random.Random(9)
        for _ in range(KILLS):
            _kill_after(["sync", "-d", str(mirror.node_dir)], mirror.env, rng.uniform(0.3, 1.5))
            _full_check(mirror.node_dir, mirror.env)
        result = rdh("sync", "-d", str(mirror.node_dir))
        assert result.returncode == 0, result.stderr
        node = open_node(load_settings(mirror.node_dir, mirror.env), full_check=True)
        try:
            with node.sessions.begin() as session:
                mirrored = session.get(LogRow, source.log_id)
                assert mirrored is not None
                assert mirrored.size == size
        finally:
            node.close()
    finally:
        source.stop()


def test_a_silent_peer_times_out(tmp_path: Path) -> None:
    """A peer that accepts the connection and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    node = LiveNode.init(tmp_path / "n")
    try:
        started = time.monotonic()
        url = f"http://127.0.0.1:{server.getsockname()[1]}/"
        result = rdh("peer", "add", "-d", str(node.node_dir), url, timeout=120)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert elapsed < 90, elapsed

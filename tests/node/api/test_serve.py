"""`rdh serve` as a real process on 127.0.0.1, `wsgi_app()`, settings and the scheduler.

The scheduler is started only by `rdh serve` (STYLE): its wiring is checked through the
served process's log; the unit tests here build a `NodeScheduler` without starting it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import selectors
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from ledger.checkpoint import open_checkpoint
from ledger.note import NoteVerifier
from ledger.tiles import decode_entry_bundle
from node.cli import rdh
from node.db import EntryRow
from node.errors import ConfigError, UsageError
from node.local_node import init_node
from node.own_log import EntryDraft, Genesis
from node.scheduler import Job, NodeScheduler, node_jobs, register_job, registered_jobs
from node.serve import wsgi_app
from node.service import NodeService
from node.settings import load_settings
from tests.node.conftest import NOW

ROOT = Path(__file__).parents[3]


def _init(node_dir: Path) -> str:
    """`rdh init` a node; return its admin token."""
    result = CliRunner().invoke(rdh, ["init", "-d", str(node_dir), "--name", "Lakeside"], env={})
    assert result.exit_code == 0, result.output
    [token] = re.findall(r"^RDH_ADMIN_TOKEN=(\S+)$", result.output, re.MULTILINE)
    return token


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    """`rdh serve --port 0` on a new node, and the URL it printed."""
    node_dir = tmp_path / "node"
    _init(node_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RDH_")}
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from node.cli import main; main()",
            "serve",
            "-d",
            str(node_dir),
            "--port",
            "0",
            "--threads",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=30), "rdh serve printed no URL within 30 s"
        line = process.stdout.readline()
        match = re.search(r" at (http://127\.0\.0\.1:\d+/) ", line)
        assert match, line
        yield process, match.group(1), node_dir
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_rdh_serve_serves_and_stops_cleanly(
    served: tuple[subprocess.Popen[str], str, Path], stop: signal.Signals
) -> None:
    process, url, node_dir = served
    status, kind, body = _get(url + "healthz")
    health = json.loads(body)
    assert (status, kind, health["ok"], health["size"]) == (200, "application/json", True, 1)
    log_id = health["log"]

    status, kind, note = _get(f"{url}logs/{log_id}/checkpoint")
    assert (status, kind) == (200, "text/plain; charset=utf-8")
    status_output = CliRunner().invoke(rdh, ["status", "-d", str(node_dir)], env={}).output
    [vkey] = re.findall(r"^vkey +(\S+)$", status_output, re.MULTILINE)
    assert open_checkpoint(note, verifier=NoteVerifier.from_vkey(vkey)).checkpoint.size == 1
    _, _, spec = _get(url + "api/v1/openapi.json")
    assert any(path.startswith("/api/v1/tasks") for path in json.loads(spec)["paths"])
    _, _, bundle = _get(f"{url}logs/{log_id}/tile/entries/000.p/1")
    assert b'"type":"log.genesis"' in decode_entry_bundle(bundle, 1)[0]

    process.send_signal(stop)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert out.endswith("stopped\n")
    assert "Traceback" not in err
    assert f"log {log_id}: signed size 1" in err  # the scheduler ran the checkpoint job


def test_serve_refuses_a_restored_backup(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    node, _ = init_node(settings, Genesis(name="A", kind="partner"), NOW)
    node.store.append([EntryDraft("task.publish", {"n": n}) for n in range(9)], NOW)
    with node.sessions.begin() as session:
        session.execute(delete(EntryRow).where(EntryRow.seq >= 5))
    node.close()
    result = CliRunner().invoke(rdh, ["serve", "-d", str(tmp_path), "--port", "0"], env={})
    assert result.exit_code == 2
    assert result.output.startswith("rdh: error: ")
    assert result.output.count("\n") == 1
    assert "serving" not in result.output


def test_wsgi_app_opens_the_node_of_rdh_node_dir(tmp_path: Path) -> None:
    _init(tmp_path)
    app = wsgi_app({"RDH_NODE_DIR": str(tmp_path)})
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 200
        assert response.json is not None
        assert response.json["size"] == 1
    finally:
        app.extensions["rdh.node"].close()
    with pytest.raises(UsageError, match="RDH_NODE_DIR"):
        wsgi_app({})
    with pytest.raises(UsageError, match="no node here"):
        wsgi_app({"RDH_NODE_DIR": str(tmp_path / "empty")})


def test_threads_setting(tmp_path: Path) -> None:
    assert load_settings(tmp_path, {}).threads == 8
    assert load_settings(tmp_path, {"RDH_THREADS": "3"}).threads == 3
    (tmp_path / "rdh.toml").write_text("[server]\nthreads = 0\n")
    with pytest.raises(ConfigError, match=r"server\.threads must be 1 to 256"):
        load_settings(tmp_path, {})


def test_scheduler_jobs_never_overlap_and_coalesce(tmp_path: Path) -> None:
    jobs = [Job("a", lambda: None, 5), Job("b", lambda: None, 0.5)]
    scheduler = NodeScheduler(jobs)
    assert scheduler.job_names == ["a", "b"]
    for job in scheduler._scheduler.get_jobs():
        assert (job.max_instances, job.coalesce) == (1, True)
    assert not scheduler.running
    scheduler.shutdown()  # never started: nothing to do


def test_a_failing_job_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def fail() -> None:
        raise RuntimeError("peer unreachable")

    [job] = NodeScheduler([Job("sync", fail, 30)])._scheduler.get_jobs()
    job.func()  # what the scheduler's thread calls
    assert "job sync failed; it runs again in 30 s" in caplog.text
    assert "peer unreachable" in caplog.text


def test_job_registry(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert registered_jobs() == {"checkpoint": 60, "expire": 60, "sync": 5, "witness": 5}
    with pytest.raises(UsageError, match="already registered"):
        register_job("checkpoint", interval_seconds=1)(lambda node: None)
    with pytest.raises(UsageError, match="positive interval"):
        register_job("never", interval_seconds=0)
    node, _ = init_node(load_settings(tmp_path, {}), Genesis(name="A", kind="partner"), NOW)
    try:
        jobs = {job.name: job for job in node_jobs(NodeService(node, clock=lambda: NOW))}
        with caplog.at_level(logging.INFO, logger="rdh.scheduler"):
            jobs["checkpoint"].func()
            jobs["expire"].func()  # no task is due: nothing recorded, nothing logged
        assert node.store.size == 1
    finally:
        node.close()
    assert f"log {node.store.log_id}: signed size 1, root " in caplog.text
    assert "task.expire" not in caplog.text

"""`rdh init`, `rdh status`, `rdh export` and node.local_node, on a real SQLite file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete

from ledger.audit import audit
from node.bundle_files import open_bundle
from node.cli import rdh
from node.db import EntryRow
from node.errors import StoreMismatch, UsageError
from node.local_node import init_node, open_node
from node.own_log import EntryDraft, Genesis
from node.settings import load_settings
from tests.node.conftest import NOW

ENV = {"RDH_KEY_PASSPHRASE": "correct horse"}


def _rdh(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(rdh, list(args), env=env if env is not None else ENV)


def test_init_status_export(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    result = _rdh("init", "-d", str(node_dir), "--name", "Lakeside", "--kind", "platform")
    assert result.exit_code == 0, result.output
    assert "created log" in result.output
    key_file = node_dir / "node.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"ENCRYPTED" in key_file.read_bytes()

    status = _rdh("status", "-d", str(node_dir), "--full")
    assert status.exit_code == 0, status.output
    assert "size       1" in status.output
    assert "matches the last signed checkpoint (full check)" in status.output

    out = tmp_path / "bundle.zip"
    exported = _rdh("export", "-d", str(node_dir), str(out))
    assert exported.exit_code == 0, exported.output
    with open_bundle(out) as source:
        assert audit(source).ok


def test_init_twice_and_wrong_passphrase_are_one_line_errors(tmp_path: Path) -> None:
    args = ("-d", str(tmp_path), "--name", "A")
    assert _rdh("init", *args).exit_code == 0
    again = _rdh("init", *args)
    assert again.exit_code == 2
    assert "already set up" in again.output
    wrong = _rdh("status", "-d", str(tmp_path), env={"RDH_KEY_PASSPHRASE": "wrong"})
    assert wrong.exit_code == 2
    assert "passphrase is wrong" in wrong.output
    assert "Traceback" not in wrong.output


def test_status_refuses_a_restored_backup(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    node, _ = init_node(settings, Genesis(name="A", kind="partner"), NOW)
    node.store.append([EntryDraft("task.publish", {"n": n}) for n in range(9)], NOW)
    with node.sessions.begin() as session:
        session.execute(delete(EntryRow).where(EntryRow.seq >= 5))
    node.close()
    result = _rdh("status", "-d", str(tmp_path), env={})
    assert result.exit_code == 2
    assert "holds 5 entries" in result.output
    assert "restored backup" in result.output
    with pytest.raises(StoreMismatch):
        open_node(settings)


def test_open_node_needs_the_matching_database(tmp_path: Path) -> None:
    first = load_settings(tmp_path / "a", {})
    node, _ = init_node(first, Genesis(name="A", kind="partner"), NOW)
    node.close()
    url = {"RDH_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"}
    with pytest.raises(UsageError, match="holds no log for the key"):
        open_node(load_settings(tmp_path / "a", url))


def test_init_refuses_a_database_with_a_log_and_keeps_no_key(tmp_path: Path) -> None:
    shared = {"RDH_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}"}
    node, _ = init_node(
        load_settings(tmp_path / "a", shared), Genesis(name="A", kind="platform"), NOW
    )
    node.close()
    second = load_settings(tmp_path / "b", shared)
    with pytest.raises(UsageError, match="already holds this node's log"):
        init_node(second, Genesis(name="B", kind="platform"), NOW)
    assert not second.key_file.exists()


def test_init_and_open_on_each_database(tmp_path: Path, db_url: str) -> None:
    settings = load_settings(tmp_path, {"RDH_DATABASE_URL": db_url})
    node, result = init_node(settings, Genesis(name="A", kind="platform"), NOW)
    node.close()
    node = open_node(settings, full_check=True)
    try:
        assert node.store.checkpoint() == result.checkpoint
        assert node.engine.dialect.name == db_url.split(":")[0].split("+")[0]
    finally:
        node.close()


def test_status_without_a_node_says_so_in_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from node.cli import rdh

    result = CliRunner().invoke(rdh, ["status", "-d", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert result.stderr.startswith("rdh: error: no node here: ")
    assert "rdh init" in result.stderr
    assert result.stderr.count("\n") == 1


def test_init_can_encrypt_the_key_with_a_prompted_passphrase(tmp_path: Path) -> None:
    runner = CliRunner()
    node_dir = tmp_path / "n"
    typed = "correct horse battery staple\ncorrect horse battery staple\n"
    result = runner.invoke(
        rdh, ["init", "-d", str(node_dir), "--name", "S", "--passphrase"], input=typed
    )
    assert result.exit_code == 0, result.output
    assert b"ENCRYPTED" in (node_dir / "node.key").read_bytes()
    without = runner.invoke(rdh, ["status", "-d", str(node_dir)], env={"RDH_KEY_PASSPHRASE": ""})
    assert without.exit_code == 2
    with_it = runner.invoke(
        rdh,
        ["status", "-d", str(node_dir)],
        env={"RDH_KEY_PASSPHRASE": "correct horse battery staple"},
    )
    assert with_it.exit_code == 0, with_it.output

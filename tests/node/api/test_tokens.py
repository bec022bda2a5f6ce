"""Admin tokens (node.tokens) on SQLite and PostgreSQL, and `rdh init` / `rdh token ...`."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from node.cli import rdh
from node.db import ApiTokenRow
from node.errors import NotFoundError, UsageError
from node.local_node import open_node
from node.settings import load_settings
from node.tokens import TokenChecker, check_token, create_token, list_tokens, revoke_token
from tests.node.conftest import NOW


def test_tokens_are_stored_only_as_hashes(sessions: sessionmaker[Session]) -> None:
    token = create_token(sessions, "ci", NOW)
    assert re.fullmatch(r"rdh_[A-Za-z0-9_-]{43}", token)
    with sessions.begin() as session:
        [row] = session.execute(select(ApiTokenRow)).scalars()
        stored = {row.token_hash, row.label, row.created}
    assert stored == {hashlib.sha256(token.encode()).hexdigest(), "ci", "2026-11-25T12:00:00Z"}
    assert token not in str(stored)
    assert check_token(sessions, token)


def test_two_tokens_differ_and_revoking_one_keeps_the_other(
    sessions: sessionmaker[Session],
) -> None:
    first, second = create_token(sessions, "a", NOW), create_token(sessions, "b", NOW)
    assert first != second
    infos = list_tokens(sessions)
    assert [i.label for i in infos] == ["a", "b"]
    assert revoke_token(sessions, infos[0].id).label == "a"
    assert not check_token(sessions, first)
    assert check_token(sessions, second)
    with pytest.raises(NotFoundError, match="no admin token with id"):
        revoke_token(sessions, infos[0].id)


WRONG_TOKENS = {
    "empty": "",
    "prefix only": "rdh_",
    "no prefix": "x" * 47,
    "one character off": None,
    "very long": "rdh_" + "a" * 10_000,
    "the hash itself": "HASH",
}


@pytest.mark.parametrize("wrong", WRONG_TOKENS.values(), ids=WRONG_TOKENS.keys())
def test_wrong_tokens_are_refused(sessions: sessionmaker[Session], wrong: str | None) -> None:
    token = create_token(sessions, "ci", NOW)
    if wrong is None:
        wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif wrong == "HASH":
        wrong = hashlib.sha256(token.encode()).hexdigest()
    assert not check_token(sessions, wrong)


@pytest.mark.parametrize("label", ["", "x" * 101, "tab\there"])
def test_bad_labels_are_refused(sessions: sessionmaker[Session], label: str) -> None:
    with pytest.raises(UsageError, match="label"):
        create_token(sessions, label, NOW)


def _rdh(*args: str) -> Result:
    return CliRunner().invoke(rdh, list(args), env={})


def test_init_prints_one_admin_token_and_token_commands(tmp_path: Path) -> None:
    created = _rdh("init", "-d", str(tmp_path), "--name", "Lakeside")
    assert created.exit_code == 0, created.output
    assert "shown once" in created.output
    [token] = re.findall(r"^RDH_ADMIN_TOKEN=(rdh_\S+)$", created.output, re.MULTILINE)
    assert created.output.rstrip().endswith(token)

    made = _rdh("token", "create", "-d", str(tmp_path), "--label", "deploy")
    assert made.exit_code == 0, made.output
    second = made.stdout.strip()
    assert second.startswith("rdh_")
    assert "shown once" in made.stderr

    listed = _rdh("token", "list", "-d", str(tmp_path))
    assert listed.exit_code == 0
    assert [line.split("\t")[2] for line in listed.stdout.splitlines()] == [
        "admin (rdh init)",
        "deploy",
    ]
    assert token not in listed.output
    assert second not in listed.output

    revoked = _rdh("token", "revoke", "-d", str(tmp_path), "1")
    assert revoked.exit_code == 0
    assert "revoked token 1 (admin (rdh init))" in revoked.output
    again = _rdh("token", "revoke", "-d", str(tmp_path), "1")
    assert again.exit_code == 2
    assert again.output.startswith("rdh: error: there is no admin token with id 1")

    node = open_node(load_settings(tmp_path, {}))
    try:
        assert not check_token(node.sessions, token)
        assert check_token(node.sessions, second)
    finally:
        node.close()


def test_token_commands_need_a_node(tmp_path: Path) -> None:
    result = _rdh("token", "list", "-d", str(tmp_path))
    assert result.exit_code == 2
    assert "rdh init" in result.output


def test_the_checker_remembers_valid_tokens_for_its_ttl_only(
    sessions: sessionmaker[Session],
) -> None:
    now = [0.0]
    checker = TokenChecker(sessions, ttl=5.0, clock=lambda: now[0])
    token = create_token(sessions, "ttl", NOW)
    assert checker(token)
    assert not checker("rdh_" + "x" * 43)
    [info] = list_tokens(sessions)
    revoke_token(sessions, info.id)
    assert checker(token)  # remembered
    now[0] = 5.1
    assert not checker(token)  # asked the database again

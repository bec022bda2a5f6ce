"""node.settings: defaults, rdh.toml, environment overrides, and clear refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from node.errors import ConfigError
from node.settings import ENV_VARS, load_settings

EXAMPLE = Path(__file__).parents[2] / "config" / "rdh.toml.example"


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {})
    assert settings.database_url == f"sqlite:///{tmp_path.absolute() / 'rdh.db'}"
    assert settings.key_file == tmp_path / "node.key"
    assert settings.key_passphrase is None
    assert (settings.host, settings.port, settings.public_url) == ("127.0.0.1", 8470, None)


def test_the_documented_example_loads_as_the_defaults(tmp_path: Path) -> None:
    defaults = load_settings(tmp_path, {})
    shutil.copy(EXAMPLE, tmp_path / "rdh.toml")
    assert load_settings(tmp_path, {}) == defaults


def test_file_then_environment(tmp_path: Path) -> None:
    (tmp_path / "rdh.toml").write_text(
        '[database]\nurl = "postgresql://a@db/rdh"\n[server]\nport = 9000\n'
        '[key]\nfile = "keys/me.key"\n'
    )
    settings = load_settings(tmp_path, {})
    assert settings.database_url == "postgresql://a@db/rdh"
    assert settings.port == 9000
    assert settings.key_file == tmp_path / "keys" / "me.key"
    env = {"RDH_DATABASE_URL": "sqlite:////x.db", "RDH_PORT": "9100", "RDH_KEY_PASSPHRASE": "pw"}
    settings = load_settings(tmp_path, env)
    assert (settings.database_url, settings.port) == ("sqlite:////x.db", 9100)
    assert settings.key_passphrase == b"pw"
    assert "pw" not in repr(settings)


def test_passphrase_file(tmp_path: Path) -> None:
    (tmp_path / "pass.txt").write_text("s3cret\n")
    (tmp_path / "rdh.toml").write_text('[key]\npassphrase_file = "pass.txt"\n')
    assert load_settings(tmp_path, {}).key_passphrase == b"s3cret"


def test_every_override_is_a_known_key() -> None:
    assert set(ENV_VARS) >= {"RDH_DATABASE_URL", "RDH_KEY_PASSPHRASE"}
    for name in ENV_VARS:
        assert name in EXAMPLE.read_text(), f"{name} is not documented in the example"


@pytest.mark.parametrize(
    ("toml", "env", "match"),
    [
        ("[databse]\nurl = 'x'\n", {}, r"unknown section \[databse\]"),
        ("[database]\nulr = 'x'\n", {}, "unknown key database.ulr"),
        ("[server]\nport = '80'\n", {}, "server.port must be an integer"),
        ("[server]\nport = 0\n", {}, "not a TCP port"),
        ("[key]\npassphrase = 'in the file'\n", {}, "unknown key key.passphrase"),
        ("not toml [", {}, "not valid TOML"),
        ("", {"RDH_PORT": "eighty"}, "RDH_PORT must be an integer"),
        ("", {"RDH_DATABASE_URL": ""}, "database.url must not be empty"),
        ("[key]\npassphrase_file = 'missing.txt'\n", {}, "cannot read key.passphrase_file"),
        ("[server]\nwriter = 'threads'\n", {}, "server.writer must be process or thread"),
    ],
    ids=[
        "unknown-section",
        "unknown-key",
        "wrong-type",
        "bad-port",
        "passphrase-in-file",
        "bad-toml",
        "bad-env-int",
        "empty-url",
        "missing-passphrase-file",
        "bad-writer",
    ],
)
def test_invalid_configuration(tmp_path: Path, toml: str, env: dict[str, str], match: str) -> None:
    (tmp_path / "rdh.toml").write_text(toml)
    with pytest.raises(ConfigError, match=match):
        load_settings(tmp_path, env)


def test_rate_limits_come_from_the_file_or_the_environment(tmp_path: Path) -> None:
    (tmp_path / "rdh.toml").write_text("[statements]\nrate_per_minute = 12\n")
    settings = load_settings(tmp_path, {"RDH_SIGNIN_RATE": "3"})
    assert (settings.statement_rate, settings.signin_rate) == (12, 3)
    assert load_settings(tmp_path, {"RDH_STATEMENT_RATE": "99"}).statement_rate == 99
    with pytest.raises(ConfigError, match="rate_per_minute"):
        load_settings(tmp_path, {"RDH_STATEMENT_RATE": "0"})


def test_the_writer_runs_in_its_own_process_unless_told_otherwise(tmp_path: Path) -> None:
    assert load_settings(tmp_path, {}).writer == "process"
    (tmp_path / "rdh.toml").write_text('[server]\nwriter = "thread"\n')
    assert load_settings(tmp_path, {}).writer == "thread"
    assert load_settings(tmp_path, {"RDH_WRITER": "process"}).writer == "process"

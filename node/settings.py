"""The node's configuration: one frozen `Settings`, built in one place.

`load_settings(node_dir, env)` reads `<node_dir>/rdh.toml` (optional; see
`config/rdh.toml.example` for every key) and then applies the `RDH_*` environment overrides
from `env`. Nothing else in the project reads `os.environ`: the CLI passes it in. Unknown
keys and wrong types are refused with a `ConfigError` naming the key, so a typo never
silently falls back to a default. Relative paths are relative to the node directory.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node.errors import ConfigError

__all__ = ["CONFIG_FILE", "ENV_VARS", "Settings", "load_settings"]

CONFIG_FILE = "rdh.toml"
#: Most request threads `rdh serve` runs (server.threads).
MAX_THREADS = 256

#: Where `rdh serve` may run the write path (server.writer).
WRITERS = ("process", "thread")
#: Environment variable -> (section, key) it overrides.
ENV_VARS: dict[str, tuple[str, str]] = {
    "RDH_DATABASE_URL": ("database", "url"),
    "RDH_KEY_FILE": ("key", "file"),
    "RDH_KEY_PASSPHRASE": ("key", "passphrase"),
    "RDH_HOST": ("server", "host"),
    "RDH_PORT": ("server", "port"),
    "RDH_PUBLIC_URL": ("server", "public_url"),
    "RDH_THREADS": ("server", "threads"),
    "RDH_WRITER": ("server", "writer"),
    "RDH_MAX_CLOCK_SKEW": ("statements", "max_clock_skew"),
    "RDH_STATEMENT_RATE": ("statements", "rate_per_minute"),
    "RDH_SIGNIN_RATE": ("server", "signin_per_minute"),
}

_SCHEMA: dict[str, dict[str, type]] = {
    "database": {"url": str},
    "key": {"file": str, "passphrase_file": str},
    "server": {
        "host": str,
        "port": int,
        "public_url": str,
        "threads": int,
        "writer": str,
        "signin_per_minute": int,
    },
    "statements": {"max_clock_skew": int, "rate_per_minute": int},
}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a node needs to know before it opens its database and key."""

    node_dir: Path
    database_url: str
    key_file: Path
    key_passphrase: bytes | None = field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int = 8470
    public_url: str | None = None
    threads: int = 8
    #: where `rdh serve` runs the write path: "process" (its own, ADR 0005) or "thread"
    writer: str = "process"
    max_clock_skew: int = 300
    #: statements one client address may submit a minute (the web UI's rate limit)
    statement_rate: int = 30
    #: sign-in attempts (worker challenge, lead login) one client address may make a minute
    signin_rate: int = 10

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigError(f"server.port {self.port} is not a TCP port (1 to 65535)")
        if not 1 <= self.threads <= MAX_THREADS:
            raise ConfigError(f"server.threads must be 1 to {MAX_THREADS}, not {self.threads}")
        if self.writer not in WRITERS:
            raise ConfigError(f"server.writer must be process or thread, not {self.writer!r}")
        if self.max_clock_skew < 0:
            raise ConfigError("statements.max_clock_skew must not be negative")
        if self.statement_rate < 1 or self.signin_rate < 1:
            raise ConfigError(
                "statements.rate_per_minute and server.signin_per_minute must be >= 1"
            )
        if not self.database_url:
            raise ConfigError("database.url must not be empty")


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from e
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from e


def _check(raw: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    checked: dict[str, dict[str, Any]] = {}
    for section, values in raw.items():
        keys = _SCHEMA.get(section)
        if keys is None or not isinstance(values, dict):
            raise ConfigError(f"{path}: unknown section [{section}]")
        for key, value in values.items():
            want = keys.get(key)
            if want is None:
                raise ConfigError(f"{path}: unknown key {section}.{key}")
            if type(value) is not want:
                kind = "an integer" if want is int else "a string"
                raise ConfigError(f"{path}: {section}.{key} must be {kind}")
        checked[section] = dict(values)
    return checked


def _apply_env(config: dict[str, dict[str, Any]], env: Mapping[str, str]) -> None:
    for name, (section, key) in ENV_VARS.items():
        value = env.get(name)
        if value is None:
            continue
        if _SCHEMA.get(section, {}).get(key) is int:
            try:
                config.setdefault(section, {})[key] = int(value)
            except ValueError:
                raise ConfigError(f"{name} must be an integer, not {value!r}") from None
        else:
            config.setdefault(section, {})[key] = value


def _passphrase(config: dict[str, dict[str, Any]], node_dir: Path) -> bytes | None:
    key = config.get("key", {})
    if "passphrase" in key:
        return str(key["passphrase"]).encode("utf-8") or None
    if "passphrase_file" in key:
        path = node_dir / key["passphrase_file"]
        try:
            return path.read_bytes().rstrip(b"\r\n") or None
        except OSError as e:
            raise ConfigError(f"cannot read key.passphrase_file {path}: {e.strerror}") from e
    return None


def load_settings(node_dir: Path, env: Mapping[str, str]) -> Settings:
    """The settings of the node in `node_dir`: its rdh.toml, then `RDH_*` overrides from `env`.

    Defaults: the SQLite database `<node_dir>/rdh.db` and the key file `<node_dir>/node.key`.
    """
    path = node_dir / CONFIG_FILE
    config = _check(_read_file(path), path)
    _apply_env(config, env)
    database = config.get("database", {})
    key = config.get("key", {})
    server = config.get("server", {})
    statements = config.get("statements", {})
    url = database.get("url")
    if url is None:
        url = f"sqlite:///{(node_dir / 'rdh.db').absolute()}"
    return Settings(
        node_dir=node_dir,
        database_url=url,
        key_file=node_dir / key.get("file", "node.key"),
        key_passphrase=_passphrase(config, node_dir),
        host=server.get("host", "127.0.0.1"),
        port=server.get("port", 8470),
        public_url=server.get("public_url"),
        threads=server.get("threads", 8),
        writer=server.get("writer", "process"),
        max_clock_skew=statements.get("max_clock_skew", 300),
        statement_rate=statements.get("rate_per_minute", 30),
        signin_rate=server.get("signin_per_minute", 10),
    )

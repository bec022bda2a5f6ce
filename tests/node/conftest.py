"""Database fixtures: every storage test runs on a real SQLite file and a real PostgreSQL.

PostgreSQL is the server at `RDH_TEST_POSTGRES_URL` (default: postgres@127.0.0.1:5432/test);
each test gets a fresh schema, dropped afterwards. If the server is unreachable the
PostgreSQL cases are skipped with the reason, except under CI (`CI` set), where they fail:
CI refuses skips of anything it can run.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from node.db import make_engine, make_sessions, upgrade
from node.local_node import LocalNode, init_node
from node.settings import Settings
from node.store import Genesis, LogStore
from tests.builders import key

POSTGRES_URL = os.environ.get(
    "RDH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@functools.cache
def _postgres_problem() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as e:  # any failure to connect means "unreachable"
        return f"PostgreSQL at {POSTGRES_URL} is unreachable: {type(e).__name__}: {e}"
    return None


def require_postgres() -> None:
    """Skip (fail under CI) when the PostgreSQL test server cannot be reached."""
    problem = _postgres_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{problem} (CI must run the PostgreSQL tests)")
    pytest.skip(problem)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL schema (its search_path), dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: an SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rdh.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a migrated, empty database."""
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessions(engine)


@pytest.fixture
def store(sessions: sessionmaker[Session]) -> LogStore:
    """The log of the node 'node-a', initialised (genesis at seq 0, checkpoint 1)."""
    log = LogStore(sessions, key("node-a"))
    log.init_log(Genesis(name="Node A", kind="micro-enterprise"), NOW)
    return log


class Clock:
    """A settable clock for the services (nothing in the node reads the real one in tests)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def node_settings(db_url: str, tmp_path: Path) -> Settings:
    """The settings of a node in a temporary directory on the `db_url` database."""
    return Settings(
        node_dir=tmp_path / "node", database_url=db_url, key_file=tmp_path / "node" / "node.key"
    )


@pytest.fixture
def local_node(node_settings: Settings) -> Iterator[LocalNode]:
    """A node made by `init_node` (key 'node-a', genesis at seq 0), closed afterwards."""
    node, _ = init_node(
        node_settings, Genesis(name="Node A", kind="micro-enterprise"), NOW, key=key("node-a")
    )
    yield node
    node.close()

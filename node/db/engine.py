"""Database engines and sessions: SQLite (the default) and PostgreSQL (psycopg 3).

SQLite connections use WAL, `synchronous=FULL` (a committed transaction survives power
loss: acknowledged means durable), `foreign_keys=ON` and a busy timeout. The driver's own
transaction handling is switched off so that SQLAlchemy's `begin` decides: a session whose
connection has the execution option `WRITE_LOCK` starts with `BEGIN IMMEDIATE` (it takes
the database's write lock at once, so two writers never interleave); every other one with
a plain `BEGIN`. On PostgreSQL the write path locks its log row instead (`SELECT ... FOR
UPDATE`), so the option is ignored there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["BUSY_TIMEOUT_SECONDS", "WRITE_LOCK", "is_sqlite", "make_engine", "make_sessions"]

#: Execution option asking SQLite for `BEGIN IMMEDIATE`.
WRITE_LOCK = "rdh_write_lock"
#: How long an SQLite connection waits for another writer before giving up.
BUSY_TIMEOUT_SECONDS = 60.0


def is_sqlite(engine: Engine) -> bool:
    """True if `engine` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event decides
        cursor = dbapi_connection.cursor()
        try:
            if make_url(url).database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITE_LOCK, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` (`sqlite:///path` or `postgresql+psycopg://...`), set up for rdh.

    A bare `postgresql://` URL is given the psycopg 3 driver.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """The one session factory of an app or process (objects outlive their commit)."""
    return sessionmaker(engine, expire_on_commit=False)

"""The node's own log, opened from its settings: key file + database + start-up check.

`init_node` creates a node: a fresh key file (mode 0600, encrypted if a passphrase is set),
the migrated database and the log's genesis. `open_node` is what every command that writes
or serves runs first: load the key, migrate the database, and refuse to go on
(`StoreMismatch`) unless the stored tree matches the last signed checkpoint. Both return a
`LocalNode` that owns the engine: close it when done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from ledger.keys import SigningKey
from node.db import LogRow, make_engine, make_sessions, upgrade
from node.errors import StoreMismatch, UsageError
from node.keystore import generate_key, read_key_file, write_key_file
from node.own_log import AppendResult, Genesis
from node.settings import Settings
from node.store import LogStore
from node.store_check import damaged, verify_store

__all__ = ["LocalNode", "init_node", "open_node"]


@dataclass(frozen=True, slots=True)
class LocalNode:
    """An opened node: its settings, database engine, session factory and own log."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: LogStore

    def close(self) -> None:
        self.engine.dispose()


def _database(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    # a pooled connection for every request thread and the scheduler's jobs: no connection
    # is opened (and set up) per request under load
    engine = make_engine(settings.database_url, pool_size=settings.threads + 4)
    upgrade(engine)
    return engine, make_sessions(engine)


def init_node(
    settings: Settings, genesis: Genesis, now: datetime, *, key: SigningKey | None = None
) -> tuple[LocalNode, AppendResult]:
    """Create the node of `settings`: key file, database, and its log's genesis entry."""
    if settings.key_file.exists():
        raise UsageError(f"{settings.key_file} already exists: this node is already set up")
    settings.node_dir.mkdir(parents=True, exist_ok=True)
    settings.key_file.parent.mkdir(parents=True, exist_ok=True)
    key = key or generate_key()
    write_key_file(settings.key_file, key, passphrase=settings.key_passphrase)
    engine: Engine | None = None
    try:  # until the genesis is committed, the new key has signed nothing: remove it on failure
        engine, sessions = _database(settings)
        with sessions.begin() as session:
            local = session.execute(select(LogRow.id).where(LogRow.local)).scalar()
        if local is not None:
            raise UsageError(
                f"the database already holds this node's log {local}; "
                "give `rdh init` an empty database"
            )
        store = LogStore(sessions, key)
        result = store.init_log(genesis, now)
    except BaseException:
        settings.key_file.unlink(missing_ok=True)
        if engine is not None:
            engine.dispose()
        raise
    return LocalNode(settings, engine, sessions, store), result


def open_node(
    settings: Settings,
    *,
    full_check: bool = False,
    check_store: bool = True,
    key: SigningKey | None = None,
) -> LocalNode:
    """Open the node of `settings`; `StoreMismatch` if its database must not be used.

    `check_store=False` skips the start-up check, for `rdh reindex` only (it checks the
    entries against every signed checkpoint itself before it rebuilds anything). `key`, if
    given, is the node's key already read from its key file (the writer process gets it
    from the server that started it: `node.writer_process`).
    """
    if key is None:
        if not settings.key_file.exists():
            raise UsageError(
                f"no node here: {settings.key_file} does not exist (create one with `rdh init`, "
                "or point -d at the node directory)"
            )
        key = read_key_file(settings.key_file, passphrase=settings.key_passphrase)
    try:
        engine, sessions = _database(settings)
    except DatabaseError as e:  # e.g. a damaged SQLite file that cannot even be migrated
        raise StoreMismatch(damaged(str(e.orig))) from e
    try:
        with sessions.begin() as session:
            log = session.get(LogRow, key.party_id)
            if log is None or not log.local:
                raise UsageError(
                    f"the database {engine.url.render_as_string(hide_password=True)} holds no "
                    f"log for the key in {settings.key_file}: wrong key file or wrong database "
                    "(or run `rdh init`)"
                )
            if check_store:
                verify_store(session, full=full_check)
    except DatabaseError as e:
        engine.dispose()
        raise StoreMismatch(damaged(str(e.orig))) from e
    except ValueError as e:  # a damaged value the driver cannot convert (a bad integer)
        engine.dispose()
        raise StoreMismatch(damaged(str(e))) from e
    except BaseException:
        engine.dispose()
        raise
    return LocalNode(settings, engine, sessions, LogStore(sessions, key))

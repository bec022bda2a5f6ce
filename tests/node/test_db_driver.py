"""node.db.driver: plain SQL in the session's transaction, SQLAlchemy's errors, both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ledger.merkle import EMPTY_ROOT
from node.db import LogRow
from node.db.driver import Sql

LOG = "cd" * 32
_INSERT_LOG = "INSERT INTO logs (id, origin, vkey, local, size, root) VALUES (?, ?, ?, ?, ?, ?)"


def _log(n: int = 0) -> tuple[object, ...]:
    return (f"{n:02d}" * 32, f"example.org/{n}", "vkey", False, 0, EMPTY_ROOT)


def test_statements_run_in_the_sessions_transaction(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        sql = Sql(session)
        sql.many(_INSERT_LOG, [_log(1), _log(2)])
        assert sql.one("SELECT COUNT(*) FROM logs") == (2,)
        # the ORM sees the rows of the same transaction
        assert session.scalars(select(LogRow.id).order_by(LogRow.id)).all() == [
            "01" * 32,
            "02" * 32,
        ]
        sql.run("UPDATE logs SET size = ? WHERE id = ?", (7, "02" * 32))
        assert sql.all("SELECT id, size FROM logs ORDER BY id") == [("01" * 32, 0), ("02" * 32, 7)]
        assert sql.one("SELECT size FROM logs WHERE id = ?", ("ff" * 32,)) is None
    with sessions.begin() as session:  # committed with the session
        assert Sql(session).one("SELECT SUM(size) FROM logs") == (7,)


def test_a_rolled_back_session_keeps_nothing(sessions: sessionmaker[Session]) -> None:
    session = sessions()
    with session.begin():
        Sql(session).run(_INSERT_LOG, _log(3))
        session.rollback()
    session.close()
    with sessions.begin() as session:
        assert Sql(session).one("SELECT COUNT(*) FROM logs") == (0,)


def test_errors_are_sqlalchemys(sessions: sessionmaker[Session]) -> None:
    """A duplicate key is SQLAlchemy's IntegrityError, a bad statement another DBAPIError
    (not the driver's own exception): the API's error handlers see one kind."""
    with pytest.raises(IntegrityError, match="INSERT INTO logs"), sessions.begin() as session:
        Sql(session).many(_INSERT_LOG, [_log(4), _log(4)])
    with sessions.begin() as session:
        assert Sql(session).one("SELECT COUNT(*) FROM logs") == (0,)
    with pytest.raises(DBAPIError, match="no_such_column"), sessions.begin() as session:
        Sql(session).run("SELECT no_such_column FROM logs")

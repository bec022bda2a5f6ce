"""Plain SQL through the driver's cursor, for the few statements of the write path.

A group commit runs about ten small statements (lock the head, catch the projection up,
insert entries, nonces and tiles, store the checkpoint, move the head). Through the ORM or
even SQLAlchemy Core each costs tens of microseconds of Python before the database sees it,
which made a one-entry append cost more than the HTTP request carrying it
(benchmarks/api_bench.py). `Sql` runs them on the session's own connection, so they are
part of its transaction, with the statement text written once with `?` marks and turned into
the driver's `%s` for psycopg. Errors are raised as SQLAlchemy's (`sqlalchemy.exc.DBAPIError`
and its subclasses), exactly as if SQLAlchemy had run the statement: callers and the API's
error handlers see one kind of database error. A connection the driver reports as lost is
invalidated, so the pool does not hand it out again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

__all__ = ["Sql"]

Row = tuple[Any, ...]
Params = Sequence[Any]


class Sql:
    """The driver cursor of `session`'s connection (opening its transaction if needed)."""

    __slots__ = ("_connection", "_cursor", "_dbapi_error", "_postgres", "_texts", "session")

    def __init__(self, session: Session) -> None:
        self.session = session
        connection = session.connection()
        dialect = connection.dialect
        self._connection = connection
        self._postgres = dialect.paramstyle != "qmark"
        self._dbapi_error = dialect.loaded_dbapi.Error
        self._cursor = connection.connection.cursor()
        self._texts: dict[str, str] = {}

    @property
    def postgres(self) -> bool:
        return self._postgres

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of `sql`, or None."""
        self._run(sql, params, many=False)
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        self._run(sql, params, many=False)
        return [tuple(row) for row in self._cursor.fetchall()]

    def run(self, sql: str, params: Params = ()) -> None:
        self._run(sql, params, many=False)

    def many(self, sql: str, rows: Sequence[Params]) -> None:
        """`sql` once per row of `rows` (the driver's executemany)."""
        if rows:
            self._run(sql, rows, many=True)

    def _text(self, sql: str) -> str:
        text = self._texts.get(sql)
        if text is None:
            text = self._texts[sql] = sql.replace("?", "%s") if self._postgres else sql
        return text

    def _run(self, sql: str, params: Any, *, many: bool) -> None:
        text = self._text(sql)
        try:
            if many:
                self._cursor.executemany(text, params)
            else:
                self._cursor.execute(text, params)
        except self._dbapi_error as e:
            dialect = self._connection.dialect
            lost = dialect.is_disconnect(e, self._connection.connection, self._cursor)
            if lost:
                self._connection.invalidate(e)
            raise DBAPIError.instance(
                text,
                None,
                e,
                self._dbapi_error,
                connection_invalidated=lost,
                dialect=dialect,
                ismulti=many,
            ) from e

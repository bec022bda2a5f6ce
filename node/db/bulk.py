"""Bulk inserts on the hot paths (appends, sync): the driver's own executemany.

SQLAlchemy's per-row parameter processing costs about as much as SQLite's insert itself for
thousands of small rows, and these columns need none (text, integers, bytes).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

__all__ = ["EntryValues", "insert_entries"]

#: (log_id, seq, id, type, time, data): one row of the `entries` table.
EntryValues = tuple[str, int, str, str, str, bytes]

_COLUMNS = ("log_id", "seq", "id", "type", "time", "data")


def insert_entries(session: Session, rows: Sequence[EntryValues]) -> None:
    """Insert entry rows in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO entries ({', '.join(_COLUMNS)}) "  # noqa: S608 (constant names)
        f"VALUES ({', '.join([mark] * len(_COLUMNS))})",
        list(rows),
    )

"""node.db: engines are set up as documented, models round-trip on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ledger.merkle import EMPTY_ROOT
from node.db import (
    WRITE_LOCK,
    CheckpointRow,
    EntryRow,
    EvidenceRow,
    LogRow,
    NonceRow,
    TileRow,
    is_sqlite,
    make_engine,
    make_sessions,
    upgrade,
)
from node.db.models import ID_BAND, entry_id_is, entry_row, last_seq_stored

LOG = "ab" * 32


def _pragma(engine: Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_is_durable_wal_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rdh.db'}")
    assert _pragma(engine, "journal_mode") == "wal"
    assert _pragma(engine, "synchronous") == 2  # FULL
    assert _pragma(engine, "foreign_keys") == 1
    assert _pragma(engine, "busy_timeout") == 60000
    engine.dispose()


def test_bare_postgresql_url_gets_psycopg() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    assert engine.dialect.driver == "psycopg"
    assert not is_sqlite(engine)


def test_rows_round_trip(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.add(
            LogRow(id=LOG, origin=f"rdh/{LOG}", vkey="k", local=True, size=0, root=EMPTY_ROOT)
        )
        session.flush()
        session.add_all(
            [
                EntryRow(log_id=LOG, seq=0, id="00" * 32, type="log.genesis", time="t", data=b"{}"),
                TileRow(log_id=LOG, level=0, index=0, width=1, data=b"\x01" * 32),
                CheckpointRow(log_id=LOG, size=1, root=b"\x02" * 32, note=b"note"),
                NonceRow(log_id=LOG, nonce="n" * 22, seq=0),
                EvidenceRow(origin=f"rdh/{LOG}", note_a=b"a", note_b=b"b"),
            ]
        )
    with sessions.begin() as session:
        assert session.get(LogRow, LOG) is not None
        entry = session.get(EntryRow, (LOG, 0))
        assert entry is not None
        assert entry.data == b"{}"
        tile = session.get(TileRow, (LOG, 0, 0, 1))
        assert tile is not None
        assert tile.data == b"\x01" * 32
        assert session.execute(select(EvidenceRow.note_b)).scalar_one() == b"b"


def _log(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.add(
            LogRow(id=LOG, origin=f"rdh/{LOG}", vkey="k", local=True, size=0, root=EMPTY_ROOT)
        )


OTHER = "cd" * 32


def test_entries_are_found_by_whole_id_in_every_band_through_the_id_index(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    _log(sessions)
    with sessions.begin() as session:
        assert last_seq_stored(session) == -1
        assert last_seq_stored(session, LOG) == -1
        session.add(
            LogRow(id=OTHER, origin=f"rdh/{OTHER}", vkey="k", local=False, size=0, root=EMPTY_ROOT)
        )
    # ids sharing a 16-digit prefix, in the first, a middle and the last band, of two logs
    # (the rows need not be a log's whole prefix here: the index does not care)
    seqs = [(LOG, 0), (LOG, ID_BAND - 1), (LOG, ID_BAND), (OTHER, 3 * ID_BAND + 5), (OTHER, 7)]
    ids = ["0123456789abcdef" + c * 48 for c in "abcde"]
    with sessions.begin() as session:
        session.add_all(
            EntryRow(log_id=log, seq=seq, id=i, type="a.b", time="t", data=b"%d" % seq)
            for (log, seq), i in zip(seqs, ids, strict=True)
        )
    with sessions.begin() as session:
        last = last_seq_stored(session)
        assert last == 3 * ID_BAND + 5
        assert last_seq_stored(session, LOG) == ID_BAND
        for (log, seq), entry_id in zip(seqs, ids, strict=True):
            query = select(EntryRow.log_id, EntryRow.seq)
            assert session.execute(query.where(entry_id_is(entry_id, last))).all() == [(log, seq)]
            mine = entry_id_is(entry_id, last_seq_stored(session, log))
            assert session.execute(query.where(mine)).all() == [(log, seq)]
            row = entry_row(session, entry_id)
            assert row is not None
            assert (row.log_id, row.seq) == (log, seq)
            assert entry_row(session, entry_id, log) is not None
            assert entry_row(session, entry_id, OTHER if log == LOG else LOG) is None
        # a band above `last_seq` is not searched: the caller names how far entries go
        assert session.execute(select(EntryRow).where(entry_id_is(ids[3], ID_BAND))).first() is None
        assert session.execute(select(EntryRow).where(entry_id_is("0" * 64, last))).first() is None
    # the plan for a log of 1,000,000 entries: one probe for each of its 62 bands
    query = select(EntryRow.data).where(entry_id_is(ids[1], 1_000_000))
    compiled = query.compile(engine, compile_kwargs={"render_postcompile": True})
    with engine.connect() as connection:
        if is_sqlite(engine):
            plan = connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}",
                tuple(compiled.params[k] for k in compiled.positiontup or ()),
            ).all()
        else:  # on a table this small a scan is cheaper: ask whether the index can serve
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
    assert "ix_entries_id_band" in str(plan), plan


def test_upgrade_to_the_id_band_index_keeps_the_entries(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0003")
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        session.execute(
            text(
                "INSERT INTO logs (id, origin, vkey, local, size, root) "
                "VALUES (:log, 'o', 'k', true, 2, :root)"
            ),
            {"log": LOG, "root": EMPTY_ROOT},
        )
        for n in (0, 1):
            session.execute(
                text(
                    "INSERT INTO entries (log_id, seq, id, type, time, data) "
                    "VALUES (:log, :seq, :id, 'a.b', 't', :data)"
                ),
                {"log": LOG, "seq": n, "id": f"{n:064x}", "data": b"%d" % n},
            )
    upgrade(engine)
    with sessions.begin() as session:
        found = session.execute(select(EntryRow.data).where(entry_id_is(f"{1:064x}", 1)))
        assert found.scalar_one() == b"1"
    engine.dispose()


def test_foreign_keys_are_enforced(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(NonceRow(log_id=LOG, nonce="x" * 22, seq=0))


def test_sqlite_write_lock_begins_immediate(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rdh.db'}")
    other = make_engine(f"sqlite:///{tmp_path / 'rdh.db'}")
    with engine.connect().execution_options(**{WRITE_LOCK: True}) as connection:
        connection.begin()  # BEGIN IMMEDIATE: the write lock is taken at once
        with other.connect() as second:
            second.exec_driver_sql("PRAGMA busy_timeout=0")
            with pytest.raises(OperationalError, match="locked"):
                second.exec_driver_sql("BEGIN IMMEDIATE")
        connection.rollback()
    with other.connect() as second:  # a plain transaction does not take it
        second.begin()
        second.execute(text("select 1"))
        with engine.connect().execution_options(**{WRITE_LOCK: True}) as connection:
            connection.begin()
            connection.rollback()
        second.rollback()
    engine.dispose()
    other.dispose()


def test_unreachable_postgres_skips_locally_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.node import conftest

    monkeypatch.setattr(conftest, "_postgres_problem", lambda: "PostgreSQL is unreachable")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="unreachable"):
        conftest.require_postgres()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the PostgreSQL tests"):
        conftest.require_postgres()

"""The database schema (SQLAlchemy 2 declarative models; DESIGN §2.10).

    logs              one row per log: the node's own (`local`) and the ones it mirrors
    entries           the entry bytes, the source of truth, by (log, seq); found by id through
                      an index on the seq's band and the id's first 16 hex digits
                      (`entry_id_is`)
    tiles             tlog-tiles hash tiles: every full tile, and the widest partial tile
                      of each place not yet full (it serves every narrower width)
    checkpoints       every signed checkpoint note, by (log, size): the history
    statement_nonces  every statement nonce a log recorded (replay protection)
    evidence          pairs of signed checkpoints of one origin that are not consistent
    api_tokens        the admin API tokens, as SHA-256 hashes (a token is shown once)
    statement_offers  signed statements collected for an entry that needs several parties'
                      statements (`share.activate`, `share.terminate`) until it is recorded
    peers             the nodes this one pulls logs from and pushes its checkpoints to, with
                      their witness key and backoff state (`node.peers`)
    witness_checkpoints  as a C2SP witness: the one checkpoint cosigned per origin
    sync_targets      a mirrored log's signed checkpoint whose entries are being stored in
                      batches (`node.sync`): entries above the log's size up to this one

Everything but `entries` (and the signed notes) can be rebuilt from the entry bytes. Schema
changes are Alembic migrations (`node.db.migrations`); a test checks that these models and
the migrated schema agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    UniqueConstraint,
    and_,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

__all__ = [
    "ApiTokenRow",
    "Base",
    "CheckpointRow",
    "EntryRow",
    "EvidenceRow",
    "LogRow",
    "NonceRow",
    "PeerRow",
    "StatementOfferRow",
    "SyncTargetRow",
    "TileRow",
    "WitnessRow",
    "ID_BAND",
    "entry_id_is",
    "entry_row",
    "last_seq_stored",
]

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_LOG_FK = "logs.id"


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names (for migrations)."""

    metadata = MetaData(naming_convention=_NAMING)


class LogRow(Base):
    """A log this node writes (`local`) or mirrors; `size`/`root` are its last checkpoint."""

    __tablename__ = "logs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    origin: Mapped[str] = mapped_column(String(200))
    vkey: Mapped[str] = mapped_column(String(300))
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))


class EntryRow(Base):
    """One entry's canonical bytes (`data`), the source of truth, and its indexed fields.

    An entry's id is the hash of its bytes, which name its log and seq: unique because
    (log_id, seq) is. It is found through `ix_entries_id_band`, an index on its seq's band
    (`seq / ID_BAND`) and its first 16 hex digits (64 bits). Ids are random: in an index on
    the id alone an append writes one index page per entry it adds once the index has more
    pages than the batch has entries, so the cost of a commit grows with the log. With the
    band first, an append writes only into its band's part of the index (at most `ID_BAND`
    keys per log), and a lookup probes each band (`entry_id_is`, one index seek per band:
    62 for a log of 1,000,000 entries). Find an entry by id with `entry_row`.
    """

    __tablename__ = "entries"

    log_id: Mapped[str] = mapped_column(ForeignKey(_LOG_FK), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(100))
    time: Mapped[str] = mapped_column(String(20))
    data: Mapped[bytes] = mapped_column(LargeBinary)


#: entries per band of `ix_entries_id_band` (64 full tiles)
ID_BAND = 16384

#: the indexed expressions (literal arguments: both databases use the index only for a query
#: that names the same expressions, and a bound parameter is not the same; `op("/")` is
#: the integer division of both, where SQLAlchemy's `/` would be a true division)
_ID_BAND = EntryRow.seq.op("/")(literal_column(str(ID_BAND)))
_ID_PREFIX = func.substr(EntryRow.id, literal_column("1"), literal_column("16"))
_ID_REST = func.substr(EntryRow.id, literal_column("17"))
Index("ix_entries_id_band", _ID_BAND, _ID_PREFIX)


def entry_id_is(entry_id: str, last_seq: int) -> ColumnElement[bool]:
    """The condition `entries.id = entry_id` for entries with seq ≤ `last_seq`
    (`last_seq_stored`), as a query the id index serves: each band up to `last_seq`'s, the
    prefix and the rest of the id. (With `id = :id` in the query, SQLite substitutes the
    constant into the indexed expression and scans the table instead.)"""
    bands = list(range(max(last_seq, 0) // ID_BAND + 1))
    return and_(
        _ID_BAND.in_(bands),
        _ID_PREFIX == entry_id[:16],  # noqa: SIM300
        _ID_REST == entry_id[16:],  # noqa: SIM300
    )


def last_seq_stored(session: Session, log_id: str | None = None) -> int:
    """The highest seq of the entries stored of one log, or of any log; -1 if none. One
    seek in the primary key per log (entries above a mirrored log's size count: `sync`
    stores them before it moves the log's size)."""
    if log_id is not None:
        last = session.execute(
            select(func.max(EntryRow.seq)).where(EntryRow.log_id == log_id)
        ).scalar()
    else:
        # per log, and the greatest of them here: `max` over the subquery would read every
        # log's entries
        per_log = (
            select(func.max(EntryRow.seq))
            .where(EntryRow.log_id == LogRow.id)
            .correlate(LogRow)
            .scalar_subquery()
        )
        found = session.execute(select(per_log).select_from(LogRow)).scalars()
        last = max((n for n in found if n is not None), default=None)
    return -1 if last is None else int(last)


def entry_row(session: Session, entry_id: str, log_id: str | None = None) -> EntryRow | None:
    """The stored entry with id `entry_id` (of log `log_id`, if named), or None. The log is
    checked on the row found, not named in the query: the planner would take the primary
    key for `log_id = ...` and read the whole log."""
    found = entry_id_is(entry_id, last_seq_stored(session, log_id))
    row = session.execute(select(EntryRow).where(found).limit(1)).scalar()
    return None if row is None or log_id not in (None, row.log_id) else row


class TileRow(Base):
    """A tlog-tiles hash tile: `width` hashes (32 bytes each) of tile `index` at `level`."""

    __tablename__ = "tiles"

    log_id: Mapped[str] = mapped_column(ForeignKey(_LOG_FK), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    width: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CheckpointRow(Base):
    """A signed checkpoint note of a log at `size` (the note may carry cosignatures)."""

    __tablename__ = "checkpoints"

    log_id: Mapped[str] = mapped_column(ForeignKey(_LOG_FK), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[bytes] = mapped_column(LargeBinary)


class NonceRow(Base):
    """A statement nonce recorded by a log, and the seq of the entry that recorded it."""

    __tablename__ = "statement_nonces"

    log_id: Mapped[str] = mapped_column(ForeignKey(_LOG_FK), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(100), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class EvidenceRow(Base):
    """Two signed checkpoints of `origin` with no consistency proof between them."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(200), index=True)
    note_a: Mapped[bytes] = mapped_column(LargeBinary)
    note_b: Mapped[bytes] = mapped_column(LargeBinary)


class ApiTokenRow(Base):
    """An admin API token, stored as the hex SHA-256 of the token (never the token)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created: Mapped[str] = mapped_column(String(20))


class StatementOfferRow(Base):
    """A party's signed statement for a multi-party entry, kept until the entry is recorded.

    `target` is the entry the statement is about (the proposal of a `share.activate`, the
    agreement of a `share.terminate`); one statement per (type, target, signer).
    """

    __tablename__ = "statement_offers"
    __table_args__ = (UniqueConstraint("type", "target", "signer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(64), index=True)
    signer: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created: Mapped[str] = mapped_column(String(20))


class PeerRow(Base):
    """A peer node at `url`: its own log, its witness key, and how syncing with it goes.

    `witness` says whether the node pushes its checkpoints to the peer for cosigning;
    `witness_size` is the size of this node's checkpoint the peer last cosigned (its
    tlog-witness state for our origin, as far as we know). A failing peer is not tried
    before `retry_at` (POSIX seconds); `failures` counts the failures in a row.
    """

    __tablename__ = "peers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(300), unique=True)
    log_id: Mapped[str] = mapped_column(String(64))
    witness_vkey: Mapped[str | None] = mapped_column(String(300), nullable=True)
    witness: Mapped[bool] = mapped_column(Boolean, default=True)
    witness_size: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[int] = mapped_column(BigInteger, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    last_sync: Mapped[str] = mapped_column(String(20), default="")
    added: Mapped[str] = mapped_column(String(20))


class WitnessRow(Base):
    """The checkpoint this node, as a witness, last cosigned for `origin` (one per origin)."""

    __tablename__ = "witness_checkpoints"

    origin: Mapped[str] = mapped_column(String(200), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[bytes] = mapped_column(LargeBinary)


class SyncTargetRow(Base):
    """A signed checkpoint of a mirrored log whose entries are being stored in batches."""

    __tablename__ = "sync_targets"

    log_id: Mapped[str] = mapped_column(ForeignKey(_LOG_FK), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[bytes] = mapped_column(LargeBinary)

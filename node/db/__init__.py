"""The node's database: models, engines and sessions, migrations.

See `node.db.models` for the tables, `node.db.engine` for SQLite/PostgreSQL set-up and
`node.db.migrate` for running the Alembic migrations from code.
"""

from node.db.engine import WRITE_LOCK, is_sqlite, make_engine, make_sessions
from node.db.migrate import current_revision, head_revision, upgrade
from node.db.models import (
    ApiTokenRow,
    Base,
    CheckpointRow,
    EntryRow,
    EvidenceRow,
    LogRow,
    NonceRow,
    PeerRow,
    StatementOfferRow,
    SyncTargetRow,
    TileRow,
    WitnessRow,
)

__all__ = [
    "WRITE_LOCK",
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
    "current_revision",
    "head_revision",
    "is_sqlite",
    "make_engine",
    "make_sessions",
    "upgrade",
]

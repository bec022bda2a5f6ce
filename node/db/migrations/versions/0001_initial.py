"""The first schema: logs, entries, tiles, checkpoints, statement nonces, evidence.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("note_a", sa.LargeBinary(), nullable=False),
        sa.Column("note_b", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    op.create_index(op.f("ix_evidence_origin"), "evidence", ["origin"], unique=False)
    op.create_table(
        "logs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("vkey", sa.String(length=300), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logs")),
    )
    op.create_table(
        "checkpoints",
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"], name=op.f("fk_checkpoints_log_id_logs")),
        sa.PrimaryKeyConstraint("log_id", "size", name=op.f("pk_checkpoints")),
    )
    op.create_table(
        "entries",
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("time", sa.String(length=20), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"], name=op.f("fk_entries_log_id_logs")),
        sa.PrimaryKeyConstraint("log_id", "seq", name=op.f("pk_entries")),
        sa.UniqueConstraint("log_id", "id", name=op.f("uq_entries_log_id_id")),
    )
    op.create_table(
        "statement_nonces",
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"], ["logs.id"], name=op.f("fk_statement_nonces_log_id_logs")
        ),
        sa.PrimaryKeyConstraint("log_id", "nonce", name=op.f("pk_statement_nonces")),
    )
    op.create_table(
        "tiles",
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("width", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"], name=op.f("fk_tiles_log_id_logs")),
        sa.PrimaryKeyConstraint("log_id", "level", "index", "width", name=op.f("pk_tiles")),
    )


def downgrade() -> None:
    for table in ("tiles", "statement_nonces", "entries", "checkpoints", "logs"):
        op.drop_table(table)
    op.drop_index(op.f("ix_evidence_origin"), table_name="evidence")
    op.drop_table("evidence")

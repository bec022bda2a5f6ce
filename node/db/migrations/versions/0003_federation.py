"""Federation: peers, the witness's cosigned checkpoints, mirrored logs' sync targets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "peers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("witness_vkey", sa.String(length=300), nullable=True),
        sa.Column("witness", sa.Boolean(), nullable=False),
        sa.Column("witness_size", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("retry_at", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("last_sync", sa.String(length=20), nullable=False),
        sa.Column("added", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peers")),
        sa.UniqueConstraint("url", name=op.f("uq_peers_url_")),
    )
    op.create_table(
        "witness_checkpoints",
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_witness_checkpoints")),
    )
    op.create_table(
        "sync_targets",
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"], name=op.f("fk_sync_targets_log_id_logs")),
        sa.PrimaryKeyConstraint("log_id", name=op.f("pk_sync_targets")),
    )


def downgrade() -> None:
    op.drop_table("sync_targets")
    op.drop_table("witness_checkpoints")
    op.drop_table("peers")

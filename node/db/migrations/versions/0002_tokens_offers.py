"""Admin API tokens and collected multi-party statements.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash_")),
    )
    op.create_table(
        "statement_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("signer", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_offers")),
        sa.UniqueConstraint(
            "type", "target", "signer", name=op.f("uq_statement_offers_type_target")
        ),
    )
    op.create_index(
        op.f("ix_statement_offers_target"), "statement_offers", ["target"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_statement_offers_target"), table_name="statement_offers")
    op.drop_table("statement_offers")
    op.drop_table("api_tokens")

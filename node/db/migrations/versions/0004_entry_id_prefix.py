"""Entries are found by id through an index on the id's first 16 hex digits.

The unique index on (log_id, id), 130-byte keys in random order, cost each append one index
page per entry and grew to ten times the size of this one; it was also unused by lookups
that do not name the log. An id is unique without it: it is the hash of the entry's bytes,
which name its log and seq (the primary key). See `node.db.models.EntryRow`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:  # SQLite copies the table
        batch.drop_constraint("uq_entries_log_id_id", type_="unique")
    op.create_index("ix_entries_id_prefix", "entries", [sa.text("substr(id, 1, 16)")])


def downgrade() -> None:
    op.drop_index("ix_entries_id_prefix", table_name="entries")
    with op.batch_alter_table("entries") as batch:
        batch.create_unique_constraint("uq_entries_log_id_id", ["log_id", "id"])

"""Alembic migration scripts of the node database (run by `node.db.migrate.upgrade`)."""

"""The node fixtures of `tests/node` (a real SQLite file and a real PostgreSQL schema)."""

from tests.node.conftest import db_url, local_node, node_settings, postgres_url

__all__ = ["db_url", "local_node", "node_settings", "postgres_url"]

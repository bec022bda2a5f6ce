"""Fixtures of the federation tests: the database fixtures of `tests.node.conftest`."""

from tests.node.conftest import db_url, engine, local_node, node_settings, postgres_url, sessions

__all__ = ["db_url", "engine", "local_node", "node_settings", "postgres_url", "sessions"]

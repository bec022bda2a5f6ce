"""A real node (key file + migrated database + genesis) on SQLite and PostgreSQL, and its app.

The node is made by `node.local_node.init_node` in a temporary directory, on each database of
`tests.node.conftest.db_url`; the app is `node.api.create_app(node)` with Flask's test client.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from node.api import create_app
from node.local_node import LocalNode, init_node
from node.own_log import EntryDraft, Genesis
from node.settings import load_settings
from tests.builders import key
from tests.node.conftest import NOW

#: Entries in the `node` fixture's log: one full level-0 tile and a partial one (300 % 256).
SIZE = 300


def make_node(node_dir: Path, db_url: str, size: int) -> LocalNode:
    """A node with `size` entries (genesis included) in `db_url`."""
    settings = load_settings(node_dir, {"RDH_DATABASE_URL": db_url})
    node, _ = init_node(settings, Genesis(name="Lakeside", kind="platform"), NOW, key=key("api"))
    drafts = [EntryDraft("task.publish", {"n": n, "title": f"task {n}"}) for n in range(size - 1)]
    for start in range(0, len(drafts), 1000):
        node.store.append(drafts[start : start + 1000], NOW)
    return node


@pytest.fixture
def node(tmp_path: Path, db_url: str) -> Iterator[LocalNode]:
    node = make_node(tmp_path / "node", db_url, SIZE)
    yield node
    node.close()


@pytest.fixture
def app(node: LocalNode) -> Flask:
    return create_app(node, max_body=64 * 1024)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()

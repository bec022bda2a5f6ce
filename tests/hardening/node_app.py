"""An in-process node app for the fault tests: the app, its admin token and state probes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from node.api.app import create_app
from node.db.models import EntryRow, TileRow
from node.local_node import LocalNode
from node.service import NodeService
from node.store_check import verify_store
from node.tokens import create_token
from tests.node.stories import task_body

__all__ = ["NodeApp", "StoredState", "publish"]

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class StoredState:
    """What must not change when a request is refused: the database, not only the answer."""

    size: int
    checkpoint: bytes
    entries: int
    tiles: int


def publish(n: int, *, tag: str, pad: int = 0) -> dict[str, Any]:
    """An append body of `n` task.publish entries (each description `pad` characters)."""
    entries = []
    for k in range(n):
        body = task_body(NOW, title=f"{tag}-{k}")
        if pad:
            body["description"] = "d" * pad
        entries.append({"type": "task.publish", "body": body})
    return {"entries": entries}


class NodeApp:
    """`create_app(node)` with a settable clock, an admin token and state probes."""

    def __init__(self, node: LocalNode) -> None:
        self.node, self.now = node, NOW
        self.app = create_app(node, service=NodeService(node, clock=lambda: self.now))
        self.client: FlaskClient = self.app.test_client()
        self.token = create_token(node.sessions, "hardening", NOW)
        self.log = node.store.log_id

    def post(self, path: str, value: Any = None, *, data: bytes | None = None) -> Any:
        return self.client.post(
            path,
            json=value if data is None else None,
            data=data,
            content_type="application/json",
            headers={"Authorization": f"Bearer {self.token}"},
        )

    def stored(self) -> StoredState:
        """The stored state, after checking every entry and tile against the checkpoint."""
        with self.node.sessions.begin() as session:
            verify_store(session, full=True)
            entries = session.execute(select(func.count()).select_from(EntryRow)).scalar_one()
            tiles = session.execute(select(func.count()).select_from(TileRow)).scalar_one()
        return StoredState(self.node.store.size, self.node.store.checkpoint(), entries, tiles)

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

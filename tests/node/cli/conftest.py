"""A real node served over HTTP on 127.0.0.1 (werkzeug, in a thread) for the lead CLI.

The node is made by `init_node` on an SQLite file; its app is `create_app` with a
`NodeService` on the real clock (statements are signed at the real time, and
relative deadlines count from it). `Lead.run` invokes `rdh` with `--node` and the admin
token, as a lead would.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from werkzeug.serving import make_server

from ledger.keys import SigningKey
from ledger.types import JSON
from node.api.app import create_app
from node.cli import rdh
from node.client import NodeClient
from node.local_node import LocalNode, init_node
from node.service import NodeService
from node.settings import Settings
from node.store import Genesis
from node.tokens import create_token
from tests.builders import key
from tests.node.stories import signed

#: Environment cleared for every run, so the tests never see the developer's settings.
CLEAN_ENV: dict[str, str | None] = {
    "RDH_NODE_URL": None,
    "RDH_TOKEN": None,
    "RDH_TOKEN_FILE": None,
}


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Lead:
    """The served node and a lead at its command line."""

    url: str
    token: str
    node: LocalNode
    statements: int = field(default=0)

    @property
    def log(self) -> str:
        return self.node.store.log_id

    @property
    def vkey(self) -> str:
        return self.node.store.vkey

    def run(
        self, *args: str, token: bool = True, env: dict[str, str | None] | None = None
    ) -> Result:
        """`rdh ARGS --node URL [--token T]`; the result (output, stderr, exit code)."""
        extra = ["--node", self.url, *(["--token", self.token] if token else [])]
        runner = CliRunner()
        return runner.invoke(rdh, [*args, *extra], env={**CLEAN_ENV, **(env or {})})

    def ok(self, *args: str) -> str:
        """Run a command that must succeed; its standard output."""
        result = self.run(*args)
        assert result.exit_code == 0, (result.output, result.stderr, result.exception)
        return result.stdout

    def recorded(self, *args: str) -> str:
        """Run a write; the id of the entry it recorded."""
        out = self.ok(*args)
        found = re.search(r"^recorded \S+ ([0-9a-f]{64}) \(seq \d+\)$", out, re.MULTILINE)
        assert found, out
        return found.group(1)

    def sign(self, signer: SigningKey, kind: str, body: dict[str, JSON]) -> Any:
        """`signer`'s statement over `kind` and `body`, posted to the node."""
        self.statements += 1
        statement = signed(signer, self.log, kind, body, now(), f"cli{self.statements}")
        return NodeClient(self.url).post("/statements", statement.to_dict())

    def get(self, path: str, **query: Any) -> Any:
        return NodeClient(self.url).get(path, **query)

    def entry_count(self) -> int:
        return len(self.get("/entries", limit=500))


@contextmanager
def served(tmp_path: Path, name: str, *, kind: str = "micro-enterprise") -> Iterator[Lead]:
    """A node made by `init_node` on an SQLite file in `tmp_path`, served over HTTP on
    127.0.0.1 (werkzeug in a thread), with an admin token."""
    settings = Settings(
        node_dir=tmp_path / name,
        database_url=f"sqlite:///{tmp_path / f'{name}.db'}",
        key_file=tmp_path / name / "node.key",
    )
    node, _ = init_node(settings, Genesis(name=name, kind=kind), now(), key=key(name))
    app = create_app(node, service=NodeService(node, clock=now))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        token = create_token(node.sessions, f"{name} cli test", now())
        yield Lead(f"http://127.0.0.1:{server.server_port}", token, node)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        node.close()


@pytest.fixture
def lead(tmp_path: Path) -> Iterator[Lead]:
    with served(tmp_path, "Lakeside Lamps") as node:
        yield node


def lines(text: str) -> Sequence[str]:
    return [line for line in text.splitlines() if line.strip()]

"""The demo's nodes: each a real `rdh serve` process on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from node.errors import UsageError
from node.local_node import init_node
from node.own_log import Genesis
from node.settings import load_settings
from node.tokens import create_token

__all__ = ["Community", "DemoNode", "start_node", "stop_nodes"]

_START_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Community:
    """Who a demo node is."""

    slug: str
    name: str
    kind: str
    description: str


@dataclass(slots=True)
class DemoNode:
    """A running demo node: its community, directory, URL, admin token and log id."""

    community: Community
    node_dir: Path
    url: str
    token: str
    log_id: str
    process: subprocess.Popen[bytes] = field(repr=False)


def _init(community: Community, node_dir: Path, env: Mapping[str, str]) -> tuple[str, str]:
    """Create the node (key, database, genesis) and an admin token; (log id, token)."""
    settings = load_settings(node_dir, env)
    genesis = Genesis(
        name=community.name,
        kind=community.kind,
        description=community.description,
        url="http://127.0.0.1/",
    )
    node, _ = init_node(settings, genesis, datetime.now(UTC))
    try:
        return node.store.log_id, create_token(node.sessions, "demo", datetime.now(UTC))
    finally:
        node.close()


def start_node(community: Community, root: Path, *, port: int = 0) -> DemoNode:
    """Make the node of `community` under `root` and start `rdh serve` for it."""
    node_dir = root / community.slug
    env = {k: v for k, v in os.environ.items() if not k.startswith("RDH_")}
    log_id, token = _init(community, node_dir, env)
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [
            sys.executable,
            "-c",
            "from node.cli import main; main()",
            "serve",
            "-d",
            str(node_dir),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=(node_dir / "serve.log").open("ab"),
        env=env,
    )
    url = _read_url(process, node_dir)
    return DemoNode(community, node_dir, url, token, log_id, process)


def _read_url(process: subprocess.Popen[bytes], node_dir: Path) -> str:
    """The URL the server printed (`serving log <id> at <url> ...`)."""
    assert process.stdout is not None
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline().decode()
            if " at " in line:
                return line.split(" at ", 1)[1].split()[0].rstrip("/")
            if not line:
                break
        if process.poll() is not None:
            break
    process.kill()
    process.wait()
    raise UsageError(f"the demo node in {node_dir} did not start; see {node_dir / 'serve.log'}")


def stop_nodes(nodes: list[DemoNode], *, timeout: float = 15.0) -> None:
    """SIGTERM every node and wait for it (SIGKILL after `timeout` seconds)."""
    for node in nodes:
        if node.process.poll() is None:
            node.process.terminate()
    for node in nodes:
        try:
            node.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()
        if node.process.stdout is not None:
            node.process.stdout.close()

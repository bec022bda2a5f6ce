"""The demo's nodes: each a real `rdh serve` process on a free 127.0.0.1 port."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from node.errors import NodeError, UsageError
from node.local_node import init_node, open_node
from node.own_log import Genesis
from node.peers import HttpTransport, add_peer
from node.serve_process import start_serve
from node.settings import load_settings
from node.tokens import create_token

__all__ = ["Community", "DemoNode", "converged", "peer_all", "start_node", "stop_nodes"]

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
    # the seeder submits every worker's statements from this one address
    env = {**_env(), "RDH_STATEMENT_RATE": "100000"}
    log_id, token = _init(community, node_dir, env)
    try:
        with (node_dir / "serve.log").open("ab") as log:
            process, url = start_serve(node_dir, env=env, stderr=log)
    except UsageError as e:
        raise UsageError(f"{e}; see {node_dir / 'serve.log'}") from e
    return DemoNode(community, node_dir, url, token, log_id, process)


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


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RDH_")}


def peer_all(nodes: list[DemoNode]) -> None:
    """Every node follows and witnesses every other (`rdh peer add`, done in-process); the
    nodes' schedulers then sync and collect cosignatures every few seconds."""
    transport = HttpTransport()
    try:
        for node in nodes:
            local = open_node(load_settings(node.node_dir, _env()))
            try:
                for other in nodes:
                    if other is not node:
                        add_peer(
                            local.sessions,
                            transport,
                            other.url,
                            datetime.now(UTC),
                            own_log=node.log_id,
                            witness=True,
                        )
            finally:
                local.close()
    finally:
        transport.close()


def _heads(node: DemoNode) -> dict[str, tuple[int, int]]:
    """Log id -> (size, number of cosignatures on its checkpoint), as `node` serves them."""
    logs = json.loads(_get(f"{node.url}/logs"))
    heads = {}
    for log in logs:
        note = _get(f"{node.url}/logs/{log['id']}/checkpoint").decode()
        signatures = sum(1 for line in note.splitlines() if line.startswith("\u2014 "))
        heads[log["id"]] = (int(log["size"]), signatures - 1)
    return heads


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our own http URL)
            data: bytes = response.read()
            return data
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read {url}: {e}") from e


def converged(nodes: list[DemoNode], *, cosignatures: int, timeout: float = 120.0) -> bool:
    """Wait until every node holds every log at its owner's size and each owner's checkpoint
    carries at least `cosignatures` cosignatures; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            views = [_heads(node) for node in nodes]
        except NodeError:
            views = []
        if views:
            own = {node.log_id: views[n].get(node.log_id, (0, 0)) for n, node in enumerate(nodes)}
            if all(c >= cosignatures for _, c in own.values()) and all(
                view.get(log, (-1, 0))[0] == size
                for view in views
                for log, (size, _) in own.items()
            ):
                return True
        time.sleep(1.0)
    return False

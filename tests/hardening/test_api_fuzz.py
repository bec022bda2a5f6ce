"""schemathesis against a live `rdh serve` (every operation of `/api/v1/openapi.json`,
requests that fit the schema and requests that do not, with the admin token), and random
tile paths: no 5xx, and no refused request changes the log (`tests.hardening.api_fuzz`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hardening.api_fuzz import fuzz_api, fuzz_tile_paths
from tests.hardening.live import LiveNode


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    node = LiveNode.start(tmp_path_factory.mktemp("api-fuzz") / "node")
    yield node
    assert node.stop() == 0
    assert "Traceback" not in node.stderr[-1], node.stderr[-1][-3000:]


def test_schemathesis_finds_no_server_error_and_no_state_change(live: LiveNode) -> None:
    result = fuzz_api(live, examples=15)
    assert not result.server_errors, result.server_errors[:10]
    assert not result.state_changes, result.state_changes[:10]
    assert len(result.operations) >= 17, sorted(result.operations)
    assert result.requests > 300
    assert result.rejected > 100, result.statuses
    assert result.accepted > 50, result.statuses


def test_random_tile_paths_are_4xx_never_5xx(live: LiveNode) -> None:
    result = fuzz_tile_paths(live, examples=150)
    assert not result.server_errors
    assert result.requests == 150


def test_the_node_survived(live: LiveNode) -> None:
    status, _ = live.request("GET", "/healthz", admin=False)
    assert status == 200
    assert Path(live.node_dir).is_dir()

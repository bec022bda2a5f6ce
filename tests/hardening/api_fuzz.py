"""Fuzzing a live node's HTTP API: schemathesis from `/api/v1/openapi.json`, and tile paths.

For every operation of the OpenAPI document, schemathesis generates requests that fit the
schema (positive) and that do not (negative), sent with the admin token so that the write
endpoints are reached. Every answer must be below 500, and a refused request (4xx) must
leave the node's log exactly as it was: the signed size and checkpoint are read before and
after each request. The only entries allowed to appear meanwhile are the scheduler's own
`task.expire` (a deadline an accepted request published may pass during the run).

`fuzz_api(node, examples=...)` returns the counts; the suite runs a bounded number of
examples, `benchmarks/hardening_report.py` a large one.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.hardening.live import LiveNode

__all__ = ["ApiFuzzResult", "fuzz_api", "fuzz_tile_paths"]


@dataclass
class ApiFuzzResult:
    """What a fuzzing run sent and saw."""

    requests: int = 0
    rejected: int = 0
    accepted: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    server_errors: list[str] = field(default_factory=list)
    state_changes: list[str] = field(default_factory=list)
    #: operations for which a mode could generate nothing (no inputs to get wrong)
    unsatisfiable: set[str] = field(default_factory=set)

    def record(self, label: str, status: int, changed: str | None) -> None:
        self.requests += 1
        self.operations.add(label)
        self.statuses[status] += 1
        if status >= 500:
            self.server_errors.append(f"{label}: {status}")
        if 400 <= status < 500:
            self.rejected += 1
            if changed:
                self.state_changes.append(f"{label} ({status}): {changed}")
        elif status < 400:
            self.accepted += 1


def _change(node: LiveNode, before: tuple[int, bytes]) -> str | None:
    """None if the log is as `before` (or grew only by the scheduler's task.expire)."""
    after = node.state()
    if after == before:
        return None
    status, data = node.request("GET", f"/api/v1/entries?after={before[0] - 1}&limit=100")
    types = {e["type"] for e in json.loads(data)} if status == 200 else {"?"}
    if after[0] > before[0] and types <= {"task.expire"}:
        return None
    return f"size {before[0]} -> {after[0]}, new entries {sorted(types)}"


def fuzz_api(
    node: LiveNode, *, examples: int, modes: tuple[GenerationMode, ...] | None = None
) -> ApiFuzzResult:
    """Run schemathesis against every operation of the node's OpenAPI document."""
    schema = schemathesis.openapi.from_url(node.url + "/api/v1/openapi.json")
    result = ApiFuzzResult()
    session = requests.Session()
    for item in schema.get_all_operations():
        operation = item.ok()
        label = f"{operation.method.upper()} {operation.path}"
        for mode in modes or (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(
                node, operation.as_strategy(generation_mode=mode), label, examples, result, session
            )
    return result


def _fuzz_operation(
    node: LiveNode,
    strategy: st.SearchStrategy[schemathesis.Case],
    label: str,
    examples: int,
    result: ApiFuzzResult,
    session: requests.Session,
) -> None:
    auth = {"Authorization": f"Bearer {node.token}"}

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(case: schemathesis.Case) -> None:
        before = node.state()
        try:
            response = case.call(base_url=node.url, session=session, headers=auth, timeout=30)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL):
            return  # the client library refuses to send it: nothing reached the node
        result.record(label, response.status_code, _change(node, before))

    try:
        run()
    except Unsatisfiable:  # e.g. no request violates the schema of an operation without inputs
        result.unsatisfiable.add(label)


#: Pieces of tile paths, valid and not.
_SEGMENTS = ["tile", "entries", "0", "1", "63", "64", "000", "x001", "x000", "001.p", ".p", "5",
             "256", "255", "0", "-1", "..", "", "%00", "x999", "999", "a", "001"]  # fmt: skip


def fuzz_tile_paths(node: LiveNode, *, examples: int) -> ApiFuzzResult:
    """GET random tile paths (of this log and of random log ids): never a 5xx."""
    result = ApiFuzzResult()
    path = st.lists(st.sampled_from(_SEGMENTS) | st.text("0123456789x.p", max_size=6), max_size=7)
    log = st.sampled_from([node.log_id, "0" * 64, "ab", node.log_id.upper()])

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True)
    @given(log, path)
    def run(log_id: str, parts: list[str]) -> None:
        target = f"/logs/{log_id}/tile/{'/'.join(parts)}"
        status, _ = node.request("GET", target, admin=False)
        result.record("GET /logs/<id>/tile/...", status, None)

    run()
    return result

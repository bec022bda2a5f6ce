"""A real node (SQLite file) with the web UI, driven through its service: a community with a
published task, an applicant, an offer, a signed contract, submitted work and a revenue
share, for the page tests (Flask's test client) and the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask

from ledger.keys import SigningKey
from node.local_node import LocalNode, init_node
from node.own_log import EntryDraft, Genesis
from node.service import NodeService
from node.settings import load_settings
from tests.builders import key
from tests.node.stories import offer_body, signed, task_body
from web.app import create_web_app

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Community:
    node: LocalNode
    service: NodeService
    app: Flask
    clock: Clock
    worker: SigningKey
    task: str = ""
    contract: str = ""


def open_community(directory: Path, *, name: str = "Lakeside Design") -> Community:
    settings = load_settings(directory, {"RDH_DATABASE_URL": f"sqlite:///{directory}/rdh.db"})
    node, _ = init_node(
        settings, Genesis(name=name, kind="micro-enterprise"), NOW, key=key(f"web/{name}")
    )
    clock = Clock()
    service = NodeService(node, clock=clock)
    app = create_web_app(node, service=service, extra={"WEB_SECURE_COOKIES": False})
    return Community(node, service, app, clock, key("web-worker"))


def record(c: Community, kind: str, body: dict) -> str:  # type: ignore[type-arg]
    return c.service.record([EntryDraft(kind, body)]).entries[0].id


def submit(c: Community, kind: str, body: dict, label: str) -> str:  # type: ignore[type-arg]
    outcome = c.service.submit(signed(c.worker, c.service.log_id, kind, body, c.clock(), label))
    return outcome.entries[0].id  # type: ignore[union-attr]


def story(c: Community) -> Community:
    """Publish, apply, offer, sign, submit: the contract waits for review."""
    c.task = record(c, "task.publish", task_body(NOW, title="Design a lamp", skills=("cad",)))
    w = c.worker.party_id
    submit(c, "task.apply", {"task": c.task, "worker": w, "note": "I <3 lamps"}, "apply")
    c.contract = record(c, "contract.offer", offer_body(c.task, w, NOW))
    submit(c, "contract.sign", {"offer": c.contract}, "sign")
    c.clock.now = NOW + timedelta(hours=1)
    submit(
        c,
        "work.submit",
        {"contract": c.contract, "milestone": None, "uri": "https://x.example/lamp"},
        "submit",
    )
    return c

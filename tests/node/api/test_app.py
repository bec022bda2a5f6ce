"""The app factory: JSON errors under /api/, text elsewhere, headers, health, OpenAPI, auth.

A small flask-smorest blueprint registered with `register_v1` stands in for the v1
resources, so every error path (schema, auth, body size, domain errors, a crash) is real.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from flask_smorest import Blueprint
from sqlalchemy import create_engine

from ledger.errors import FormatError, VerificationError
from node.api import admin_required, api_of, create_app, register_v1
from node.api.app import SECURITY_HEADERS
from node.api.auth import TOKENS_EXTENSION
from node.db import make_sessions
from node.errors import (
    NodeError,
    NonceReused,
    NotFoundError,
    RuleRejected,
    StoreMismatch,
    UsageError,
)
from node.local_node import LocalNode
from node.store import LogStore
from node.tokens import create_token, list_tokens, revoke_token
from tests.builders import key
from tests.node.api.conftest import SIZE
from tests.node.conftest import NOW


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """These tests are about HTTP, not storage: SQLite only (the tile tests run on both)."""
    return f"sqlite:///{tmp_path / 'rdh.db'}"


class _Task(ma.Schema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))


_RAISED: dict[str, Exception] = {
    "rule": RuleRejected("task.publish.deadline", "The deadline is in the past"),
    "nonce": NonceReused("statement.nonce", "The statement nonce was already recorded"),
    "missing": NotFoundError("no task 17 in this log"),
    "usage": UsageError("there is nothing to append"),
    "mismatch": StoreMismatch("the stored tree does not match the last checkpoint"),
    "node": NodeError("the database is unavailable"),
    "format": FormatError("the statement is not canonical JSON."),
    "verification": VerificationError("the statement's signature does not verify"),
    "crash": RuntimeError("secret detail /etc/passwd"),
}


def _blueprint() -> Blueprint:
    blp = Blueprint("probe", __name__, url_prefix="/probe")

    @blp.route("/tasks", methods=["POST"])
    @admin_required
    @blp.arguments(_Task)
    @blp.response(201, _Task)
    def post_task(task: dict[str, Any]) -> dict[str, Any]:
        return task

    @blp.route("/raw", methods=["POST"])
    def raw() -> dict[str, Any]:
        return {"got": request.get_json()}

    @blp.route("/raise/<kind>")
    def raise_(kind: str) -> None:
        raise _RAISED[kind]

    return blp


@pytest.fixture
def probe(node: LocalNode) -> Flask:
    app = create_app(node, max_body=1024, extra={"PROBE": True})
    register_v1(app, _blueprint())
    return app


@pytest.fixture
def pclient(probe: Flask) -> FlaskClient:
    return probe.test_client()


@pytest.fixture
def token(node: LocalNode) -> str:
    return create_token(node.sessions, "test", NOW)


def _json_error(response: Any, code: int) -> dict[str, Any]:
    assert response.status_code == code, response.text
    assert response.content_type == "application/json"
    body: dict[str, Any] = response.json
    assert set(body) == {"code", "status", "message", "errors"}
    assert body["code"] == code
    assert body["message"].endswith(".")
    assert "Traceback" not in response.text
    return body


def test_create_app_keeps_its_settings(probe: Flask, node: LocalNode) -> None:
    assert probe.config["MAX_CONTENT_LENGTH"] == 1024
    assert probe.config["PROBE"] is True
    assert probe.extensions["rdh.node"] is node
    assert api_of(probe).spec.title == "rdh node API"


def test_healthz(client: FlaskClient, node: LocalNode) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"ok": True, "log": node.store.log_id, "size": SIZE}


def test_healthz_is_503_when_the_database_fails(node: LocalNode, tmp_path: Path) -> None:
    broken = make_sessions(create_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}"))
    sick = LocalNode(node.settings, node.engine, broken, LogStore(broken, key("api")))
    response = create_app(sick).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"ok": False, "log": node.store.log_id, "size": None}


def test_openapi_document(pclient: FlaskClient) -> None:
    response = pclient.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"] == "3.0.3"
    assert spec["info"] == {"title": "rdh node API", "version": "v1"}
    assert spec["components"]["securitySchemes"]["adminToken"] == {
        "type": "http",
        "scheme": "bearer",
    }
    post = spec["paths"]["/api/v1/probe/tasks"]["post"]
    assert post["security"] == [{"adminToken": []}]
    assert {"201", "401", "422"} <= set(post["responses"])


@pytest.mark.parametrize("path", ["/healthz", "/logs", "/api/v1/openapi.json", "/nope"])
def test_security_headers_on_every_response(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_api_404_and_405_are_json(client: FlaskClient) -> None:
    missing = _json_error(client.get("/api/v1/no-such-thing"), 404)
    assert missing["status"] == "Not Found"
    assert missing["errors"] == {}
    not_allowed = client.post("/api/v1/openapi.json", json={})
    assert _json_error(not_allowed, 405)["status"] == "Method Not Allowed"
    assert "GET" in not_allowed.headers["Allow"]


def test_other_paths_answer_errors_in_one_line_of_text(client: FlaskClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.content_type.startswith("text/plain")
    assert response.text.startswith("404 Not Found: ")
    assert response.text.count("\n") == 1


def test_admin_token_required(pclient: FlaskClient, node: LocalNode, token: str) -> None:
    url = "/api/v1/probe/tasks"
    anonymous = pclient.post(url, json={"title": "Paint"})
    body = _json_error(anonymous, 401)
    assert "rdh token create" in body["message"]
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    # an anonymous client learns nothing about the schema: 401 before 422
    assert pclient.post(url, json={"nope": 1}).status_code == 401
    for header in ("Bearer rdh_wrong", f"Basic {token}", "Bearer", token):
        wrong = pclient.post(url, json={"title": "Paint"}, headers={"Authorization": header})
        _json_error(wrong, 401)
        assert "Bearer" in wrong.headers["WWW-Authenticate"]
    auth = {"Authorization": f"Bearer {token}"}
    ok = pclient.post(url, json={"title": "Paint"}, headers=auth)
    assert ok.status_code == 201
    assert ok.json == {"title": "Paint"}
    [info] = list_tokens(node.sessions)
    revoke_token(node.sessions, info.id)
    # a server trusts a valid token for up to five seconds without asking the database
    assert pclient.post(url, json={"title": "Paint"}, headers=auth).status_code == 201
    pclient.application.extensions[TOKENS_EXTENSION].forget()  # as after those five seconds
    _json_error(pclient.post(url, json={"title": "Paint"}, headers=auth), 401)


def test_schema_errors_are_422_with_the_fields(pclient: FlaskClient, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    body = _json_error(pclient.post("/api/v1/probe/tasks", json={"x": 1}, headers=auth), 422)
    assert set(body["errors"]["json"]) == {"title", "x"}


def test_bodies_over_the_limit_are_413(pclient: FlaskClient, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    response = pclient.post("/api/v1/probe/tasks", json={"title": "x" * 2000}, headers=auth)
    assert _json_error(response, 413)["status"] == "Request Entity Too Large"


def test_wrong_content_type_is_415(pclient: FlaskClient) -> None:
    response = pclient.post("/api/v1/probe/raw", data="{}", content_type="text/plain")
    _json_error(response, 415)
    assert pclient.post("/api/v1/probe/raw", json={"a": 1}).json == {"got": {"a": 1}}


DOMAIN = {
    "rule": (422, "Unprocessable Entity", {"rule": "task.publish.deadline"}),
    "nonce": (409, "Conflict", {"rule": "statement.nonce"}),
    "missing": (404, "Not Found", {}),
    "usage": (400, "Bad Request", {}),
    "mismatch": (503, "Service Unavailable", {}),
    "node": (503, "Service Unavailable", {}),
    "format": (400, "Bad Request", {}),
    "verification": (422, "Unprocessable Entity", {}),
}


@pytest.mark.parametrize(("kind", "want"), DOMAIN.items(), ids=DOMAIN.keys())
def test_domain_errors_map_to_statuses(
    pclient: FlaskClient, kind: str, want: tuple[int, str, dict[str, str]]
) -> None:
    code, status, errors = want
    body = _json_error(pclient.get(f"/api/v1/probe/raise/{kind}"), code)
    assert body["status"] == status
    assert body["errors"] == errors
    error = _RAISED[kind]
    message = error.message if isinstance(error, RuleRejected) else str(error)
    assert body["message"].rstrip(".") == message.rstrip(".")


def test_a_crash_is_500_without_details(
    pclient: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = pclient.get("/api/v1/probe/raise/crash")
    body = _json_error(response, 500)
    assert body["status"] == "Internal Server Error"
    assert "secret" not in response.text
    assert "logged" in body["message"]
    assert "secret detail" in caplog.text  # the operator sees it in the log


def test_domain_errors_outside_the_api_are_text(client: FlaskClient) -> None:
    response = client.get(f"/logs/{'0' * 64}/checkpoint")
    assert response.status_code == 404
    assert response.text == f"404 Not Found: log {'0' * 64} is not stored on this node.\n"


def test_every_mapped_status_has_its_reason_phrase() -> None:
    from node.api import errors

    statuses = {status for _, status in errors._STATUS}
    assert statuses <= set(errors._REASONS)

"""The node's WSGI app: `create_app(node)` is the only place one is built.

What it sets up, and where it keeps it:

- the opened `LocalNode` in `app.extensions["rdh.node"]` (views use `current_node()`);
- the flask-smorest `Api` (title "rdh node API", version v1, OpenAPI 3.0.3, the document at
  `/api/v1/openapi.json`) in `app.extensions["rdh.api"]` (`api_of(app)`);
- the tlog-tiles read endpoints (`node.api.tiles`) and `GET /healthz`;
- the error handlers (`node.api.errors`): JSON `{code, status, message, errors}` under
  `/api/`, one line of text elsewhere, never a traceback;
- security headers on every response and a request body limit (`max_body`, 413 above it).

The JSON resources live in `node.api.v1` (installed by `create_app` with the app's
`NodeService`); each is a flask-smorest `Blueprint` whose `url_prefix` is relative to
`/api/v1` (e.g. `"/tasks"`), added with `register_v1(app, blueprint)`. Writing views wrap
themselves in `node.api.auth.admin_required`. `create_app` starts nothing (no scheduler, no thread):
`node.serve` does that.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, jsonify
from flask_smorest import Api, Blueprint
from sqlalchemy.exc import SQLAlchemyError

from node.api.errors import init_errors
from node.errors import NodeError
from node.local_node import LocalNode
from node.service import NodeService

__all__ = [
    "API_EXTENSION",
    "NODE_EXTENSION",
    "SECURITY_HEADERS",
    "V1_PREFIX",
    "api_of",
    "create_app",
    "current_node",
    "register_v1",
]

NODE_EXTENSION = "rdh.node"
API_EXTENSION = "rdh.api"
#: The JSON REST API's prefix; its OpenAPI document is `<V1_PREFIX>/openapi.json`.
V1_PREFIX = "/api/v1"
DEFAULT_MAX_BODY = 4 * 1024 * 1024

#: Set on every response that does not set its own value.
SECURITY_HEADERS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}


def create_app(
    node: LocalNode,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    extra: Mapping[str, Any] | None = None,
    service: NodeService | None = None,
) -> Flask:
    """The app serving `node` (which the caller opened and will close), with the v1 API of
    `service` (by default a `NodeService` of `node` on the system clock)."""
    # imported here: these modules import `current_node` (or `register_v1`) from this one
    from node.api.auth import ADMIN_SCHEME
    from node.api.tiles import tiles_blueprint
    from node.api.v1 import install_v1
    from node.api.witness import witness_blueprint

    app = Flask(__name__, static_folder=None)
    app.config.update(
        MAX_CONTENT_LENGTH=max_body,
        API_TITLE="rdh node API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=V1_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.config.update(extra or {})
    app.extensions[NODE_EXTENSION] = node
    api = Api(app)
    api.spec.components.security_scheme(ADMIN_SCHEME, {"type": "http", "scheme": "bearer"})
    app.extensions[API_EXTENSION] = api
    init_errors(app)
    app.register_blueprint(tiles_blueprint)
    app.register_blueprint(witness_blueprint)
    install_v1(app, service or NodeService(node, clock=_system_clock))
    app.add_url_rule("/healthz", "healthz", _healthz)
    app.after_request(_security_headers)
    return app


def _system_clock() -> datetime:
    return datetime.now(UTC)


def current_node() -> LocalNode:
    """The node of the app handling the current request."""
    node: LocalNode = current_app.extensions[NODE_EXTENSION]
    return node


def api_of(app: Flask) -> Api:
    """The flask-smorest `Api` of an app made by `create_app`."""
    api: Api = app.extensions[API_EXTENSION]
    return api


def register_v1(app: Flask, blueprint: Blueprint, **options: Any) -> None:
    """Add a JSON resource blueprint under `/api/v1` (its own `url_prefix` is appended)."""
    prefix = V1_PREFIX + (blueprint.url_prefix or "")
    api_of(app).register_blueprint(blueprint, url_prefix=prefix, **options)


def _healthz() -> tuple[Response, int]:
    """`{ok, log, size}`: the node's log and its signed size, 503 if the database fails."""
    store = current_node().store
    try:
        size: int | None = store.size
    except (SQLAlchemyError, NodeError) as e:
        current_app.logger.error("health check failed: %s", e)
        return jsonify(ok=False, log=store.log_id, size=None), 503
    return jsonify(ok=True, log=store.log_id, size=size), 200


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response

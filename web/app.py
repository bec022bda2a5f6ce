"""Composition of the node's app with the web UI: `create_web_app(node)`.

The layers run `web -> node -> contracts -> ledger` (pyproject's import-linter contract),
so `node` never imports `web`. The web UI is therefore added where the app is assembled,
from above: `create_web_app` builds the node's app with `node.api.app.create_app` and then
installs the UI on it (`install_web`). What runs it:

- `rdh serve`: the `rdh` command table names `web.cli:serve_command` (a lazy, by-name
  lookup like every other command), which is `node.cli.serve.make_serve_command` given
  `create_web_app` as its app factory;
- gunicorn: `web.app:wsgi_app()` (`node.serve.wsgi_app` with the same factory).

`install_web` adds the `web` blueprint under `/ui` (and `/` -> `/ui/market`), the session
and CSRF set-up, the stricter CSP and the rate limits (`web.security`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, redirect, url_for
from werkzeug.wrappers import Response

from node.api.app import DEFAULT_MAX_BODY, create_app
from node.local_node import LocalNode
from node.serve import wsgi_app as node_wsgi_app
from node.service import NodeService

__all__ = ["create_web_app", "install_web", "wsgi_app"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def install_web(app: Flask, node: LocalNode) -> None:
    """Add the web UI to an app made by `node.api.app.create_app` for `node`."""
    # imported here: each module adds its routes to the blueprint as it is imported
    import web.explorer
    import web.lead
    import web.market
    import web.shares
    import web.worker  # noqa: F401
    from web.blueprint import web_blueprint
    from web.security import init_security

    init_security(app, node)
    app.register_blueprint(web_blueprint)
    app.add_url_rule("/", "web_root", _root)


def _root() -> Response:
    return redirect(url_for("web.market"))


def create_web_app(
    node: LocalNode,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    extra: Mapping[str, Any] | None = None,
    service: NodeService | None = None,
) -> Flask:
    """The node's app (`node.api.app.create_app`) with the web UI installed."""
    app = create_app(
        node,
        max_body=max_body,
        extra=extra,
        service=service or NodeService(node, clock=_utc_now),
    )
    install_web(app, node)
    return app


def wsgi_app(env: Mapping[str, str] | None = None) -> Flask:
    """The app with the web UI of the node in `$RDH_NODE_DIR`, for gunicorn."""
    return node_wsgi_app(env, app_factory=create_web_app)

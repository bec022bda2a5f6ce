"""Running the node's app: waitress for `rdh serve`, `wsgi_app()` for gunicorn.

`serve(node, ...)` makes one `NodeService` (clock: UTC now; its write path in a process of
its own unless `server.writer = "thread"`: `node.writer_process`), builds the app over it
(`node.api.create_app`), binds a waitress server, starts the `NodeScheduler` with every
registered job on the same service, and serves until SIGINT or SIGTERM; then it stops
the scheduler (running jobs finish) and closes the server. The caller opened the node and
closes it (`rdh serve` does both, in `node.cli.serve`).

`wsgi_app()` is the composition root for other WSGI servers, e.g. several gunicorn workers
on one PostgreSQL database: it reads the node directory from `RDH_NODE_DIR`, opens the node
(refusing a store that does not match its last signed checkpoint) and returns the app. It
runs no scheduler: one `rdh serve` (or a later `rdh jobs`) must run the jobs.
"""

from __future__ import annotations

import atexit
import os
import signal
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from flask import Flask

from node.api.app import DEFAULT_MAX_BODY, create_app
from node.errors import UsageError
from node.http_server import create_http_server
from node.local_node import LocalNode, open_node
from node.scheduler import NodeScheduler, node_jobs
from node.service import NodeService
from node.settings import load_settings
from node.writer_process import WriterProcess

__all__ = ["NODE_DIR_ENV", "AppFactory", "serve", "wsgi_app"]

#: The environment variable `wsgi_app()` reads the node directory from.
NODE_DIR_ENV = "RDH_NODE_DIR"
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Builds the app of an opened node: `node.api.app.create_app`, or a caller's composition
#: on top of it (e.g. `web.app.create_web_app`, which adds the web UI; node never imports it).
AppFactory = Callable[..., Flask]


class _Stop(KeyboardInterrupt):
    """Raised in the main thread by SIGINT or SIGTERM (waitress stops its loop on it)."""


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def _bound_port(server: Any) -> int:
    """The port waitress bound (one socket, or the first of several for a name like localhost)."""
    listen = getattr(server, "effective_listen", None)
    return int(listen[0][1] if listen else server.effective_port)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve(
    node: LocalNode,
    *,
    host: str,
    port: int,
    threads: int,
    announce: Callable[[str], None] = print,
    max_body: int = DEFAULT_MAX_BODY,
    app_factory: AppFactory = create_app,
) -> None:
    """Serve `node` on `host`:`port` (0: any free port) until SIGINT or SIGTERM, with the
    app `app_factory(node, max_body=..., service=...)` builds."""
    writer = None
    if node.settings.writer == "process":
        writer = WriterProcess(node.settings, node.store.key)
        writer.start()  # it opens the node in the background; the first write waits for it
    service = NodeService(node, clock=_utc_now, recorder=writer)
    app = app_factory(node, max_body=max_body, service=service)
    server = create_http_server(
        app,
        host=host,
        port=port,
        threads=threads,
        # bodies up to twice the app's limit reach the app (a JSON 413); larger ones are
        # refused by waitress before they are buffered
        max_request_body_size=2 * max_body,
    )
    scheduler = NodeScheduler(node_jobs(service))
    previous = {sig: signal.signal(sig, _stop) for sig in _STOP_SIGNALS}
    try:
        scheduler.start()
        announce(_url(host, _bound_port(server)))
        server.run()
    except _Stop:
        pass
    finally:
        for sig in _STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)  # a second signal must not cut the clean-up short
        try:
            scheduler.shutdown()
            server.close()
            if writer is not None:
                writer.close()  # after the commit in progress
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def wsgi_app(
    env: Mapping[str, str] | None = None, *, app_factory: AppFactory = create_app
) -> Flask:
    """The app of the node in `$RDH_NODE_DIR`, for a WSGI server such as gunicorn."""
    env = os.environ if env is None else env
    node_dir = env.get(NODE_DIR_ENV)
    if not node_dir:
        raise UsageError(f"set {NODE_DIR_ENV} to the node's directory (made by `rdh init`)")
    node = open_node(load_settings(Path(node_dir), env))
    atexit.register(node.close)
    return app_factory(node)

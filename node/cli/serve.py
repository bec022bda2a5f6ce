"""`rdh serve` (run the node's HTTP server) and `rdh token ...` (the admin tokens it checks).

`rdh serve` opens the node (refusing, with exit status 2, a database that does not match its
last signed checkpoint), prints the URL it listens on, runs the app with waitress and the
scheduled jobs, and stops cleanly (exit 0) on Ctrl-C or SIGTERM. Host, port and threads
come from the settings (`[server]`), overridable with options.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import click

from node.api.app import create_app
from node.cli.options import node_dir_option, settings_of
from node.local_node import open_node
from node.serve import AppFactory, serve
from node.settings import MAX_THREADS
from node.tokens import create_token, list_tokens, revoke_token

__all__ = ["make_serve_command", "serve_command", "token_group"]


def make_serve_command(app_factory: AppFactory = create_app) -> click.Command:
    """`rdh serve` serving the app `app_factory` builds (the web package passes its own,
    which adds the web UI: `web.cli`)."""

    @click.command("serve")
    @node_dir_option
    @click.option("--host", help="Listen on this address (default: server.host, 127.0.0.1).")
    @click.option(
        "--port",
        type=click.IntRange(0, 65535),
        help="Listen on this port (default: server.port, 8470; 0 picks a free port).",
    )
    @click.option(
        "--threads", type=click.IntRange(1, MAX_THREADS), help="Request threads (server.threads)."
    )
    def serve_command(
        node_dir: Path, host: str | None, port: int | None, threads: int | None
    ) -> None:
        """Serve the node: tlog-tiles, the JSON API and the web UI, plus its scheduled jobs."""
        settings = settings_of(node_dir)
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        for noisy in ("apscheduler", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        node = open_node(settings)
        try:

            def announce(url: str) -> None:
                click.echo(f"serving log {node.store.log_id} at {url} (Ctrl-C to stop)")

            serve(
                node,
                host=host or settings.host,
                port=settings.port if port is None else port,
                threads=threads or settings.threads,
                announce=announce,
                app_factory=app_factory,
            )
        finally:
            node.close()
        click.echo("stopped")

    return serve_command


#: `rdh serve` without the web UI (the `rdh` group uses `web.cli.serve_command`).
serve_command = make_serve_command()


@click.group("token")
def token_group() -> None:
    """Admin API tokens: create, list, revoke (a token is shown once, stored hashed)."""


@token_group.command("create")
@node_dir_option
@click.option("--label", default="admin", show_default=True, help="What the token is for.")
def token_create(node_dir: Path, label: str) -> None:
    """Make a new admin token and print it (store it now; it is shown once)."""
    node = open_node(settings_of(node_dir))
    try:
        token = create_token(node.sessions, label, datetime.now(UTC))
    finally:
        node.close()
    click.echo(f"admin token {label!r} (store it now; it is shown once):", err=True)
    click.echo(token)


@token_group.command("list")
@node_dir_option
def token_list(node_dir: Path) -> None:
    """List the admin tokens: id, creation time, label (never the tokens)."""
    node = open_node(settings_of(node_dir))
    try:
        tokens = list_tokens(node.sessions)
    finally:
        node.close()
    for info in tokens:
        click.echo(f"{info.id}\t{info.created}\t{info.label}")
    if not tokens:
        click.echo("no admin tokens (make one with `rdh token create`)", err=True)


@token_group.command("revoke")
@node_dir_option
@click.argument("token_id", type=int)
def token_revoke(node_dir: Path, token_id: int) -> None:
    """Revoke admin token TOKEN_ID (see `rdh token list`); it stops working at once."""
    node = open_node(settings_of(node_dir))
    try:
        info = revoke_token(node.sessions, token_id)
    finally:
        node.close()
    click.echo(f"revoked token {info.id} ({info.label})")

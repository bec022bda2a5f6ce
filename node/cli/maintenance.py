"""`rdh reindex`: rebuild the database's indexes, tiles and nonces from the entry bytes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from node.cli.options import node_dir_option, settings_of
from node.local_node import open_node
from node.reindex import reindex

__all__ = ["reindex_command"]


@click.command("reindex")
@node_dir_option
def reindex_command(node_dir: Path) -> None:
    """Rebuild tiles, entry indexes and statement nonces from the stored entries.

    Checks that the entries reproduce every signed checkpoint first; if they do not,
    nothing is changed. Stop `rdh serve` first (writes wait while it runs).
    """
    node = open_node(settings_of(node_dir), check_store=False)
    shown = sys.stderr.isatty()

    def progress(log: str, done: int, total: int) -> None:
        if shown:
            click.echo(f"\r  log {log[:16]}…  {done:,}/{total:,} entries", err=True, nl=False)

    try:
        report = reindex(node.sessions, progress=progress)
    finally:
        node.close()
    if shown:
        click.echo(err=True)
    for log in report.logs:
        click.echo(
            f"log {log.log}: {log.entries:,} entries, {log.checkpoints:,} checkpoints verified, "
            f"{log.tiles:,} tiles, {log.nonces:,} nonces rebuilt"
            + (f", {log.fixed_index_rows:,} index rows fixed" if log.fixed_index_rows else "")
        )
    click.echo(
        f"contract state: {report.violations:,} rule violations, {report.pending:,} pending entries"
    )

"""What the node's commands share: the `--node-dir` option, the settings built from it and
the process environment (here, at the composition root), and the clock."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from node.settings import Settings, load_settings

__all__ = ["node_dir_option", "now", "settings_of"]

node_dir_option = click.option(
    "--node-dir",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The node's directory (rdh.toml, node.key, rdh.db).",
)


def settings_of(node_dir: Path) -> Settings:
    """The settings of the node in `node_dir`, with the process's `RDH_*` overrides."""
    return load_settings(node_dir, os.environ)


def now() -> datetime:
    return datetime.now(UTC)

"""`rdh example DIR`: write a small, genuinely signed example ecosystem bundle."""

from __future__ import annotations

from pathlib import Path

import click

from node.bundle_files import new_bundle
from node.example import build_example

__all__ = ["example_command"]


@click.command("example")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUT if it is an existing bundle.")
def example_command(out: Path, force: bool) -> None:
    """Write an example ecosystem bundle to OUT (a directory, or a file ending in .zip).

    Three micro-communities with their workers' signed statements, cross-witnessed, with a
    2-of-3 witness policy. Audit it with `rdh audit OUT`.
    """
    with new_bundle(out, force=force) as sink:
        example = build_example(sink)
    total = sum(log.size for log in example.manifest.logs)
    click.echo(
        f"wrote {out}: {len(example.manifest.logs)} communities, {total} entries, "
        f"{example.statements} worker statements"
    )
    for log in example.manifest.logs:
        click.echo(f"  {example.names[log.id]:<24} log {log.id[:16]}…  {log.size} entries")

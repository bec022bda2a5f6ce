"""`rdh demo`: three community nodes on 127.0.0.1, seeded through the real API."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

import click

from node.demo.cluster import DemoNode, converged, peer_all, start_node, stop_nodes
from node.demo.seed import COMMUNITIES, seed

__all__ = ["demo_command"]


class _Stop(Exception):  # noqa: N818 (a signal, not an error)
    pass


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


@click.command("demo")
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the nodes here (default: a temporary folder, removed on exit).",
)
@click.option(
    "--export",
    "export_to",
    type=click.Path(path_type=Path),
    help="Write an audit bundle here once seeded (a directory, or a file ending in .zip).",
)
@click.option("--no-wait", is_flag=True, help="Stop once seeded (and exported) instead of serving.")
def demo_command(root: Path | None, export_to: Path | None, no_wait: bool) -> None:
    """Start a living ecosystem: a design studio, a workshop and a sales community, each a
    node on 127.0.0.1, with workers, tasks in every state and a settled revenue share.

    Stops cleanly on Ctrl-C.
    """
    temporary = root is None
    base = Path(tempfile.mkdtemp(prefix="rdh-demo-")) if root is None else root
    if not temporary and base.exists() and any(base.iterdir()):
        raise click.UsageError(f"{base} is not empty: give --dir an empty or new folder")
    base.mkdir(parents=True, exist_ok=True)
    nodes: list[DemoNode] = []
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for community in COMMUNITIES:
            nodes.append(start_node(community, base))
            click.echo(f"started {community.name} at {nodes[-1].url}", err=True)
        peer_all(nodes)
        click.echo("each node follows and witnesses the other two", err=True)
        started = time.monotonic()
        report = seed(nodes, progress=lambda line: click.echo(f"  {line}", err=True))
        click.echo(
            f"seeded {report.entries} entries in {time.monotonic() - started:.1f} s", err=True
        )
        if not converged(nodes, cosignatures=len(nodes) - 1):
            raise click.ClickException(
                "the nodes did not converge within two minutes; see serve.log in each node's folder"
            )
        click.echo(
            "converged: every node holds all three logs, each checkpoint cosigned by the other two",
            err=True,
        )
        if export_to is not None:
            _export(nodes[0], export_to)
        _announce(nodes, report.workers[0].name)
        if not no_wait:
            while all(node.process.poll() is None for node in nodes):
                time.sleep(0.5)
            click.echo("a demo node stopped; stopping the others", err=True)
    except _Stop:
        click.echo("stopping", err=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_nodes(nodes)
        if temporary:
            shutil.rmtree(base, ignore_errors=True)


def _export(node: DemoNode, out: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RDH_")}
    command = [sys.executable, "-c", "from node.cli import main; main()"]
    result = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [*command, "export", "-d", str(node.node_dir), str(out), "--force"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise click.ClickException(f"export failed: {result.stderr.strip()}")
    click.echo(f"wrote {out}: check it with `rdh audit {out}`", err=True)


def _announce(nodes: list[DemoNode], worker: str) -> None:
    click.echo("")
    click.echo("The ecosystem is running:")
    for node in nodes:
        click.echo(f"  {node.community.name:<24} {node.url}/")
        click.echo(f"  {'':<24} lead token: {node.token}")
    click.echo("")
    click.echo("Lead: sign in to a node's web UI with its lead token, or use the CLI, e.g.")
    click.echo(f"  rdh task list --node {nodes[0].url}")
    click.echo(f"  rdh share show --node {nodes[0].url} <agreement id>")
    click.echo(
        f"Worker: open {nodes[0].url}/ in a browser, create a key and browse the marketplace "
        f"(the seeded workers, such as {worker}, keep their keys in the seeder)."
    )
    click.echo(
        "Auditor: rdh demo --export bundle.zip --no-wait, then "
        "rdh audit bundle.zip --policy <the bundle's policy>"
    )
    click.echo("Ctrl-C stops every node.")

"""`rdh init`, `rdh status`, `rdh export`: create, check and export the node's logs.

Each command builds the `Settings` from the node directory (`--node-dir`, default the
current directory) and the process environment, here at the composition root; everything
below receives the settings.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from ledger.checkpoint import Checkpoint
from ledger.keys import encode_base64
from ledger.statement import format_time
from node.bundle_files import new_bundle
from node.cli.options import node_dir_option, now, settings_of
from node.export import export_ledger, node_policy
from node.local_node import LocalNode, init_node, open_node
from node.own_log import LOG_KINDS, Genesis
from node.tokens import create_token
from node.witness import NodeWitness

__all__ = ["export_command", "init_command", "status_command"]


@click.command("init")
@node_dir_option
@click.option("--name", required=True, help="The community's name.")
@click.option("--kind", type=click.Choice(LOG_KINDS), default="micro-enterprise", show_default=True)
@click.option("--description", default="", help="What the community does.")
@click.option("--url", default="", help="The community's public URL.")
@click.option(
    "--passphrase",
    is_flag=True,
    help="Encrypt the key file with a passphrase asked for here (or set RDH_KEY_PASSPHRASE); "
    "the node then needs it to start (RDH_KEY_PASSPHRASE or key.passphrase_file).",
)
def init_command(
    node_dir: Path, name: str, kind: str, description: str, url: str, passphrase: bool
) -> None:
    """Create a node: a new key, the database, its log's genesis entry and an admin token.

    The token is printed once, last, as a line `RDH_ADMIN_TOKEN=<token>` for scripts.
    """
    settings = settings_of(node_dir)
    if passphrase and settings.key_passphrase is None:
        typed = click.prompt(
            "Passphrase for the key file", hide_input=True, confirmation_prompt=True, err=True
        )
        if not typed:
            raise click.UsageError("an empty passphrase protects nothing")
        settings = dataclasses.replace(settings, key_passphrase=typed.encode())
    genesis = Genesis(name=name, kind=kind, description=description, url=url)
    node, result = init_node(settings, genesis, now())
    try:
        token = create_token(node.sessions, "admin (rdh init)", now())
        click.echo(f"created log {node.store.log_id}")
        click.echo(f"  key file   {settings.key_file} (mode 0600; keep a backup)")
        click.echo(f"  vkey       {node.store.vkey}")
        click.echo(f"  checkpoint size {result.size}")
        click.echo("admin API token (store it now; it is shown once; `rdh token` manages them):")
        click.echo(f"RDH_ADMIN_TOKEN={token}")
    finally:
        node.close()


@click.command("status")
@node_dir_option
@click.option("--full", is_flag=True, help="Also rehash every entry and compare every tile.")
def status_command(node_dir: Path, full: bool) -> None:
    """Check the database against the last signed checkpoint and show the log's head, its
    cosignatures, the mirrored logs, the peers and any equivocation evidence."""
    node = open_node(settings_of(node_dir), full_check=full)
    try:
        note = node.store.checkpoint()
        checkpoint = Checkpoint.from_note(note)
        click.echo(f"log        {node.store.log_id}")
        click.echo(f"vkey       {node.store.vkey}")
        click.echo(f"database   {node.engine.url.render_as_string(hide_password=True)}")
        click.echo(f"size       {checkpoint.size}")
        click.echo(f"root       {encode_base64(checkpoint.root)}")
        click.echo(
            f"store      matches the last signed checkpoint{' (full check)' if full else ''}"
        )
        _federation_status(node, note)
    finally:
        node.close()


def _federation_status(node: LocalNode, note: bytes) -> None:
    from ledger.note import Note
    from node.db.models import LogRow
    from node.evidence_store import list_evidence
    from node.peers import list_peers

    witness = NodeWitness(node, now)
    cosigners = [s.name for s in Note.from_bytes(note).signatures[1:]]
    click.echo(f"witness    {witness.vkey}")
    click.echo(f"cosigned   {len(cosigners)}: {', '.join(cosigners) if cosigners else '-'}")
    with node.sessions.begin() as session:
        mirrored = session.query(LogRow).filter(LogRow.local.is_(False)).count()
        evidence = list_evidence(session)
    peers = list_peers(node.sessions)
    failing = [p for p in peers if p.failures]
    click.echo(f"mirrored   {mirrored} log(s)")
    click.echo(f"peers      {len(peers)} ({len(failing)} failing)")
    for peer in failing:
        click.echo(f"  failing  {peer.url}: {peer.last_error}")
    click.echo(f"evidence   {len(evidence)}")
    for item in evidence:
        click.echo(f"  EQUIVOCATION by log {item.log_id} (rdh export includes the evidence)")


@click.command("export")
@node_dir_option
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@click.option(
    "--log",
    "log_ids",
    multiple=True,
    metavar="ID",
    help="Export only this log (repeatable; default: every stored log).",
)
@click.option(
    "--quorum",
    help="The policy's quorum over the node's witnesses: none, any, all or a number k "
    "(default: any, or none for a node without witness peers).",
)
def export_command(
    node_dir: Path, out: Path, force: bool, log_ids: tuple[str, ...], quorum: str | None
) -> None:
    """Export the stored logs as an audit bundle OUT (a directory, or a file ending in .zip),
    with their cosigned checkpoints, a witness policy and any equivocation evidence."""
    node = open_node(settings_of(node_dir))
    bar = None
    try:
        policy = node_policy(node.sessions, NodeWitness(node, now).cosigner, quorum=quorum)

        def on_start(total: int) -> None:
            nonlocal bar
            if sys.stderr.isatty():
                bar = click.progressbar(length=total, label="exporting", file=sys.stderr)
                bar.__enter__()

        def progress(entries: int) -> None:
            if bar is not None:
                bar.update(entries)

        with new_bundle(out, force=force) as sink:
            result = export_ledger(
                node.sessions,
                sink,
                log_ids=list(log_ids) or None,
                policy=policy,
                exported_at=format_time(now()),
                progress=progress,
                on_start=on_start,
            )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        node.close()
    logs = result.manifest.logs
    entries = sum(log.size for log in logs)
    click.echo(
        f"wrote {out}: {len(logs)} log(s), {entries} entries, {result.evidence} evidence file(s), "
        f"policy quorum {policy.quorum if not policy.groups else policy.groups[0].rule}"
    )
    for log_id in result.short_of_quorum:
        click.echo(
            f"rdh: warning: the checkpoint of log {log_id} does not meet the policy's quorum "
            "(yet): it fails `rdh audit --policy`; wait for cosignatures or lower --quorum",
            err=True,
        )

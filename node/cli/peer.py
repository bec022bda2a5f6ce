"""`rdh peer add|list` (the nodes this one federates with) and `rdh sync` (pull now).

`rdh peer add URL` asks the peer which logs it serves, checks every log's key against its
id, reads the peer's witness key and stores the peer; the scheduler of `rdh serve` then
pulls from it and pushes checkpoints to it. `rdh sync` pulls from every peer at once
(also from backed-off ones) and prints what it stored.
"""

from __future__ import annotations

from pathlib import Path

import click

from node.cli.options import node_dir_option, now, settings_of
from node.local_node import open_node
from node.peers import DEFAULT_DEADLINE, HttpTransport, add_peer, list_peers
from node.projection import Projection
from node.sync import DEFAULT_BATCH, Syncer

__all__ = ["peer_group", "sync_command"]


@click.group("peer")
def peer_group() -> None:
    """The peers this node pulls logs from and asks to witness its checkpoints."""


@peer_group.command("add")
@node_dir_option
@click.argument("url")
@click.option(
    "--witness/--no-witness",
    default=True,
    show_default=True,
    help="Push this node's checkpoints to the peer for cosigning (and list it in the policy).",
)
def peer_add(node_dir: Path, url: str, witness: bool) -> None:
    """Add the peer node at URL (after checking the logs it serves)."""
    node = open_node(settings_of(node_dir))
    transport = HttpTransport()
    try:
        peer, logs = add_peer(
            node.sessions, transport, url, now(), own_log=node.store.log_id, witness=witness
        )
    finally:
        transport.close()
        node.close()
    click.echo(f"added peer {peer.url} (log {peer.log_id})")
    click.echo(f"  witness key  {peer.witness_vkey}{'' if witness else ' (not asked to witness)'}")
    for log in logs:
        click.echo(f"  serves log   {log.id} size {log.size}")


@peer_group.command("list")
@node_dir_option
def peer_list(node_dir: Path) -> None:
    """List the peers: URL, log, witness, last sync and any failure."""
    node = open_node(settings_of(node_dir))
    try:
        peers = list_peers(node.sessions)
    finally:
        node.close()
    if not peers:
        click.echo("no peers (add one with `rdh peer add URL`)", err=True)
    for peer in peers:
        state = "ok" if not peer.failures else f"failing x{peer.failures}: {peer.last_error}"
        witness = f"witness (cosigned our size {peer.witness_size})" if peer.witness else "-"
        last = peer.last_sync or "never"
        click.echo(f"{peer.url}\t{peer.log_id}\t{witness}\tlast sync {last}\t{state}")


@click.command("sync")
@node_dir_option
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 600),
    default=DEFAULT_DEADLINE,
    show_default=True,
    help="Seconds one request to a peer may take, answer included.",
)
@click.option(
    "--batch-entries",
    type=click.IntRange(256, 1 << 20),
    default=DEFAULT_BATCH,
    show_default=True,
    help="Entries stored per transaction (an interrupted sync resumes after the last one).",
)
def sync_command(node_dir: Path, timeout: float, batch_entries: int) -> None:
    """Pull every log and all evidence from every peer now (backed-off ones too)."""
    node = open_node(settings_of(node_dir))
    transport = HttpTransport(deadline=timeout)
    try:
        report = Syncer(
            node,
            clock=now,
            transport=transport,
            projection=Projection(),
            batch_entries=batch_entries,
        ).sync_all(force=True)
    finally:
        transport.close()
        node.close()
    failed = 0
    for peer in report.peers:
        if peer.error:
            failed += 1
            click.echo(f"{peer.url}: failed: {peer.error}", err=True)
            continue
        moved = [o for o in peer.logs if o.after > o.before]
        forks = [o for o in peer.logs if o.status == "fork"]
        click.echo(
            f"{peer.url}: {len(peer.logs)} log(s), {len(moved)} updated, "
            f"{sum(o.after - o.before for o in moved)} entries, {peer.evidence} new evidence"
        )
        for o in moved:
            click.echo(f"  log {o.log_id}: {o.before} -> {o.after}")
        for o in forks:
            click.echo(f"  log {o.log_id}: EQUIVOCATION, evidence stored")
        for o in peer.logs:
            for item in o.flagged:
                click.echo(f"  log {o.log_id}: flagged: {item}")
    if not report.peers:
        click.echo("no peers (add one with `rdh peer add URL`)", err=True)
    if failed:
        raise SystemExit(1)

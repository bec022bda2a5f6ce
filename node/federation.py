"""The scheduler's federation jobs: pull from peers (`sync`) and collect cosignatures
(`witness`). Registered at import (`node.serve` imports this module); each run is one
call, with its own HTTP connections, and never overlaps itself (`node.scheduler`)."""

from __future__ import annotations

import logging

from node.peers import HttpTransport
from node.scheduler import register_job
from node.service import NodeService
from node.sync import Syncer
from node.witness import NodeWitness

__all__ = ["SYNC_INTERVAL", "WITNESS_INTERVAL"]

log = logging.getLogger("rdh.sync")

#: Seconds between two pulls from the peers (a backed-off peer waits longer).
SYNC_INTERVAL = 5
#: Seconds between two pushes of the node's latest checkpoint to its witness peers.
WITNESS_INTERVAL = 5


@register_job("sync", interval_seconds=SYNC_INTERVAL)
def _sync(service: NodeService) -> None:
    """Pull every log and the evidence of every peer that is not backed off."""
    transport = HttpTransport()
    try:
        report = Syncer(
            service.node, clock=service.clock, transport=transport, projection=service.projection
        ).sync_all()
    finally:
        transport.close()
    if report.entries:
        log.info("pulled %d entries from %d peer(s)", report.entries, len(report.peers))


@register_job("witness", interval_seconds=WITNESS_INTERVAL)
def _witness(service: NodeService) -> None:
    """Push the node's latest checkpoint to its witness peers for their cosignatures."""
    transport = HttpTransport()
    try:
        NodeWitness(service.node, service.clock).push_checkpoints(transport)
    finally:
        transport.close()

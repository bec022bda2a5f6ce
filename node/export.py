"""Export logs from the database as an audit bundle (DESIGN §4.4).

`export_ledger` writes every stored log (or the chosen ones) at its last signed checkpoint:
the stored hash tiles, the entry bundles made from the stored entry bytes and the
checkpoint note *with the cosignatures collected* (node.witness), each log read in one
transaction so its files describe one tree; then the stored equivocation evidence
(`evidence/<n>.txt`), an optional C2SP tlog-policy (`node_policy`) and the manifest.
`ledger.audit.audit` verifies the result. Where the files go is a `ledger.bundle.BundleSink`
(`node.bundle_files` has the directory and zip ones); progress is reported in entries.

`node_policy` is the policy the node stands behind (ADR 0006): every witness it knows (its
own witness key, which cosigns the logs it mirrors, and its witness peers' keys, which
cosign its own log) in one group, with a quorum of `any` by default (`none` for a node
without witness peers; `all`, `none` or a number `k` on request). It confers no trust on a
reader (ADR 0002); an auditor passes the policy they trust to `rdh audit --policy`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger import bundle
from ledger.cosignature import CosignerKey
from ledger.errors import LedgerError
from ledger.note import NoteVerifier
from ledger.policy import NONE, Policy, PolicyGroup, PolicyWitness
from ledger.tiles import entry_bundles_for_size, tiles_for_size
from ledger.types import LogId
from node.db.models import LogRow, PeerRow
from node.errors import NotFoundError, UsageError
from node.evidence_store import list_evidence
from node.log_reader import LogReader
from node.store import LogStore

__all__ = ["EXPORTER", "Export", "export_bundle", "export_ledger", "node_policy"]

EXPORTER = "rdh node"
#: The group of every witness in a node's policy.
WITNESS_GROUP = "witnesses"

Progress = Callable[[int], None]


@dataclass(slots=True)
class Export:
    """What was exported: the manifest, how many evidence files, and the logs whose
    checkpoint does not meet the policy's quorum (if a policy was written)."""

    manifest: bundle.Manifest
    evidence: int = 0
    short_of_quorum: list[str] = field(default_factory=list)


def node_policy(
    sessions: sessionmaker[Session], own: CosignerKey, *, quorum: str | None = None
) -> Policy:
    """The node's witnesses (its own and its witness peers') with `quorum` over all of them:
    `none`, `any`, `all` or a number k (1 <= k <= number of witnesses). The default is
    `any` when the node has witness peers and `none` when it has none (nobody cosigns its
    own log then)."""
    keys = [own]
    with sessions.begin() as session:
        vkeys = session.execute(
            select(PeerRow.witness_vkey).where(PeerRow.witness).order_by(PeerRow.id)
        ).scalars()
        for vkey in vkeys:
            if vkey:
                key = CosignerKey.from_vkey(vkey)
                if all(k.public_key.to_bytes() != key.public_key.to_bytes() for k in keys):
                    keys.append(key)
    witnesses = tuple(PolicyWitness(f"w{n}", key) for n, key in enumerate(keys))
    if quorum is None:
        quorum = "any" if len(keys) > 1 else NONE
    if quorum == NONE:
        return Policy(witnesses=witnesses, quorum=NONE)
    if quorum not in ("any", "all") and not (quorum.isdigit() and 1 <= int(quorum) <= len(keys)):
        raise UsageError(
            f"the quorum is none, any, all or a number from 1 to {len(keys)} "
            f"(the witnesses this node knows), not {quorum!r}"
        )
    group = PolicyGroup(WITNESS_GROUP, quorum, tuple(w.name for w in witnesses))
    return Policy(witnesses=witnesses, groups=(group,), quorum=WITNESS_GROUP)


def _chosen(session: Session, log_ids: Sequence[str] | None) -> list[LogRow]:
    rows = list(session.execute(select(LogRow).order_by(LogRow.local.desc(), LogRow.id)).scalars())
    if log_ids is None:
        return [row for row in rows if row.size > 0]
    by_id = {row.id: row for row in rows}
    chosen = []
    for log_id in dict.fromkeys(log_ids):
        row = by_id.get(log_id)
        if row is None or row.size == 0:
            raise NotFoundError(f"log {log_id} is not stored on this node (see `rdh status`)")
        chosen.append(row)
    return chosen


def export_ledger(
    sessions: sessionmaker[Session],
    sink: bundle.BundleSink,
    *,
    log_ids: Sequence[str] | None = None,
    policy: Policy | None = None,
    exported_at: str | None = None,
    progress: Progress | None = None,
    on_start: Callable[[int], None] | None = None,
) -> Export:
    """Write the chosen logs (default: every stored log), the evidence about them and the
    policy into `sink`; `on_start(total entries)` first, then `progress(entries)` per bundle."""
    with sessions.begin() as session:
        logs = [(LogId(row.id), row.size) for row in _chosen(session, log_ids)]
    if on_start is not None:
        on_start(sum(size for _, size in logs))
    infos = []
    short: list[str] = []
    for log_id, _ in logs:
        info, note = _export_log(sessions, sink, log_id, progress)
        infos.append(info)
        if policy is not None:
            try:
                policy.verify_checkpoint(note, log=NoteVerifier.from_vkey(info.vkey))
            except LedgerError:
                short.append(log_id)
    exported = {info.id for info in infos}
    with sessions.begin() as session:
        items = [e for e in list_evidence(session) if e.log_id in exported]
    for n, item in enumerate(items):
        sink.write(f"{bundle.EVIDENCE_PREFIX}{n}.txt", item.item.to_bytes())
    if policy is not None:
        sink.write(bundle.POLICY, policy.to_bytes())
    manifest = bundle.Manifest(exporter=EXPORTER, exported_at=exported_at, logs=tuple(infos))
    sink.write(bundle.MANIFEST, manifest.to_bytes())
    return Export(manifest, len(items), short)


def _export_log(
    sessions: sessionmaker[Session],
    sink: bundle.BundleSink,
    log_id: LogId,
    progress: Progress | None,
) -> tuple[bundle.LogInfo, bytes]:
    """One log at its last signed checkpoint, read in one transaction."""
    with sessions.begin() as session:
        reader = LogReader(session, log_id)
        log = reader.log()
        stored = reader.checkpoint()
        prefix = bundle.log_prefix(log_id)
        for ref in tiles_for_size(stored.size):
            sink.write(prefix + ref.path, reader.read_tile(ref))
        for ref in entry_bundles_for_size(stored.size):
            sink.write(prefix + ref.path, reader.entry_bundle(ref.index, ref.width))
            if progress is not None:
                progress(ref.width)
        sink.write(bundle.checkpoint_path(log_id), stored.note)
        info = bundle.LogInfo(id=log_id, origin=log.origin, vkey=log.vkey, size=stored.size)
    return info, stored.note


def export_bundle(
    store: LogStore, sink: bundle.BundleSink, *, exported_at: str | None = None
) -> bundle.Manifest:
    """Write the node's own log (only) into `sink`; return the manifest."""
    sessions = store._sessions  # the store's own database
    return export_ledger(sessions, sink, log_ids=[store.log_id], exported_at=exported_at).manifest

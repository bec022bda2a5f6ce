"""Equivocation evidence in the node's database (DESIGN §2.4, §6; protocol §13).

Two signed checkpoints of one origin with no consistency proof between them are kept in
the `evidence` table (`EvidenceRow`: origin and the two notes), once per pair of tree
heads. They come from three places: `node.sync` (a peer serves a checkpoint that does not
extend, or is not a prefix of, the tree this node holds), `node.witness` (a checkpoint
submitted for cosigning that contradicts the one the witness cosigned) and other nodes'
`GET /evidence` (`pull_evidence`). Only evidence about a log the node stores is kept (the
log's key comes from its `logs` row), and only evidence whose both notes verify under that
key (`ledger.evidence.check_equivocation`). Serving it is `node.api.witness`; judging it
offline is the auditor's (`ledger.audit`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.checkpoint import Checkpoint, log_id_from_origin
from ledger.errors import LedgerError
from ledger.evidence import Equivocation, check_equivocation
from ledger.note import Note
from ledger.types import Hash, LogId
from node.db.engine import WRITE_LOCK
from node.db.models import EvidenceRow, LogRow
from node.errors import NotFoundError
from node.log_reader import LogReader
from node.peers import MAX_LISTING_BYTES, PeerFault, Transport, get_ok

__all__ = ["StoredEvidence", "list_evidence", "pull_evidence", "record_evidence"]

log = logging.getLogger("rdh.evidence")


@dataclass(frozen=True, slots=True)
class StoredEvidence:
    """One piece of stored evidence: its row id, the log, and the evidence file."""

    id: int
    log_id: LogId
    item: Equivocation

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "log": self.log_id, "evidence": self.item.to_bytes().decode()}


def _head(note: bytes) -> tuple[int, bytes]:
    cp = Checkpoint.from_text(Note.from_bytes(note).text)
    return cp.size, cp.root


def _root_at(reader: LogReader, size: int) -> object:
    def root_at(at: int) -> Hash | None:
        if at > size:
            return None
        try:
            return reader.root(at)
        except (LedgerError, NotFoundError):
            return None

    return root_at


def record_evidence(session: Session, first: bytes, second: bytes) -> bool:
    """Store evidence that `first` and `second` (signed notes of one stored log) conflict;
    False if the same pair of tree heads is already stored. `LedgerError` if it is not
    evidence (a signature fails, or they are the same tree head)."""
    origin = Checkpoint.from_text(Note.from_bytes(first).text).origin
    row = session.get(LogRow, log_id_from_origin(origin))
    if row is None:
        raise NotFoundError(f"evidence about {origin}, a log this node does not store")
    check_equivocation(Equivocation(row.vkey, first, second))
    heads = {_head(first), _head(second)}
    for old in session.execute(select(EvidenceRow).where(EvidenceRow.origin == origin)).scalars():
        if {_head(old.note_a), _head(old.note_b)} == heads:
            return False
    session.add(EvidenceRow(origin=origin, note_a=first, note_b=second))
    log.warning("equivocation evidence recorded for %s: sizes %s", origin, sorted(heads))
    return True


def list_evidence(session: Session) -> list[StoredEvidence]:
    """Every stored piece of evidence, oldest first."""
    rows = session.execute(select(LogRow.origin, LogRow.vkey))
    vkeys = {row.origin: row.vkey for row in rows}
    out = []
    for row in session.execute(select(EvidenceRow).order_by(EvidenceRow.id)).scalars():
        vkey = vkeys.get(row.origin)
        if vkey is None:  # pragma: no cover - evidence is only kept for stored logs
            continue
        item = Equivocation(vkey, bytes(row.note_a), bytes(row.note_b))
        out.append(StoredEvidence(row.id, log_id_from_origin(row.origin), item))
    return out


def pull_evidence(sessions: sessionmaker[Session], transport: Transport, base_url: str) -> int:
    """Fetch the peer's `GET /evidence`; keep what verifies and is new; return how many.

    Evidence about a log this node does not store is skipped; evidence that does not verify
    (or that this node's copy of the log shows to be consistent) is a `PeerFault`."""
    data = get_ok(transport, f"{base_url}/evidence", limit=MAX_LISTING_BYTES)
    try:
        listing = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PeerFault(f"{base_url}/evidence is not JSON") from e
    if not isinstance(listing, list):
        raise PeerFault(f"{base_url}/evidence is not a list")
    added = 0
    for item in listing:
        text = item.get("evidence") if isinstance(item, dict) else None
        if not isinstance(text, str):
            raise PeerFault(f"{base_url}/evidence lists something that is not evidence")
        try:
            evidence = Equivocation.from_bytes(text.encode("utf-8"))
        except LedgerError as e:
            raise PeerFault(f"{base_url}/evidence: {e}") from e
        with sessions.begin() as session:
            session.connection(execution_options={WRITE_LOCK: True})
            row = session.get(LogRow, evidence.log_id)
            if row is None or row.vkey != evidence.vkey:
                continue
            reader = LogReader(session, evidence.log_id)
            try:
                check_equivocation(evidence, root_at=_root_at(reader, row.size))  # type: ignore[arg-type]
            except LedgerError as e:
                raise PeerFault(f"{base_url}/evidence: not evidence: {e}") from e
            if record_evidence(session, evidence.first, evidence.second):
                added += 1
    return added

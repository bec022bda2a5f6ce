"""The node as a C2SP tlog-witness, and as a log collecting its peers' cosignatures.

As a witness (DESIGN §2.6), a node cosigns checkpoints of the logs it stores (mirrors),
never its own. It keeps one checkpoint per origin (`witness_checkpoints`) and updates it
with a compare-and-swap inside one locked transaction, exactly as C2SP tlog-witness asks of
`POST /witness/add-checkpoint` (`NodeWitness.add_checkpoint`):

    400  malformed body, or old size above the checkpoint size
    404  the origin is not a log this node mirrors
    403  the log's signature does not verify
    409  old size is not the stored size (body: the stored size, `text/x.tlog.size`), or
         the same size with a different root (then also kept as equivocation evidence)
    422  the consistency proof does not verify
    200  one cosignature line

A node also cosigns what it verified itself: when `node.sync` stores a new checkpoint of
a mirrored log it calls `cosign_mirrored` in the same transaction, so every mirrored
checkpoint the node serves carries its cosignature.

The witness key is derived from the node's log key (ADR 0006): Ed25519 seed =
SHA-256("rdh/witness-key/v1\\n" || log key seed), named `rdh-witness/<log id>`; the
node publishes it at `GET /witness`.

As a log, a node pushes its latest checkpoint to each witness peer (`push_checkpoints`,
the scheduler's `witness` job), verifies the cosignature that comes back with the peer's
witness key (learned by `rdh peer add`) and adds it to its stored checkpoint note, which is
what `GET /logs/<id>/checkpoint` and `rdh export` serve.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.checkpoint import Checkpoint, log_id_from_origin, open_checkpoint
from ledger.cosignature import CosignerKey, cosign, verify_cosignature
from ledger.errors import FormatError, LedgerError
from ledger.keys import SigningKey, decode_base64
from ledger.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from ledger.note import Note, NoteSignature, NoteVerifier
from ledger.types import Hash
from node.db.engine import WRITE_LOCK
from node.db.models import CheckpointRow, LogRow, PeerRow, WitnessRow
from node.errors import NotFoundError
from node.evidence_store import record_evidence
from node.local_node import LocalNode
from node.log_reader import LogReader
from node.peers import PeerError, Response, Transport, list_peers

__all__ = [
    "MAX_ADD_CHECKPOINT_BYTES",
    "SIZE_CONTENT_TYPE",
    "NodeWitness",
    "PushResult",
    "add_cosignatures",
    "witness_key",
    "witness_name",
]

log = logging.getLogger("rdh.witness")

#: The media type of a 409 answer giving the witness's stored size (C2SP tlog-witness).
SIZE_CONTENT_TYPE = "text/x.tlog.size"
#: Largest add-checkpoint body read: 63 proof lines and a checkpoint note.
MAX_ADD_CHECKPOINT_BYTES = 128 << 10
_KEY_CONTEXT = b"rdh/witness-key/v1\n"
_MAX_PROOF = 63


def witness_key(log_key: SigningKey) -> SigningKey:
    """The node's witness key, derived from its log key (see the module docstring)."""
    return SigningKey.from_seed(hashlib.sha256(_KEY_CONTEXT + log_key.seed()).digest())


def witness_name(log_id: str) -> str:
    """The witness key name of the node whose log is `log_id`."""
    return f"rdh-witness/{log_id}"


def add_cosignatures(note: bytes, signatures: list[NoteSignature]) -> bytes:
    """`note` with `signatures` added (one per key: a newer one replaces an older one)."""
    return Note.from_bytes(note).add_signatures(signatures).to_bytes()


def _text(body: str, status: int) -> Response:
    return Response(status, "text/plain", body.encode())


@dataclass(frozen=True, slots=True)
class _Request:
    old: int
    proof: list[Hash]
    note: bytes


def _parse(body: bytes) -> _Request:
    """Split an add-checkpoint body; `FormatError` if malformed."""
    head, sep, note = body.partition(b"\n\n")
    if not sep:
        raise FormatError("the body needs an empty line before the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as e:
        raise FormatError("the old size and proof lines must be ASCII") from e
    if not lines[0].startswith("old "):
        raise FormatError("the first line must be 'old <size>'")
    from ledger.checkpoint import parse_decimal

    old = parse_decimal(lines[0][4:], what="the old size")
    if len(lines) - 1 > _MAX_PROOF:
        raise FormatError(f"more than {_MAX_PROOF} consistency proof lines")
    proof = []
    for line in lines[1:]:
        value = decode_base64(line, what="a consistency proof line")
        if len(value) != HASH_SIZE:
            raise FormatError("a consistency proof line is not a 32-byte hash")
        proof.append(Hash(value))
    return _Request(old, proof, note)


@dataclass(frozen=True, slots=True)
class PushResult:
    """What pushing the node's checkpoint to one witness peer gave."""

    url: str
    size: int
    cosigned: bool
    message: str


class NodeWitness:
    """The witness of `node`, timestamping cosignatures with `clock`."""

    def __init__(self, node: LocalNode, clock: Callable[[], datetime]) -> None:
        self.node = node
        self.clock = clock
        self.log_id = node.store.log_id
        self.name = witness_name(self.log_id)
        self._key = witness_key(node.store.key)
        self.cosigner = CosignerKey(self.name, self._key.public)
        self.vkey = self.cosigner.to_vkey()

    def _cosign(self, note: bytes) -> NoteSignature:
        text = Note.from_bytes(note).text
        return cosign(text, name=self.name, key=self._key, timestamp=int(self.clock().timestamp()))

    # -- the tlog-witness endpoint -------------------------------------------------------

    def add_checkpoint(self, body: bytes) -> Response:
        """Handle `POST /witness/add-checkpoint` (see the module docstring)."""
        try:
            request = _parse(body)
            note = Note.from_bytes(request.note)
            cp = Checkpoint.from_text(note.text)
            log_id = log_id_from_origin(cp.origin)
        except LedgerError as e:
            return _text(f"malformed add-checkpoint request: {e}\n", 400)
        with self.node.sessions.begin() as session:
            session.connection(execution_options={WRITE_LOCK: True})
            row = session.execute(
                select(LogRow).where(LogRow.id == log_id).with_for_update()
            ).scalar_one_or_none()
            if row is None or row.local:
                return _text(f"this witness does not follow {cp.origin}\n", 404)
            try:
                open_checkpoint(request.note, verifier=NoteVerifier.from_vkey(row.vkey))
            except LedgerError as e:
                return _text(f"the checkpoint does not verify: {e}\n", 403)
            if request.old > cp.size:
                return _text("the old size is larger than the checkpoint size\n", 400)
            state = session.get(WitnessRow, cp.origin)
            size = state.size if state is not None else 0
            if request.old != size:
                return Response(409, SIZE_CONTENT_TYPE, f"{size}\n".encode())
            if state is not None and state.size == cp.size:
                if state.root != cp.root:
                    record_evidence(session, bytes(state.note), request.note)
                    return _text("a different checkpoint of this size was cosigned\n", 409)
            else:
                old_root = state.root if state is not None else EMPTY_ROOT
                try:
                    if request.old == 0 and request.proof:
                        raise FormatError("the proof must be empty for old size 0")
                    verify_consistency(
                        old_size=request.old,
                        new_size=cp.size,
                        old_root=old_root,
                        new_root=cp.root,
                        proof=request.proof,
                    )
                except LedgerError as e:
                    return _text(f"the consistency proof does not verify: {e}\n", 422)
            self._store_state(session, state, cp, request.note)
            line = self._cosign(request.note).to_line()
        return Response(200, "text/plain", line.encode("utf-8"))

    @staticmethod
    def _store_state(
        session: Session, state: WitnessRow | None, cp: Checkpoint, note: bytes
    ) -> None:
        if state is None:
            session.add(WitnessRow(origin=cp.origin, size=cp.size, root=cp.root, note=note))
        else:
            state.size, state.root, state.note = cp.size, cp.root, note

    # -- cosigning what sync verified ---------------------------------------------------

    def cosign_mirrored(self, session: Session, log_id: str, note: bytes) -> bytes:
        """Inside the sync transaction that stored `note` (and the tiles of its tree) for a
        mirrored log: advance the witness state if the stored tree extends it, and return
        the note with this witness's cosignature (or unchanged if the state is ahead)."""
        cp = Checkpoint.from_text(Note.from_bytes(note).text)
        state = session.get(WitnessRow, cp.origin)
        if state is not None:
            if state.size > cp.size:
                return note
            try:
                consistent = LogReader(session, log_id).root(state.size) == state.root  # type: ignore[arg-type]
            except (LedgerError, NotFoundError):
                consistent = False
            if not consistent:
                record_evidence(session, bytes(state.note), note)
                return note
        self._store_state(session, state, cp, note)
        return add_cosignatures(note, [self._cosign(note)])

    # -- collecting cosignatures for the node's own log ---------------------------------

    def push_checkpoints(self, transport: Transport) -> list[PushResult]:
        """Push the node's latest checkpoint to every witness peer with a known key."""
        store = self.node.store
        results = []
        for peer in list_peers(self.node.sessions):
            if not peer.witness or not peer.witness_vkey:
                continue
            key = CosignerKey.from_vkey(peer.witness_vkey)
            with store.reader() as reader:
                stored = reader.checkpoint()
            if any(
                (s.name, s.key_id) == (key.name, key.key_id)
                for s in Note.from_bytes(stored.note).signatures
            ):
                continue  # already cosigned by this peer
            try:
                results.append(self._push(transport, peer.id, peer.url, peer.witness_size, key))
            except (PeerError, LedgerError) as e:
                log.info("pushing checkpoint to witness %s failed: %s", peer.url, e)
                results.append(PushResult(peer.url, 0, False, str(e)))
        return results

    def _push(
        self, transport: Transport, peer_id: int, url: str, old: int, key: CosignerKey
    ) -> PushResult:
        store = self.node.store
        with store.reader() as reader:
            stored = reader.checkpoint()
        for _attempt in range(2):
            old = min(old, stored.size)
            proof = [] if old == 0 else store.consistency_proof(old, stored.size)
            body = f"old {old}\n".encode() + b"".join((_b64(h) + "\n").encode() for h in proof)
            body += b"\n" + _strip_cosignatures(stored.note)
            response = transport.request(
                "POST", f"{url}/witness/add-checkpoint", body=body, limit=64 << 10
            )
            if response.status == 409 and response.content_type == SIZE_CONTENT_TYPE:
                try:
                    their = int(response.body.decode("ascii").strip())
                except ValueError:
                    return PushResult(url, stored.size, False, "409 without a size")
                if their > stored.size:
                    return PushResult(
                        url, stored.size, False, f"the witness holds size {their} of our log"
                    )
                old = their
                continue
            if response.status != 200:
                text = response.body[:200].decode("utf-8", "replace").strip()
                return PushResult(url, stored.size, False, f"HTTP {response.status}: {text}")
            sigs = self._verified(stored.note, response.body, key)
            if not sigs:
                return PushResult(url, stored.size, False, "no valid cosignature came back")
            self._save(peer_id, stored.size, sigs)
            return PushResult(url, stored.size, True, "cosigned")
        return PushResult(url, stored.size, False, "the witness's size kept changing")

    @staticmethod
    def _verified(note: bytes, body: bytes, key: CosignerKey) -> list[NoteSignature]:
        text = Note.from_bytes(note).text
        sigs = []
        for line in body.decode("utf-8", "replace").splitlines():
            try:
                sig = NoteSignature.from_line(line)
                if (sig.name, sig.key_id) != (key.name, key.key_id):
                    continue
                verify_cosignature(text, key=key, signature=sig)
            except LedgerError:
                continue
            sigs.append(sig)
        return sigs[:1]

    def _save(self, peer_id: int, size: int, sigs: list[NoteSignature]) -> None:
        with self.node.sessions.begin() as session:
            session.connection(execution_options={WRITE_LOCK: True})
            row = session.get(CheckpointRow, (self.log_id, size))
            if row is not None:
                row.note = add_cosignatures(bytes(row.note), sigs)
            peer = session.get(PeerRow, peer_id)
            if peer is not None:
                peer.witness_size = size


def _b64(value: bytes) -> str:
    from ledger.keys import encode_base64

    return encode_base64(value)


def _strip_cosignatures(note: bytes) -> bytes:
    """The note with only its first (the log's) signature line."""
    parsed = Note.from_bytes(note)
    return Note(parsed.text, parsed.signatures[:1]).to_bytes()

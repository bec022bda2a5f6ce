"""An in-memory log writer: real entries, tree, checkpoints, receipts and bundles, no node.

Tests and benchmarks use it to build genuine, fully signed bundles without a database or a
network; it shares every format with the node, so what it writes `rdh audit` must accept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ledger import bundle
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.cosignature import CosignerKey
from ledger.entry import Entry
from ledger.keys import SigningKey
from ledger.merkle import MemoryTree, leaf_hash
from ledger.note import NoteSigner
from ledger.receipt import Receipt
from ledger.statement import SignedStatement
from ledger.types import JSON, LogId

__all__ = ["MemoryLog", "Witness", "export_bundle"]


@dataclass(frozen=True, slots=True)
class Witness:
    """A witness's name and key, for cosigning checkpoints in tests."""

    name: str
    key: SigningKey

    @property
    def cosigner(self) -> CosignerKey:
        return CosignerKey(name=self.name, public_key=self.key.public)


class MemoryLog:
    """One log, held in memory: append entries, sign checkpoints, issue receipts, export."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self.log_id: LogId = key.public.party_id
        self.origin = f"rdh/{self.log_id}"
        self.signer = NoteSigner(name=self.origin, key=key)
        self.entries: list[bytes] = []
        self.tree = MemoryTree()

    @property
    def size(self) -> int:
        return len(self.entries)

    @property
    def vkey(self) -> str:
        return self.signer.vkey

    def append(
        self,
        *,
        type: str,
        time: str,
        body: dict[str, JSON],
        refs: Sequence[str] = (),
        signed: Sequence[SignedStatement] = (),
    ) -> Entry:
        """Build the next entry (seq = current size), store it and return it."""
        entry = Entry(
            log=self.log_id,
            seq=self.size,
            time=time,
            type=type,
            refs=tuple(refs),  # type: ignore[arg-type]
            body=body,
            signed=tuple(signed),
        )
        self.append_bytes(entry.to_bytes())
        return entry

    def append_bytes(self, data: bytes) -> None:
        """Store raw entry bytes as the next leaf, unchecked (for building tampered logs)."""
        self.entries.append(data)
        self.tree.append(leaf_hash(data))

    def checkpoint(
        self, *, size: int | None = None, witnesses: Iterable[Witness] = (), timestamp: int = 0
    ) -> bytes:
        """Sign a checkpoint of the tree at `size` (default: now), cosigned by `witnesses`."""
        size = self.size if size is None else size
        cp = Checkpoint(origin=self.origin, size=size, root=self.tree.root(size))
        return sign_checkpoint(
            cp,
            signer=self.signer,
            cosigners=[(w.name, w.key) for w in witnesses],
            timestamp=timestamp,
        )

    def receipt(self, seq: int, checkpoint: bytes | None = None) -> bytes:
        """A tlog-proof@v1 receipt for entry `seq` against `checkpoint` (default: a new one)."""
        note = checkpoint if checkpoint is not None else self.checkpoint()
        size = Checkpoint.from_note(note).size
        proof = self.tree.inclusion_proof(seq, size)
        return Receipt(
            entry=self.entries[seq], index=seq, proof=tuple(proof), checkpoint=note
        ).to_bytes()

    def export(self, sink: bundle.BundleSink, checkpoint: bytes | None = None) -> bundle.LogInfo:
        """Write this log's tiles, entry bundles and checkpoint into a bundle."""
        note = checkpoint if checkpoint is not None else self.checkpoint()
        size = Checkpoint.from_note(note).size
        writer = bundle.LogWriter(sink, self.log_id)
        for data in self.entries[:size]:
            writer.append(data, leaf_hash(data))
        writer.finish(note)
        return bundle.LogInfo(id=self.log_id, origin=self.origin, vkey=self.vkey, size=size)


def export_bundle(
    sink: bundle.BundleSink,
    logs: Iterable[MemoryLog],
    *,
    exporter: str = "rdh memlog",
    exported_at: str | None = None,
    policy: bytes | None = None,
    evidence: Iterable[bytes] = (),
    witnesses: Iterable[Witness] = (),
    timestamp: int = 0,
) -> bundle.Manifest:
    """Write a complete bundle of `logs` (each checkpointed now, cosigned by `witnesses`)."""
    witnesses = list(witnesses)
    infos = [
        log.export(sink, log.checkpoint(witnesses=witnesses, timestamp=timestamp)) for log in logs
    ]
    manifest = bundle.Manifest(exporter=exporter, exported_at=exported_at, logs=tuple(infos))
    sink.write(bundle.MANIFEST, manifest.to_bytes())
    if policy is not None:
        sink.write(bundle.POLICY, policy)
    for n, item in enumerate(evidence):
        sink.write(f"{bundle.EVIDENCE_PREFIX}{n}.txt", item)
    return manifest

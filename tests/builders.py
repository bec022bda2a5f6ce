"""Genuine, deterministic test bundles: keys from labels, entries with worker statements.

`ecosystem()` builds (once, cached) three logs with real statements, references within and
across logs and one reference outside the bundle, three witnesses and a 2-of-3 policy.
`Ecosystem.bundle()` exports it, optionally with some logs' entries replaced, so a test can
tamper at the entry level (then the log re-signs, and only the entry rules can catch it) or
take the files of a clean bundle and tamper with them directly.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger import bundle
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.entry import Entry, entry_id
from ledger.keys import SigningKey
from ledger.memlog import MemoryLog, Witness, export_bundle
from ledger.note import Note, NoteSignature
from ledger.policy import Policy
from ledger.statement import SignedStatement, Statement, format_time, sign_statement
from ledger.types import JSON, Hash, LogId

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
#: Cosignature timestamp used by every test checkpoint.
TIMESTAMP = 1_795_000_000
#: The big log has more than one entry bundle and a full level-0 hash tile.
BIG = 300


def key(label: str) -> SigningKey:
    """A deterministic Ed25519 key: the seed is SHA-256 of the label."""
    return SigningKey.from_seed(hashlib.sha256(label.encode()).digest())


def nonce(label: str) -> str:
    """A deterministic 128-bit statement nonce (base64url, no padding)."""
    raw = hashlib.sha256(b"nonce/" + label.encode()).digest()[:16]
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def when(minutes: int) -> str:
    return format_time(T0 + timedelta(minutes=minutes))


def statement(
    worker: SigningKey,
    log: str,
    *,
    label: str,
    type: str = "contract.sign",
    body: dict[str, JSON] | None = None,
    nonce_label: str | None = None,
) -> SignedStatement:
    """A worker's signed statement addressed to `log`."""
    stmt = Statement(
        type=type,
        log=LogId(log),
        signer=worker.public,
        time=when(1),
        nonce=nonce(nonce_label or label),
        body=body if body is not None else {"label": label},
    )
    return sign_statement(stmt, key=worker)


def entry(
    log: str,
    seq: int,
    *,
    type: str = "task.publish",
    body: dict[str, JSON] | None = None,
    refs: Sequence[str] = (),
    signed: Sequence[SignedStatement] = (),
) -> bytes:
    """The canonical bytes of one entry."""
    return Entry(
        log=LogId(log),
        seq=seq,
        time=when(seq),
        type=type,
        refs=tuple(refs),  # type: ignore[arg-type]
        body=body if body is not None else {"n": seq},
        signed=tuple(signed),
    ).to_bytes()


def log_from(signing_key: SigningKey, entries: Iterable[bytes]) -> MemoryLog:
    """A fresh in-memory log holding exactly these entry bytes (unchecked)."""
    log = MemoryLog(signing_key)
    for data in entries:
        log.append_bytes(data)
    return log


@dataclass(frozen=True)
class Ecosystem:
    """Three logs' keys and entry bytes, their witnesses and policy, and what they hold."""

    keys: tuple[SigningKey, ...]
    names: tuple[str, ...]
    entries: tuple[tuple[bytes, ...], ...]
    workers: tuple[SigningKey, ...]
    witnesses: tuple[Witness, ...]
    policy: Policy
    statements: int
    #: (log index, seq, id of the referring entry, referenced id outside the bundle)
    outside_ref: tuple[int, int, str, str]

    def log_id(self, index: int) -> str:
        return self.keys[index].public.party_id

    def memlog(self, index: int, entries: Iterable[bytes] | None = None) -> MemoryLog:
        return log_from(self.keys[index], self.entries[index] if entries is None else entries)

    @property
    def size(self) -> int:
        return sum(len(e) for e in self.entries)

    def bundle(
        self,
        *,
        replace: Mapping[int, Sequence[bytes]] | None = None,
        with_policy: bool = True,
        evidence: Iterable[bytes] = (),
        witnesses: Iterable[Witness] | None = None,
    ) -> bundle.MemoryBundle:
        """Export the logs (entries in `replace` substituted) cosigned by the witnesses."""
        replace = replace or {}
        logs = [self.memlog(i, replace.get(i)) for i in range(len(self.keys))]
        sink = bundle.MemoryBundle()
        export_bundle(
            sink,
            logs,
            exporter="rdh tests",
            exported_at=when(0),
            policy=self.policy.to_bytes() if with_policy else None,
            evidence=evidence,
            witnesses=self.witnesses if witnesses is None else witnesses,
            timestamp=TIMESTAMP,
        )
        return sink

    def checkpoint(
        self,
        index: int,
        *,
        entries: Iterable[bytes] | None = None,
        size: int | None = None,
        cosigned: bool = True,
    ) -> bytes:
        """A genuine signed (and cosigned) checkpoint of log `index` over `entries`."""
        log = self.memlog(index, entries)
        return log.checkpoint(
            size=size, witnesses=self.witnesses if cosigned else (), timestamp=TIMESTAMP
        )


def policy_text(logs: Sequence[MemoryLog | SigningKey], witnesses: Sequence[Witness]) -> str:
    """Any of `logs`, cosigned by at least 2 of the witnesses."""
    lines = []
    for item in logs:
        log = item if isinstance(item, MemoryLog) else MemoryLog(item)
        lines.append(f"log {log.vkey}")
    lines += [f"witness w{i} {w.cosigner.to_vkey()}" for i, w in enumerate(witnesses)]
    lines.append("group witnesses 2 " + " ".join(f"w{i}" for i in range(len(witnesses))))
    lines.append("quorum witnesses")
    return "\n".join(lines) + "\n"


@functools.cache
def ecosystem(names: tuple[str, ...] = ("Lakeside", "Harbour", "Northgate")) -> Ecosystem:
    """Three logs: a big one (`BIG` entries) and two small ones, with worker statements."""
    keys = tuple(key(f"log/{name}") for name in names)
    ids = [k.public.party_id for k in keys]
    workers = tuple(key(f"worker/{n}") for n in range(4))
    statements = 0

    big: list[bytes] = [entry(ids[0], 0, type="log.genesis", body={"name": names[0]})]
    for seq in range(1, BIG):
        signed = ()
        if seq % 3 == 0:
            worker = workers[seq % len(workers)]
            signed = (statement(worker, ids[0], label=f"a/{seq}"),)
            statements += 1
        refs = [entry_id(big[-1])] if seq % 5 == 0 else []
        big.append(entry(ids[0], seq, refs=refs, signed=signed))

    small: list[bytes] = [entry(ids[1], 0, type="log.genesis", body={"name": names[1]})]
    small.append(entry(ids[1], 1, type="log.follow", refs=[entry_id(big[0])]))
    small.append(
        entry(
            ids[1],
            2,
            type="share.activate",
            refs=[entry_id(big[BIG - 1])],
            signed=[
                statement(workers[0], ids[1], label="b/2/0"),
                statement(workers[1], ids[1], label="b/2/1"),
            ],
        )
    )
    statements += 2
    for seq in range(3, 12):
        signed = (statement(workers[2], ids[1], label=f"b/{seq}"),) if seq % 2 else ()
        statements += len(signed)
        small.append(entry(ids[1], seq, refs=[entry_id(small[-1])], signed=signed))

    outside = hashlib.sha256(b"an entry of a log not in this bundle").hexdigest()
    third: list[bytes] = [entry(ids[2], 0, type="log.genesis", body={"name": names[2]})]
    third.append(entry(ids[2], 1, type="log.follow", refs=[entry_id(small[0])]))
    third.append(entry(ids[2], 2, type="log.follow", refs=[outside]))
    for seq in range(3, 6):
        third.append(
            entry(
                ids[2],
                seq,
                refs=[entry_id(third[-1])],
                signed=[statement(workers[3], ids[2], label=f"c/{seq}")],
            )
        )
        statements += 1

    witnesses = tuple(Witness(f"witness.example/w{n}", key(f"witness/{n}")) for n in range(3))
    policy = Policy.from_text(policy_text(keys, witnesses))
    return Ecosystem(
        keys=keys,
        names=names,
        entries=(tuple(big), tuple(small), tuple(third)),
        workers=workers,
        witnesses=witnesses,
        policy=policy,
        statements=statements,
        outside_ref=(2, 2, entry_id(third[2]), outside),
    )


# --- tampering helpers ----------------------------------------------------------------


def flip(data: bytes, offset: int) -> bytes:
    """`data` with one bit of the byte at `offset` flipped."""
    out = bytearray(data)
    out[offset] ^= 0x01
    return bytes(out)


def resign(
    eco: Ecosystem, index: int, checkpoint: Checkpoint, *, signer: SigningKey | None = None
) -> bytes:
    """Sign `checkpoint` (any content) with the log's key, or `signer` under the same name."""
    log = MemoryLog(eco.keys[index])
    note_signer = log.signer
    if signer is not None:
        note_signer = type(log.signer)(name=log.origin, key=signer)
    return sign_checkpoint(
        checkpoint,
        signer=note_signer,
        cosigners=[(w.name, w.key) for w in eco.witnesses],
        timestamp=TIMESTAMP,
    )


def note_lines(data: bytes) -> tuple[str, list[NoteSignature]]:
    note = Note.from_bytes(data)
    return note.text, list(note.signatures)


def note_bytes(text: str, signatures: Sequence[NoteSignature]) -> bytes:
    """A note with exactly these signature lines (no checks, duplicates allowed)."""
    return (text + "\n" + "".join(s.to_line() for s in signatures)).encode()


def other_root() -> Hash:
    return Hash(hashlib.sha256(b"another tree").digest())


def write_bundle(files: Mapping[str, bytes], path: Path) -> Path:
    """Write the files of a bundle to a directory, or to a zip if `path` ends in `.zip`."""
    from node.bundle_files import open_bundle_sink

    sink = open_bundle_sink(path)
    try:
        for name, data in files.items():
            sink.write(name, data)
    finally:
        sink.close()
    return path

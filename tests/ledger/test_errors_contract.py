"""The error contract: the public parsers only ever raise `LedgerError` subclasses.

Garbage (random bytes and text, and random mutations of genuine files) fed to the manifest,
evidence and receipt parsers and to `audit()` must never surface a `ValueError`,
`KeyError`, `IndexError`, `TypeError`, `binascii.Error`, `UnicodeDecodeError`,
`InvalidSignature`, ...: a caller of `ledger` catches `LedgerError` and nothing else. And an
audit whose manifest is readable never raises at all: whatever else is wrong is a finding.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import bundle
from ledger.audit import audit
from ledger.bundle import Manifest, MemoryBundle
from ledger.errors import LedgerError
from ledger.evidence import HEADER, Equivocation, check_equivocation
from ledger.memlog import MemoryLog, Witness, export_bundle
from ledger.note import NoteVerifier
from ledger.policy import Policy
from ledger.receipt import verify_receipt
from tests.builders import TIMESTAMP, key, policy_text, statement

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def only_ledger_errors(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call `fn`; a `LedgerError` is an acceptable answer, any other exception fails."""
    with contextlib.suppress(LedgerError):
        fn(*args, **kwargs)


def _log() -> MemoryLog:
    log = MemoryLog(key("contract/log"))
    for n in range(5):
        signed = [statement(key("contract/worker"), log.log_id, label=f"k{n}")] if n % 2 else []
        log.append(type="task.publish", time="2026-11-25T10:00:00Z", body={"n": n}, signed=signed)
    return log


LOG = _log()
VERIFIER = NoteVerifier.from_vkey(LOG.vkey)
WITNESSES = [Witness("w.example/0", key("cw0")), Witness("w.example/1", key("cw1"))]
POLICY = Policy.from_text(policy_text([LOG], WITNESSES))
CHECKPOINT = LOG.checkpoint(witnesses=WITNESSES, timestamp=TIMESTAMP)
RECEIPT = LOG.receipt(3, CHECKPOINT)


def _clean_files() -> dict[str, bytes]:
    sink = MemoryBundle()
    export_bundle(
        sink,
        [LOG],
        policy=POLICY.to_bytes(),
        evidence=[
            Equivocation(LOG.vkey, LOG.checkpoint(size=2), CHECKPOINT).to_bytes(),
        ],
        witnesses=WITNESSES,
        timestamp=TIMESTAMP,
    )
    return dict(sink.files)


CLEAN = _clean_files()


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with a random edit: a flipped byte, a cut, an insertion, or replaced outright."""
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "replace", "splice"]))
    if kind == "replace" or not data:
        return draw(st.binary(max_size=300))
    at = draw(st.integers(0, len(data) - 1))
    if kind == "flip":
        out = bytearray(data)
        out[at] ^= draw(st.integers(1, 255))
        return bytes(out)
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=20)) + data[at:]
    end = draw(st.integers(at, len(data)))
    return (
        data[:at]
        + draw(st.sampled_from([b"\n", b"\n\n", b" ", b"\xe2\x80\x94 ", b"+"]))
        + data[end:]
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


# --- bundle manifest --------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=400))
def test_manifest_from_random_bytes(data: bytes) -> None:
    only_ledger_errors(Manifest.from_bytes, data)


@FUZZ
@given(mutated(CLEAN[bundle.MANIFEST]))
def test_manifest_from_mutated_bytes(data: bytes) -> None:
    only_ledger_errors(Manifest.from_bytes, data)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["format", "exporter", "logs", "exported_at", "other"]), json_values
    ),
    st.lists(st.dictionaries(st.sampled_from(["id", "origin", "vkey", "size"]), json_values)),
)
def test_manifest_from_random_json(value: dict[str, Any], logs: list[dict[str, Any]]) -> None:
    value.setdefault("logs", logs)
    only_ledger_errors(Manifest.from_bytes, json.dumps(value).encode())


# --- equivocation evidence -----------------------------------------------------------


@FUZZ
@given(st.binary(max_size=400))
def test_evidence_from_random_bytes(data: bytes) -> None:
    only_ledger_errors(Equivocation.from_bytes, data)


@FUZZ
@given(st.text(max_size=60), st.text(max_size=60), st.text(max_size=60))
def test_evidence_from_random_lines(vkey: str, first: str, second: str) -> None:
    text = f"{HEADER}\nvkey {vkey}\nnote {first}\nnote {second}\n"
    only_ledger_errors(Equivocation.from_bytes, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(mutated(CHECKPOINT), mutated(LOG.checkpoint(size=2)), st.booleans())
def test_check_equivocation_of_mutated_checkpoints(
    first: bytes, second: bytes, with_tree: bool
) -> None:
    item = Equivocation(LOG.vkey, first, second)
    root_at = (
        (lambda size: LOG.tree.root(size) if size <= LOG.size else None) if with_tree else None
    )
    only_ledger_errors(check_equivocation, item, root_at=root_at)
    only_ledger_errors(Equivocation.from_bytes, item.to_bytes())


@FUZZ
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_check_equivocation_of_random_notes(first: bytes, second: bytes) -> None:
    only_ledger_errors(check_equivocation, Equivocation(LOG.vkey, first, second))


# --- receipts -----------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=400))
def test_receipt_from_random_bytes(data: bytes) -> None:
    only_ledger_errors(verify_receipt, data, key=VERIFIER)
    only_ledger_errors(verify_receipt, data, policy=POLICY)


@FUZZ
@given(mutated(RECEIPT))
def test_receipt_from_mutated_bytes(data: bytes) -> None:
    only_ledger_errors(verify_receipt, data, key=VERIFIER)
    only_ledger_errors(verify_receipt, data, key=VERIFIER, policy=POLICY)


@FUZZ
@given(st.text(max_size=80), st.text(max_size=40), st.lists(st.text(max_size=50), max_size=4))
def test_receipt_from_random_lines(extra: str, index: str, proof: list[str]) -> None:
    head = "\n".join(["c2sp.org/tlog-proof@v1", f"extra {extra}", f"index {index}", *proof])
    data = head.encode("utf-8", "surrogatepass") + b"\n\n" + CHECKPOINT
    only_ledger_errors(verify_receipt, data, key=VERIFIER)


def test_genuine_receipt_verifies() -> None:
    """The fuzzing above starts from a receipt that is accepted."""
    assert verify_receipt(RECEIPT, key=VERIFIER, policy=POLICY).index == 3


# --- the audit ------------------------------------------------------------------------


def test_clean_bundle_is_clean() -> None:
    report = audit(MemoryBundle(dict(CLEAN)))
    assert report.ok
    assert report.entries_checked == 5
    assert [f.rule for f in report.findings] == ["evidence.invalid"]  # consistent checkpoints


@st.composite
def tampered_files(draw: st.DrawFn) -> dict[str, bytes]:
    files = dict(CLEAN)
    names = sorted(n for n in files if n != bundle.MANIFEST)
    for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)):
        if draw(st.integers(0, 5)) == 0:
            del files[name]
        else:
            files[name] = draw(mutated(files[name]))
    if draw(st.booleans()):
        extra = draw(st.sampled_from(["evidence/9.txt", bundle.POLICY, "evidence/x"]))
        files[extra] = draw(st.binary(max_size=200))
    return files


@FUZZ
@given(tampered_files())
def test_audit_of_mutated_files_never_raises(files: dict[str, bytes]) -> None:
    report = audit(MemoryBundle(files))
    assert all(f.message for f in report.findings)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(sorted(CLEAN)), st.binary(max_size=300), min_size=1, max_size=len(CLEAN)
    )
)
def test_audit_of_random_file_contents(random: dict[str, bytes]) -> None:
    files = {**CLEAN, **random}
    if bundle.MANIFEST in random:
        only_ledger_errors(audit, MemoryBundle(files))
    else:
        audit(MemoryBundle(files))


@FUZZ
@given(mutated(CLEAN[bundle.MANIFEST]))
def test_audit_of_mutated_manifest(manifest: bytes) -> None:
    only_ledger_errors(audit, MemoryBundle({**CLEAN, bundle.MANIFEST: manifest}))


def test_random_base64_notes_in_evidence() -> None:
    """Evidence whose notes are valid base64 of garbage is a notice, not an exception."""
    junk = base64.b64encode(b"\x00garbage").decode()
    text = f"{HEADER}\nvkey {LOG.vkey}\nnote {junk}\nnote {junk}\n".encode()
    report = audit(MemoryBundle({**CLEAN, "evidence/0.txt": text}))
    assert report.ok
    assert [f.rule for f in report.findings] == ["evidence.invalid"]

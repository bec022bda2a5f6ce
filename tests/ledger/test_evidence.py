"""Equivocation evidence: its text format and the verdict on two signed checkpoints."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from ledger.errors import FormatError, VerificationError
from ledger.evidence import HEADER, Equivocation, check_equivocation
from ledger.memlog import MemoryLog
from ledger.types import Hash
from tests.builders import flip, key, note_bytes, note_lines

TIME = "2026-11-25T10:00:00Z"


def make_log(label: str, count: int, *, fork_at: int | None = None) -> MemoryLog:
    """A log of `count` entries; with `fork_at`, entry `fork_at` differs (same key)."""
    log = MemoryLog(key(label))
    for n in range(count):
        body = {"n": n, "forked": True} if n == fork_at else {"n": n}
        log.append(type="task.publish", time=TIME, body=body)
    return log


@pytest.fixture(scope="module")
def real() -> MemoryLog:
    return make_log("evidence/log", 20)


@pytest.fixture(scope="module")
def fork() -> MemoryLog:
    return make_log("evidence/log", 20, fork_at=10)


def root_at(log: MemoryLog) -> Callable[[int], Hash | None]:
    def known(size: int) -> Hash | None:
        return log.tree.root(size) if size <= log.size else None

    return known


def test_round_trip(real: MemoryLog, fork: MemoryLog) -> None:
    item = Equivocation(real.vkey, real.checkpoint(), fork.checkpoint())
    data = item.to_bytes()
    assert data.startswith(HEADER.encode() + b"\nvkey ")
    assert data.count(b"\n") == 4
    assert Equivocation.from_bytes(data) == item
    assert item.log_id == real.log_id


def test_same_size_different_roots_is_proven(real: MemoryLog, fork: MemoryLog) -> None:
    verdict = check_equivocation(Equivocation(real.vkey, real.checkpoint(), fork.checkpoint()))
    assert verdict.proven
    assert "size 20" in verdict.reason
    assert verdict.first.root == real.tree.root()
    assert verdict.second.root == fork.tree.root()


def test_different_sizes_without_the_tree_is_unproven(real: MemoryLog, fork: MemoryLog) -> None:
    item = Equivocation(real.vkey, real.checkpoint(size=5), fork.checkpoint(size=15))
    verdict = check_equivocation(item)
    assert not verdict.proven
    assert "cannot be decided offline" in verdict.reason


def test_different_sizes_disagreeing_with_the_tree_is_proven(
    real: MemoryLog, fork: MemoryLog
) -> None:
    item = Equivocation(real.vkey, real.checkpoint(size=5), fork.checkpoint(size=15))
    verdict = check_equivocation(item, root_at=root_at(real))
    assert verdict.proven
    assert "size 15" in verdict.reason
    assert fork.tree.root(15).hex() in verdict.reason


def test_fork_before_the_split_is_consistent_and_not_evidence(
    real: MemoryLog, fork: MemoryLog
) -> None:
    """Both trees agree up to leaf 10: checkpoints of sizes 5 and 10 prove nothing."""
    item = Equivocation(real.vkey, real.checkpoint(size=5), fork.checkpoint(size=10))
    with pytest.raises(VerificationError, match="consistent"):
        check_equivocation(item, root_at=root_at(real))


def test_only_one_size_known_is_unproven(real: MemoryLog) -> None:
    longer = make_log("evidence/log", 25)
    item = Equivocation(real.vkey, real.checkpoint(size=5), longer.checkpoint())
    verdict = check_equivocation(item, root_at=root_at(real))
    assert not verdict.proven


def test_identical_heads_are_not_evidence(real: MemoryLog) -> None:
    cp = real.checkpoint()
    with pytest.raises(VerificationError, match="same tree head"):
        check_equivocation(Equivocation(real.vkey, cp, cp))


def test_bad_signature_is_not_evidence(real: MemoryLog, fork: MemoryLog) -> None:
    text, sigs = note_lines(fork.checkpoint())
    first = sigs[0]
    bad = note_bytes(text, [type(first)(first.name, first.key_id, flip(first.signature, 3))])
    with pytest.raises(VerificationError):
        check_equivocation(Equivocation(real.vkey, real.checkpoint(), bad))


def test_checkpoint_of_another_log_is_not_evidence(real: MemoryLog) -> None:
    other = make_log("evidence/other", 20)
    with pytest.raises(VerificationError):
        check_equivocation(Equivocation(real.vkey, real.checkpoint(), other.checkpoint()))


def test_empty_tree_checkpoint_never_disagrees(real: MemoryLog) -> None:
    """Size 0 has the empty root: a size-0 checkpoint is consistent with any tree."""
    empty = MemoryLog(real.key)
    item = Equivocation(real.vkey, empty.checkpoint(), real.checkpoint(size=1))
    with pytest.raises(VerificationError, match="consistent"):
        check_equivocation(item, root_at=root_at(real))


def _text(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


VKEY = MemoryLog(key("evidence/log")).vkey
NOTE = _b64(b"note")

INVALID = [
    ("not-utf8", b"\xff\xfe\xfd"),
    ("empty", b""),
    ("wrong-header", _text("rdh/equivocation/v2", f"vkey {VKEY}", f"note {NOTE}", f"note {NOTE}")),
    ("no-final-newline", _text(HEADER, f"vkey {VKEY}", f"note {NOTE}", f"note {NOTE}")[:-1]),
    ("three-notes", _text(HEADER, f"vkey {VKEY}", f"note {NOTE}", f"note {NOTE}", f"note {NOTE}")),
    ("one-note", _text(HEADER, f"vkey {VKEY}", f"note {NOTE}")),
    ("no-vkey-line", _text(HEADER, f"key {VKEY}", f"note {NOTE}", f"note {NOTE}")),
    ("bad-vkey", _text(HEADER, "vkey rdh/x+00000000+AAAA", f"note {NOTE}", f"note {NOTE}")),
    ("no-note-keyword", _text(HEADER, f"vkey {VKEY}", f"nota {NOTE}", f"note {NOTE}")),
    ("bad-base64", _text(HEADER, f"vkey {VKEY}", "note ***", f"note {NOTE}")),
    ("non-ascii-base64", _text(HEADER, f"vkey {VKEY}", "note é", f"note {NOTE}")),
    ("crlf", _text(HEADER, f"vkey {VKEY}", f"note {NOTE}", f"note {NOTE}").replace(b"\n", b"\r\n")),
]


@pytest.mark.parametrize("data", [d for _, d in INVALID], ids=[n for n, _ in INVALID])
def test_malformed_evidence_is_a_format_error(data: bytes) -> None:
    with pytest.raises(FormatError):
        Equivocation.from_bytes(data)


def test_notes_that_are_not_checkpoints_are_refused() -> None:
    item = Equivocation.from_bytes(_text(HEADER, f"vkey {VKEY}", f"note {NOTE}", f"note {NOTE}"))
    with pytest.raises(FormatError):
        check_equivocation(item)


def test_key_not_named_after_its_log_is_refused(real: MemoryLog) -> None:
    from ledger.note import NoteSigner

    stranger = NoteSigner(name="example.com/log", key=key("evidence/log"))
    cp = real.checkpoint()
    item = Equivocation(stranger.vkey, cp, cp).to_bytes()
    with pytest.raises(FormatError, match=r"is named 'example\.com/log', not 'rdh/"):
        Equivocation.from_bytes(item)


def test_non_canonical_base64_note_is_refused(real: MemoryLog, fork: MemoryLog) -> None:
    data = Equivocation(real.vkey, real.checkpoint(), fork.checkpoint()).to_bytes()
    lines = data.decode().split("\n")
    assert lines[2].endswith("=") or lines[2][-1] in "AQgw"  # a padded or bit-aligned end
    # Set unused low bits of the last base64 character: same bytes, another spelling.
    last = lines[2].rstrip("=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    padding = len(lines[2]) - len(last)
    if padding:
        bumped = alphabet[alphabet.index(last[-1]) + 1]
        lines[2] = last[:-1] + bumped + "=" * padding
        with pytest.raises(FormatError, match="not canonical base64"):
            Equivocation.from_bytes("\n".join(lines).encode())

"""tlog-policy: parsing, writing, quorum evaluation and checkpoint verification."""

from __future__ import annotations

import contextlib
import hashlib
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.checkpoint import Checkpoint, log_signer, log_verifier, sign_checkpoint
from ledger.cosignature import CosignatureSigner, CosignerKey
from ledger.errors import FormatError, LedgerError, VerificationError
from ledger.keys import SigningKey
from ledger.note import Note, NoteSignature, sign_note
from ledger.policy import (
    NONE,
    Policy,
    PolicyGroup,
    PolicyLog,
    PolicyWitness,
)
from ledger.types import Hash


def _key(n: int) -> SigningKey:
    return SigningKey.from_seed(hashlib.sha256(b"policy test key %d" % n).digest())


LOG = _key(0)
OTHER_LOG = _key(1)
WITNESSES = {name: _key(10 + i) for i, name in enumerate(["X1", "X2", "X3", "Y1", "Y2", "Y3"])}


def wkey(name: str) -> str:
    return CosignerKey(f"{name.lower()}.example", WITNESSES[name].public).to_vkey()


LOG_VKEY = log_verifier(LOG.public).to_vkey()
OTHER_LOG_VKEY = log_verifier(OTHER_LOG.public).to_vkey()

# The example in c2sp.org/tlog-policy, with real keys.
SPEC_POLICY = f"""log {LOG_VKEY}

witness X1 {wkey("X1")}
witness X2 {wkey("X2")}
witness X3 {wkey("X3")}
group X-witnesses 2 X1 X2 X3

witness Y1 {wkey("Y1")}
witness Y2 {wkey("Y2")}
witness Y3 {wkey("Y3")}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
"""


def spec_policy() -> Policy:
    return Policy.from_text(SPEC_POLICY)


def test_spec_example_parses() -> None:
    policy = spec_policy()
    assert [log.verifier.to_vkey() for log in policy.logs] == [LOG_VKEY]
    assert [w.name for w in policy.witnesses] == ["X1", "X2", "X3", "Y1", "Y2", "Y3"]
    assert [(g.name, g.threshold) for g in policy.groups] == [
        ("X-witnesses", 2),
        ("Y-witnesses", 1),
        ("X-and-Y", 2),
    ]
    assert policy.quorum == "X-and-Y"


def test_spec_example_round_trips() -> None:
    policy = spec_policy()
    text = policy.to_text()
    assert Policy.from_text(text) == policy
    assert Policy.from_bytes(policy.to_bytes()) == policy
    assert Policy.from_text(SPEC_POLICY.encode()) == policy
    assert text.endswith("quorum X-and-Y\n")


@pytest.mark.parametrize(
    ("signed", "expected"),
    [
        ((), False),
        (("X1", "X2"), False),
        (("Y1", "Y2", "Y3"), False),
        (("X1", "Y3"), False),
        (("X1", "X3", "Y2"), True),
        (("X1", "X2", "X3", "Y1", "Y2", "Y3"), True),
        (("X2", "X3", "Y1", "unknown"), True),
    ],
)
def test_spec_quorum(signed: tuple[str, ...], expected: bool) -> None:
    assert spec_policy().satisfied(set(signed)) is expected


def test_quorum_none_and_single_witness() -> None:
    assert Policy.from_text(f"log {LOG_VKEY}\nquorum none\n").satisfied(set())
    single = Policy.from_text(f"witness W {wkey('X1')}\nquorum W\n")
    assert single.satisfied({"W"})
    assert not single.satisfied(set())
    assert Policy.from_text("quorum none").logs == ()  # logs known from elsewhere


def test_whitespace_comments_and_urls() -> None:
    text = (
        f"  # a comment\n\t\n \tlog\t{LOG_VKEY}   https://log.example/  \n"
        f"#another\nwitness\tW1 {wkey('X1')} https://w1.example/\n"
        f"   \t# indented comment\n"
        f"group  G \t any W1\t\nquorum G"  # no final newline
    )
    policy = Policy.from_text(text)
    assert policy.logs[0].url == "https://log.example/"
    assert policy.witnesses[0].url == "https://w1.example/"
    assert policy.to_text() == (
        f"log {LOG_VKEY} https://log.example/\n"
        f"witness W1 {wkey('X1')} https://w1.example/\n"
        "group G any W1\nquorum G\n"
    )


def test_names_are_opaque_octets() -> None:
    kelvin = "\u212a"  # KELVIN SIGN, not the letter K
    data = (
        f"witness K {wkey('X1')}\nwitness {kelvin} {wkey('X2')}\n".encode()
        + b"witness \xff\xfe "
        + wkey("X3").encode()
        + b"\n"
        + b"# comment \x80\xff\n"
        + f"group g all K {kelvin} ".encode()
        + b"\xff\xfe\nquorum g\n"
    )
    policy = Policy.from_bytes(data)
    names = [w.name for w in policy.witnesses]
    assert names[:2] == ["K", kelvin]
    assert len(set(names)) == 3
    assert policy.satisfied({"K", kelvin, names[2]})
    assert not policy.satisfied({"K", "k", names[2]})
    assert Policy.from_bytes(policy.to_bytes()) == policy
    assert b"\xff\xfe" in policy.to_bytes()


def test_threshold_edges() -> None:
    text = f"witness A {wkey('X1')}\nwitness B {wkey('X2')}\n"
    for rule, need in [("1", 1), ("2", 2), ("any", 1), ("all", 2)]:
        policy = Policy.from_text(text + f"group g {rule} A B\nquorum g\n")
        assert policy.groups[0].threshold == need
        for k in range(3):
            for signed in combinations("AB", k):
                assert policy.satisfied(set(signed)) is (k >= need)


def test_deep_nesting_is_not_recursive() -> None:
    lines = [f"witness w {wkey('X1')}", "group g0 any w"]
    lines += [f"group g{i} all g{i - 1}" for i in range(1, 5000)]
    policy = Policy.from_text("\n".join([*lines, "quorum g4999"]))
    assert policy.satisfied({"w"})
    assert not policy.satisfied(set())


VK = wkey("X1")
VK2 = wkey("X2")
POLICY_CORPUS: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("comments only", b"# nothing\n\n"),
    ("no quorum", f"log {LOG_VKEY}\n".encode()),
    ("two quorums", b"quorum none\nquorum none\n"),
    ("quorum with two names", f"witness A {VK}\nquorum A none\n".encode()),
    ("quorum without name", b"quorum\n"),
    ("quorum forward reference", f"quorum A\nwitness A {VK}\n".encode()),
    ("quorum undefined", b"quorum A\n"),
    ("unknown keyword", b"quorum none\nwitnesses A B\n"),
    ("keyword case", f"Witness A {VK}\nquorum none\n".encode()),
    ("inline comment", b"quorum none # comment\n"),
    ("CRLF", b"quorum none\r\n"),
    ("NUL", b"quorum none\x00\n"),
    ("DEL", b"quorum none\x7f\n"),
    ("vertical tab", b"quorum\x0bnone\n"),
    ("form feed", b"quorum none\n\x0c\n"),
    ("log without vkey", b"log\nquorum none\n"),
    ("log with two urls", f"log {LOG_VKEY} a b\nquorum none\n".encode()),
    ("log bad vkey", b"log example.com+00000000+AAAA\nquorum none\n"),
    ("log with cosigner key", f"log {VK}\nquorum none\n".encode()),
    ("duplicate log", f"log {LOG_VKEY}\nlog {LOG_VKEY}\nquorum none\n".encode()),
    (
        "duplicate log key under another name",
        f"log {LOG_VKEY}\nlog {log_verifier(LOG.public).__class__('other', LOG.public).to_vkey()}"
        "\nquorum none\n".encode(),
    ),
    ("witness without vkey", b"witness A\nquorum none\n"),
    ("witness with extra item", f"witness A {VK} url extra\nquorum none\n".encode()),
    ("witness with log key", f"witness A {LOG_VKEY}\nquorum none\n".encode()),
    ("witness vkey not UTF-8", b"witness A \xff+00000000+AAAA\nquorum none\n"),
    ("duplicate witness name", f"witness A {VK}\nwitness A {VK2}\nquorum none\n".encode()),
    ("duplicate witness key", f"witness A {VK}\nwitness B {VK}\nquorum none\n".encode()),
    (
        "duplicate witness key under another key name",
        f"witness A {VK}\nwitness B {CosignerKey('b', WITNESSES['X1'].public).to_vkey()}\n"
        "quorum none\n".encode(),
    ),
    ("witness named none", f"witness none {VK}\nquorum none\n".encode()),
    ("group named none", f"witness A {VK}\ngroup none any A\nquorum none\n".encode()),
    ("group name clashes with witness", f"witness A {VK}\ngroup A any A\nquorum A\n".encode()),
    ("group without members", f"witness A {VK}\ngroup g any\nquorum g\n".encode()),
    ("group without rule", b"group g\nquorum none\n"),
    ("group forward reference", f"group g any A\nwitness A {VK}\nquorum g\n".encode()),
    ("group self reference", f"witness A {VK}\ngroup g any A g\nquorum g\n".encode()),
    ("group member twice", f"witness A {VK}\ngroup g any A A\nquorum g\n".encode()),
    ("none as member", f"witness A {VK}\ngroup g any A none\nquorum g\n".encode()),
    ("threshold zero", f"witness A {VK}\ngroup g 0 A\nquorum g\n".encode()),
    ("threshold above n", f"witness A {VK}\ngroup g 2 A\nquorum g\n".encode()),
    ("threshold leading zero", f"witness A {VK}\ngroup g 01 A\nquorum g\n".encode()),
    ("threshold plus sign", f"witness A {VK}\ngroup g +1 A\nquorum g\n".encode()),
    ("threshold negative", f"witness A {VK}\ngroup g -1 A\nquorum g\n".encode()),
    ("threshold word", f"witness A {VK}\ngroup g some A\nquorum g\n".encode()),
    ("threshold uppercase ALL", f"witness A {VK}\ngroup g ALL A\nquorum g\n".encode()),
    ("threshold non-ASCII digit", f"witness A {VK}\ngroup g \u0661 A\nquorum g\n".encode()),
    ("truncated", f"witness A {VK}\ngroup g any A\nquor".encode()),
    ("reordered lines", f"quorum g\ngroup g any A\nwitness A {VK}\n".encode()),
    ("trailing garbage", b"quorum none\ngarbage\n"),
]


@pytest.mark.parametrize("data", [c[1] for c in POLICY_CORPUS], ids=[c[0] for c in POLICY_CORPUS])
def test_policy_corpus(data: bytes) -> None:
    with pytest.raises(FormatError):
        Policy.from_bytes(data)


def test_errors_name_the_line() -> None:
    with pytest.raises(FormatError, match="policy line 3"):
        Policy.from_text(f"# c\nwitness A {VK}\ngroup g 2 A\nquorum g\n")


@pytest.mark.parametrize(
    "build",
    [
        lambda: PolicyWitness("a b", CosignerKey("w", WITNESSES["X1"].public)),
        lambda: PolicyWitness("", CosignerKey("w", WITNESSES["X1"].public)),
        lambda: PolicyWitness("a", CosignerKey("w", WITNESSES["X1"].public), url="x y"),
        lambda: PolicyLog(log_verifier(LOG.public), url=""),
        lambda: PolicyGroup("g", "any", ()),
        lambda: PolicyGroup("g", "3", ("a", "b")),
        lambda: PolicyGroup("g", "any", ("a", "a")),
        lambda: PolicyGroup("g", "any", (NONE,)),
        lambda: Policy(quorum="missing"),
        lambda: Policy(groups=(PolicyGroup("g", "any", ("w",)),), quorum="g"),
    ],
    ids=[
        "space in name",
        "empty name",
        "space in url",
        "empty url",
        "no members",
        "k above n",
        "member twice",
        "none member",
        "undefined quorum",
        "undefined member",
    ],
)
def test_invalid_policy_values(build: object) -> None:
    with pytest.raises(FormatError):
        build()  # type: ignore[operator]


# --- verifying checkpoints --------------------------------------------------------------------

CP = Checkpoint(origin=f"rdh/{LOG.public.party_id}", size=7, root=Hash(bytes(range(32))))
OTHER_CP = Checkpoint(origin=f"rdh/{OTHER_LOG.public.party_id}", size=1, root=CP.root)


def cosigned(*names: str, checkpoint: Checkpoint = CP, log: SigningKey = LOG) -> bytes:
    cosigners = [
        CosignatureSigner(f"{n.lower()}.example", WITNESSES[n], 1000 + i)
        for i, n in enumerate(names)
    ]
    return sign_checkpoint(checkpoint, log_signer(log), cosigners)


def test_verify_checkpoint_meets_quorum() -> None:
    policy = spec_policy()
    signed = policy.verify_checkpoint(cosigned("X1", "X3", "Y2"))
    assert signed.checkpoint == CP
    assert signed.cosigned_by == ("x1.example", "x3.example", "y2.example")
    assert policy.witness_names(signed.cosignatures) == {"X1", "X3", "Y2"}
    assert policy.verify_checkpoint(cosigned("X1", "X3", "Y2")) == signed


def test_unknown_signatures_do_not_count() -> None:
    note = Note.from_bytes(cosigned("X1", "Y1"))
    stranger = CosignatureSigner("x2.example", _key(99), 5)  # right name, unknown key
    extra = NoteSignature(stranger.name, stranger.key_id, stranger.sign(CP.to_text().encode()))
    data = note.add_signatures([extra]).to_bytes()
    with pytest.raises(VerificationError, match="quorum"):
        spec_policy().verify_checkpoint(data)


CHECKPOINT_CASES: list[tuple[str, bytes, type[LedgerError]]] = [
    ("no cosignatures", cosigned(), VerificationError),
    ("one group short", cosigned("X1", "X2"), VerificationError),
    ("below threshold", cosigned("X1", "Y1", "Y2"), VerificationError),
    (
        "log not in policy",
        cosigned("X1", "X2", "Y1", checkpoint=OTHER_CP, log=OTHER_LOG),
        VerificationError,
    ),
    (
        "origin is not the log's name",
        sign_note(
            Checkpoint(origin="example.com/log", size=7, root=CP.root).to_text(),
            [
                log_signer(LOG),
                *[
                    CosignatureSigner(f"{n.lower()}.example", WITNESSES[n], 1)
                    for n in ("X1", "X2", "Y1")
                ],
            ],
        ),
        VerificationError,
    ),
    (
        "bad cosignature by a policy witness",
        cosigned("X1", "X2", "Y1")[:-6] + b"AAAA=\n",
        VerificationError,
    ),
    ("truncated", cosigned("X1", "X2", "Y1")[:-3], FormatError),
    ("CRLF", cosigned("X1", "X2", "Y1").replace(b"\n", b"\r\n"), FormatError),
]


@pytest.mark.parametrize(
    ("data", "error"), [c[1:] for c in CHECKPOINT_CASES], ids=[c[0] for c in CHECKPOINT_CASES]
)
def test_checkpoint_policy_corpus(data: bytes, error: type[LedgerError]) -> None:
    with pytest.raises(error):
        spec_policy().verify_checkpoint(data)


def test_policy_without_logs_needs_a_log_key() -> None:
    policy = Policy.from_text(f"witness W {wkey('X1')}\nquorum W\n")
    with pytest.raises(VerificationError, match="no log"):
        policy.verify_checkpoint(cosigned("X1"))
    signed = policy.verify_checkpoint(cosigned("X1"), log=log_verifier(LOG.public))
    assert signed.cosigned_by == ("x1.example",)


def test_two_logs_either_may_sign() -> None:
    policy = Policy.from_text(f"log {OTHER_LOG_VKEY}\nlog {LOG_VKEY}\nquorum none\n")
    assert policy.verify_checkpoint(cosigned()).log.public_key == LOG.public
    assert (
        policy.verify_checkpoint(cosigned(checkpoint=OTHER_CP, log=OTHER_LOG)).checkpoint
        == OTHER_CP
    )


@settings(max_examples=60, deadline=None)
@given(signed=st.sets(st.sampled_from(sorted(WITNESSES))))
def test_quorum_matches_direct_rule(signed: set[str]) -> None:
    x = len(signed & {"X1", "X2", "X3"})
    y = len(signed & {"Y1", "Y2", "Y3"})
    assert spec_policy().satisfied(signed) is (x >= 2 and y >= 1)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
def test_garbage_only_raises_format_errors(data: bytes) -> None:
    with contextlib.suppress(FormatError):
        Policy.from_bytes(data)

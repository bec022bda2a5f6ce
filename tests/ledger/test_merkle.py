"""Merkle tree hashes, proofs and verification (RFC 6962 / RFC 9162 §2.1)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.errors import LedgerError, VerificationError
from ledger.types import Hash
from tests.conftest import load_vector

VECTORS = load_vector("rfc6962.json")
LEAVES = [Hash(bytes.fromhex(h)) for h in VECTORS["leaf_hashes_hex"]]
BIG = 140_000  # leaves in the shared tree: several 2**k boundaries, well past 65,536


def _h(i: int) -> Hash:
    return Hash(hashlib.sha256(i.to_bytes(8, "big")).digest())


BIG_LEAVES = [_h(i) for i in range(BIG)]
BIG_TREE = merkle.MemoryTree(BIG_LEAVES)


# Reference definitions, written straight from RFC 9162 §2.1.1-2.1.4 (recursive, slow).


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[Hash]) -> Hash:
    if not d:
        return Hash(hashlib.sha256(b"").digest())
    if len(d) == 1:
        return d[0]
    k = _split(len(d))
    return merkle.node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: Sequence[Hash]) -> list[Hash]:
    if len(d) == 1:
        return []
    k = _split(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[Hash], b: bool) -> list[Hash]:
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = _split(len(d))
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


# What a verifier can tell apart. Proofs carry no sizes: a proof for (index, size) also proves
# every (index', size') whose path has the same shape, e.g. leaf 0 in trees of sizes 5 to 8.
# These shapes come from the recursive definitions, independently of the verifier under test.


def inclusion_shape(m: int, n: int) -> tuple[str, ...]:
    """Side of each sibling on PATH(m, D[n]), nearest the leaf first."""
    if n == 1:
        return ()
    k = _split(n)
    if m < k:
        return (*inclusion_shape(m, k), "right")
    return (*inclusion_shape(m - k, n - k), "left")


Expr = int | str | tuple["Expr", "Expr"]


def _consistency_shape(m: int, n: int, b: bool) -> tuple[int, Expr, Expr]:
    """(proof length, old root, new root) of SUBPROOF(m, D[n], b); proof element i is ``i``."""
    if m == n:
        return (0, "old", "old") if b else (1, 0, 0)
    k = _split(n)
    if m <= k:
        count, old, new = _consistency_shape(m, k, b)
        return count + 1, old, (new, count)
    count, old, new = _consistency_shape(m - k, n - k, False)
    return count + 1, (count, old), (count, new)


def consistency_shape(m: int, n: int) -> tuple[int, Expr, Expr]:
    return _consistency_shape(m, n, True)


def inclusion_accepts(index: int, size: int, like: tuple[int, int]) -> bool:
    """Would the proof of leaf like[0] in a tree of like[1] also prove (index, size)?"""
    return 0 <= index < size and inclusion_shape(index, size) == inclusion_shape(*like)


def consistency_accepts(old: int, new: int, like: tuple[int, int]) -> bool:
    """Would the proof from like[0] to like[1] (0 < like[0] <= like[1]) also prove old to new?"""
    if like[0] == like[1]:  # an empty proof between equal roots: any equal sizes but 0
        return 0 < old == new
    return 0 < old < new and consistency_shape(old, new) == consistency_shape(*like)


def test_shapes_make_some_other_sizes_indistinguishable() -> None:
    assert inclusion_accepts(0, 5, (0, 8))
    assert not inclusion_accepts(0, 4, (0, 8))
    assert consistency_accepts(1, 5, (1, 8))
    assert not consistency_accepts(2, 8, (1, 8))


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def hexes(proof: Sequence[bytes]) -> list[str]:
    return [p.hex() for p in proof]


# Vectors.


def test_leaf_hashes_match_vectors() -> None:
    inputs = [bytes.fromhex(x) for x in VECTORS["leaf_inputs_hex"]]
    assert [merkle.leaf_hash(x) for x in inputs] == LEAVES


def test_empty_root_is_sha256_of_nothing() -> None:
    assert merkle.EMPTY_ROOT.hex() == VECTORS["roots_hex"]["0"]


@pytest.mark.parametrize("size", range(9))
def test_roots_match_vectors(size: int) -> None:
    expected = VECTORS["roots_hex"][str(size)]
    tree = merkle.MemoryTree(LEAVES)
    assert merkle.root(LEAVES[:size]).hex() == expected
    assert tree.root(size).hex() == expected
    assert merkle.MemoryTree(LEAVES[:size]).root().hex() == expected
    assert merkle.tree_hash(size, tree.hash_at).hex() == expected
    assert ref_mth(LEAVES[:size]).hex() == expected


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-{c['size']}")
def test_inclusion_vectors(case: dict[str, Any]) -> None:
    tree = merkle.MemoryTree(LEAVES)
    index, size = case["index"], case["size"]
    proof = tree.inclusion_proof(index, size)
    assert hexes(proof) == case["proof"]
    merkle.verify_inclusion(
        leaf_hash=LEAVES[index],
        index=index,
        size=size,
        proof=[bytes.fromhex(p) for p in case["proof"]],
        root=bytes.fromhex(VECTORS["roots_hex"][str(size)]),
    )


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['old']}-{c['new']}")
def test_consistency_vectors(case: dict[str, Any]) -> None:
    tree = merkle.MemoryTree(LEAVES)
    old, new = case["old"], case["new"]
    assert hexes(tree.consistency_proof(old, new)) == case["proof"]
    merkle.verify_consistency(
        old_size=old,
        new_size=new,
        old_root=bytes.fromhex(VECTORS["roots_hex"][str(old)]),
        new_root=bytes.fromhex(VECTORS["roots_hex"][str(new)]),
        proof=[bytes.fromhex(p) for p in case["proof"]],
    )


# Exhaustive agreement with the RFC's recursive definitions on small trees.


def test_proofs_equal_rfc_definitions_for_small_trees() -> None:
    leaves = BIG_LEAVES[:33]
    tree = merkle.MemoryTree(leaves)
    for size in range(1, len(leaves) + 1):
        d = leaves[:size]
        assert tree.root(size) == ref_mth(d) == merkle.root(d)
        for index in range(size):
            assert tree.inclusion_proof(index, size) == ref_path(index, d)
        for old in range(1, size):
            assert tree.consistency_proof(old, size) == ref_subproof(old, d, True)


# Negative corpus on the vectors: every failure is a VerificationError.


def _inclusion_args(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "leaf_hash": LEAVES[case["index"]],
        "index": case["index"],
        "size": case["size"],
        "proof": [bytes.fromhex(p) for p in case["proof"]],
        "root": bytes.fromhex(VECTORS["roots_hex"][str(case["size"])]),
    }


def _variants(args: dict[str, Any], mutate: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    changed = dict(args, proof=list(args["proof"]))
    mutate(changed)
    return changed


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-{c['size']}")
def test_inclusion_every_flipped_bit_fails(case: dict[str, Any]) -> None:
    args = _inclusion_args(case)
    for field in ("leaf_hash", "root"):
        for bit in range(256):
            with pytest.raises(VerificationError):
                merkle.verify_inclusion(**dict(args, **{field: flip(args[field], bit)}))
    for i, element in enumerate(args["proof"]):
        for bit in range(256):
            proof = [*args["proof"][:i], flip(element, bit), *args["proof"][i + 1 :]]
            with pytest.raises(VerificationError):
                merkle.verify_inclusion(**dict(args, proof=proof))


INCLUSION_MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "index-plus-one": lambda a: a.update(index=a["index"] + 1),
    "index-minus-one": lambda a: a.update(index=a["index"] - 1),
    "index-equals-size": lambda a: a.update(index=a["size"]),
    "index-beyond-size": lambda a: a.update(index=a["size"] + 7),
    "index-negative": lambda a: a.update(index=-1),
    "size-doubled": lambda a: a.update(size=a["size"] * 2),
    "size-zero": lambda a: a.update(size=0),
    "size-negative": lambda a: a.update(size=-1),
    "proof-extra-hash": lambda a: a["proof"].append(LEAVES[0]),
    "proof-extra-copy": lambda a: a["proof"].insert(0, a["proof"][0] if a["proof"] else a["root"]),
    "proof-short": lambda a: a["proof"].pop() if a["proof"] else a["proof"].append(b"\x00" * 32),
    "proof-first-dropped": lambda a: a["proof"].pop(0) if a["proof"] else a.update(index=1),
    "proof-reversed": lambda a: a["proof"].reverse() if len(a["proof"]) > 1 else a.update(size=2),
    "element-31-bytes": lambda a: a["proof"].append(b"\x00" * 31),
    "element-33-bytes": lambda a: a["proof"].insert(0, b"\x00" * 33),
    "element-empty": lambda a: a["proof"].append(b""),
    "root-short": lambda a: a.update(root=a["root"][:31]),
    "root-long": lambda a: a.update(root=a["root"] + b"\x00"),
    "leaf-short": lambda a: a.update(leaf_hash=a["leaf_hash"][:31]),
    "leaf-is-data-not-hash": lambda a: a.update(leaf_hash=b"\x00" * 32),
    "root-empty": lambda a: a.update(root=merkle.EMPTY_ROOT),
}


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-{c['size']}")
@pytest.mark.parametrize("mutation", INCLUSION_MUTATIONS.values(), ids=INCLUSION_MUTATIONS.keys())
def test_inclusion_mutations_fail(
    case: dict[str, Any], mutation: Callable[[dict[str, Any]], None]
) -> None:
    with pytest.raises(VerificationError):
        merkle.verify_inclusion(**_variants(_inclusion_args(case), mutation))


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-{c['size']}")
def test_inclusion_every_other_index_and_size_fails(case: dict[str, Any]) -> None:
    args = _inclusion_args(case)
    like = (args["index"], args["size"])
    for index in range(-2, 20):
        for size in range(-1, 20):
            if inclusion_accepts(index, size, like):
                merkle.verify_inclusion(**dict(args, index=index, size=size))
            else:
                with pytest.raises(VerificationError):
                    merkle.verify_inclusion(**dict(args, index=index, size=size))


def _consistency_args(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "old_size": case["old"],
        "new_size": case["new"],
        "old_root": bytes.fromhex(VECTORS["roots_hex"][str(case["old"])]),
        "new_root": bytes.fromhex(VECTORS["roots_hex"][str(case["new"])]),
        "proof": [bytes.fromhex(p) for p in case["proof"]],
    }


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['old']}-{c['new']}")
def test_consistency_every_flipped_bit_fails(case: dict[str, Any]) -> None:
    args = _consistency_args(case)
    for field in ("old_root", "new_root"):
        for bit in range(256):
            with pytest.raises(VerificationError):
                merkle.verify_consistency(**dict(args, **{field: flip(args[field], bit)}))
    for i, element in enumerate(args["proof"]):
        for bit in range(256):
            proof = [*args["proof"][:i], flip(element, bit), *args["proof"][i + 1 :]]
            with pytest.raises(VerificationError):
                merkle.verify_consistency(**dict(args, proof=proof))


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['old']}-{c['new']}")
def test_consistency_every_other_size_pair_fails(case: dict[str, Any]) -> None:
    args = _consistency_args(case)
    like = (args["old_size"], args["new_size"])
    for old in range(-1, 12):
        for new in range(-1, 12):
            if consistency_accepts(old, new, like):
                merkle.verify_consistency(**dict(args, old_size=old, new_size=new))
            else:
                with pytest.raises(VerificationError):
                    merkle.verify_consistency(**dict(args, old_size=old, new_size=new))


CONSISTENCY_MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "proof-extra-hash": lambda a: a["proof"].append(LEAVES[0]),
    "proof-short": lambda a: a["proof"].pop() if a["proof"] else a["proof"].append(LEAVES[1]),
    "proof-first-dropped": lambda a: a["proof"].pop(0) if a["proof"] else a.update(new_size=9),
    "proof-empty": lambda a: a.update(proof=[]) if a["proof"] else a.update(new_size=2),
    "proof-with-old-root-prepended": lambda a: a["proof"].insert(0, a["old_root"]),
    "roots-swapped": lambda a: (
        a.update(old_root=a["new_root"], new_root=a["old_root"])
        if a["old_root"] != a["new_root"]
        else a.update(old_root=LEAVES[2])
    ),
    "old-greater-than-new": lambda a: a.update(old_size=a["new_size"] + 1),
    "old-zero": lambda a: a.update(old_size=0),
    "new-zero": lambda a: a.update(new_size=0),
    "element-31-bytes": lambda a: a["proof"].append(b"\x00" * 31),
    "element-33-bytes": lambda a: a["proof"].insert(0, b"\x00" * 33),
    "old-root-short": lambda a: a.update(old_root=a["old_root"][:31]),
    "new-root-long": lambda a: a.update(new_root=a["new_root"] + b"\x00"),
}


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['old']}-{c['new']}")
@pytest.mark.parametrize(
    "mutation", CONSISTENCY_MUTATIONS.values(), ids=CONSISTENCY_MUTATIONS.keys()
)
def test_consistency_mutations_fail(
    case: dict[str, Any], mutation: Callable[[dict[str, Any]], None]
) -> None:
    with pytest.raises(VerificationError):
        merkle.verify_consistency(**_variants(_consistency_args(case), mutation))


ROOT2 = bytes.fromhex(VECTORS["roots_hex"]["2"])
ROOT3 = bytes.fromhex(VECTORS["roots_hex"]["3"])
EMPTY = merkle.EMPTY_ROOT

SPECIAL_CONSISTENCY = {
    "zero-to-zero-ok": (0, 0, EMPTY, EMPTY, [], None),
    "zero-to-three-ok": (0, 3, EMPTY, ROOT3, [], None),
    "equal-sizes-ok": (3, 3, ROOT3, ROOT3, [], None),
    "zero-with-proof": (0, 3, EMPTY, ROOT3, [ROOT3], "must be empty"),
    "zero-with-other-root": (0, 3, ROOT3, ROOT3, [], "empty tree"),
    "equal-sizes-with-proof": (3, 3, ROOT3, ROOT3, [ROOT3], "must be empty"),
    "equal-sizes-different-roots": (3, 3, ROOT3, EMPTY, [], "different roots"),
    "old-beyond-new": (4, 3, ROOT3, ROOT3, [ROOT3], "cannot precede"),
    "negative-old": (-1, 3, ROOT3, ROOT3, [], "cannot precede"),
    "empty-proof": (3, 4, ROOT3, ROOT3, [], "is empty"),
}


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof", "error"),
    SPECIAL_CONSISTENCY.values(),
    ids=SPECIAL_CONSISTENCY.keys(),
)
def test_consistency_special_sizes(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes], error: str | None
) -> None:
    def call() -> None:
        merkle.verify_consistency(
            old_size=old, new_size=new, old_root=old_root, new_root=new_root, proof=proof
        )

    if error is None:
        call()
    else:
        with pytest.raises(VerificationError, match=error):
            call()


WRONG_LENGTHS = {
    "leaf": {"leaf_hash": LEAVES[0][:31]},
    "root": {"root": LEAVES[0] + b"\x00"},
    "element": {"proof": [LEAVES[1][:16], LEAVES[1][16:]]},
    "element-str": {"proof": [LEAVES[1].hex()]},
}


@pytest.mark.parametrize("change", WRONG_LENGTHS.values(), ids=WRONG_LENGTHS.keys())
def test_hashes_of_the_wrong_length_are_named(change: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "leaf_hash": LEAVES[0],
        "index": 0,
        "size": 2,
        "proof": [LEAVES[1]],
        "root": ROOT2,
    }
    merkle.verify_inclusion(**args)
    bad = dict(args, **change)
    with pytest.raises(VerificationError, match="is not a 32-byte hash"):
        merkle.verify_inclusion(**bad)
    # The same values as a consistency proof from size 1 (root: leaf 0) to size 2.
    merkle.verify_consistency(
        old_size=1, new_size=2, old_root=LEAVES[0], new_root=ROOT2, proof=[LEAVES[1]]
    )
    with pytest.raises(VerificationError, match="is not a 32-byte hash"):
        merkle.verify_consistency(
            old_size=1,
            new_size=2,
            old_root=bad["leaf_hash"],
            new_root=bad["root"],
            proof=bad["proof"],
        )


def test_inclusion_in_empty_tree_fails() -> None:
    with pytest.raises(VerificationError, match="not in a tree of size 0"):
        merkle.verify_inclusion(leaf_hash=LEAVES[0], index=0, size=0, proof=[], root=EMPTY)


# Builders and MemoryTree: misuse raises LedgerError, never IndexError or ValueError.

BUILDER_MISUSE: dict[str, Callable[[merkle.MemoryTree], object]] = {
    "index-equals-size": lambda t: t.inclusion_proof(8),
    "index-beyond-requested-size": lambda t: t.inclusion_proof(5, 5),
    "negative-index": lambda t: t.inclusion_proof(-1),
    "size-beyond-tree": lambda t: t.inclusion_proof(0, 9),
    "size-zero": lambda t: t.inclusion_proof(0, 0),
    "old-beyond-new": lambda t: t.consistency_proof(5, 4),
    "old-negative": lambda t: t.consistency_proof(-1, 4),
    "new-beyond-tree": lambda t: t.consistency_proof(2, 9),
    "root-beyond-tree": lambda t: t.root(9),
    "root-negative": lambda t: t.root(-1),
    "hash-at-incomplete": lambda t: t.hash_at(3, 1),
    "hash-at-too-high": lambda t: t.hash_at(4, 0),
    "hash-at-negative-level": lambda t: t.hash_at(-1, 0),
    "hash-at-negative-index": lambda t: t.hash_at(0, -1),
    "append-short-hash": lambda t: t.append(Hash(b"\x00" * 31)),
    "extend-long-hash": lambda t: t.extend([LEAVES[0], Hash(b"\x00" * 33)]),
}


@pytest.mark.parametrize("misuse", BUILDER_MISUSE.values(), ids=BUILDER_MISUSE.keys())
def test_builder_misuse_raises_ledger_error(
    misuse: Callable[[merkle.MemoryTree], object],
) -> None:
    tree = merkle.MemoryTree(LEAVES)
    with pytest.raises(LedgerError):
        misuse(tree)
    assert tree.size == 8
    assert tree.root().hex() == VECTORS["roots_hex"]["8"]


def test_module_builders_reject_bad_sizes() -> None:
    with pytest.raises(LedgerError, match="not in a tree"):
        merkle.inclusion_proof(index=0, size=0, hash_at=BIG_TREE.hash_at)
    with pytest.raises(LedgerError, match="cannot prove"):
        merkle.consistency_proof(old_size=3, new_size=2, hash_at=BIG_TREE.hash_at)
    with pytest.raises(LedgerError, match="negative"):
        merkle.tree_hash(-1, BIG_TREE.hash_at)
    assert merkle.consistency_proof(old_size=0, new_size=5, hash_at=BIG_TREE.hash_at) == []
    assert merkle.consistency_proof(old_size=5, new_size=5, hash_at=BIG_TREE.hash_at) == []


def test_memory_tree_append_extend_and_chunks_agree() -> None:
    one_by_one = merkle.MemoryTree()
    for i, h in enumerate(BIG_LEAVES[:1000]):
        assert one_by_one.append(h) == i
    chunked = merkle.MemoryTree()
    leaves = BIG_LEAVES[:1000]
    for start in range(0, 1000, 37):
        chunked.extend(leaves[start : start + 37])
    at_once = merkle.MemoryTree(iter(BIG_LEAVES[:1000]))
    assert len(one_by_one) == len(chunked) == len(at_once) == 1000
    for size in range(1001):
        assert one_by_one.root(size) == chunked.root(size) == at_once.root(size)
    for level in range(10):
        for n in range(1000 >> level):
            expected = BIG_TREE.hash_at(level, n)
            assert one_by_one.hash_at(level, n) == chunked.hash_at(level, n) == expected


def test_memory_tree_extend_is_all_or_nothing_per_bad_chunk() -> None:
    tree = merkle.MemoryTree(LEAVES[:3])
    with pytest.raises(LedgerError, match="32 bytes"):
        tree.extend([LEAVES[3], Hash(b"short")])
    assert tree.size == 3
    assert tree.root() == merkle.root(LEAVES[:3])


def test_big_tree_root_matches_list_root() -> None:
    assert BIG_TREE.root() == merkle.root(BIG_LEAVES)
    assert BIG_TREE.root(65536) == BIG_TREE.hash_at(16, 0)


def test_proof_building_calls_hash_at_logarithmically() -> None:
    calls = 0

    def counting(level: int, n: int) -> Hash:
        nonlocal calls
        calls += 1
        return BIG_TREE.hash_at(level, n)

    for size in (BIG, BIG - 1, 65537, 131071):
        for index in (0, 1, size // 3, size - 2, size - 1):
            calls = 0
            merkle.inclusion_proof(index=index, size=size, hash_at=counting)
            assert calls <= 2 * size.bit_length()
            calls = 0
            merkle.consistency_proof(old_size=index + 1, new_size=size, hash_at=counting)
            assert calls <= 2 * size.bit_length() + 1


# Properties on the shared 140,000-leaf tree (any prefix of it is a tree of that size).

sizes = st.one_of(st.integers(1, 300), st.integers(1, BIG))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), size=sizes)
def test_every_inclusion_proof_verifies_and_tampering_fails(data: st.DataObject, size: int) -> None:
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = BIG_TREE.inclusion_proof(index, size)
    root = BIG_TREE.root(size)
    leaf = BIG_LEAVES[index]
    merkle.verify_inclusion(leaf_hash=leaf, index=index, size=size, proof=proof, root=root)
    assert merkle.root_from_inclusion(leaf_hash=leaf, index=index, size=size, proof=proof) == root

    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="element")
        bit = data.draw(st.integers(0, 255), label="bit")
        bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
        with pytest.raises(VerificationError):
            merkle.verify_inclusion(leaf_hash=leaf, index=index, size=size, proof=bad, root=root)
    bit = data.draw(st.integers(0, 255), label="leaf bit")
    with pytest.raises(VerificationError):
        merkle.verify_inclusion(
            leaf_hash=flip(leaf, bit), index=index, size=size, proof=proof, root=root
        )
    other = data.draw(st.integers(-1, 2 * size).filter(lambda i: i != index), label="other")
    wrong = data.draw(st.integers(0, 2 * size + 2).filter(lambda s: s != size), label="size")
    for i, s in ((other, size), (index, wrong), (other, wrong)):
        if inclusion_accepts(i, s, (index, size)):
            merkle.verify_inclusion(leaf_hash=leaf, index=i, size=s, proof=proof, root=root)
        else:
            with pytest.raises(VerificationError):
                merkle.verify_inclusion(leaf_hash=leaf, index=i, size=s, proof=proof, root=root)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), new=sizes)
def test_every_consistency_proof_verifies_and_tampering_fails(
    data: st.DataObject, new: int
) -> None:
    old = data.draw(st.integers(1, new), label="old")
    proof = BIG_TREE.consistency_proof(old, new)
    old_root, new_root = BIG_TREE.root(old), BIG_TREE.root(new)
    args: dict[str, Any] = {
        "old_size": old,
        "new_size": new,
        "old_root": old_root,
        "new_root": new_root,
        "proof": proof,
    }
    merkle.verify_consistency(**args)
    if old == new:
        return
    i = data.draw(st.integers(0, len(proof) - 1), label="element")
    bit = data.draw(st.integers(0, 255), label="bit")
    bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
    with pytest.raises(VerificationError):
        merkle.verify_consistency(**dict(args, proof=bad))
    with pytest.raises(VerificationError):
        merkle.verify_consistency(**dict(args, old_root=flip(old_root, bit)))
    with pytest.raises(VerificationError):
        merkle.verify_consistency(**dict(args, new_root=flip(new_root, bit)))
    other_old = data.draw(st.integers(0, new + 3).filter(lambda s: s != old), label="other old")
    other_new = data.draw(st.integers(0, 2 * new).filter(lambda s: s != new), label="other new")
    for m, n in ((other_old, new), (old, other_new), (other_old, other_new)):
        if consistency_accepts(m, n, (old, new)):
            merkle.verify_consistency(**dict(args, old_size=m, new_size=n))
        else:
            with pytest.raises(VerificationError):
                merkle.verify_consistency(**dict(args, old_size=m, new_size=n))
    with pytest.raises(VerificationError):
        merkle.verify_consistency(**dict(args, proof=proof[:-1]))
    with pytest.raises(VerificationError):
        merkle.verify_consistency(**dict(args, proof=[*proof, proof[-1]]))


def _uniform_hash_at() -> Callable[[int, int], Hash]:
    """A tree whose leaves are all equal: every subtree hash depends only on its level."""
    by_level = [merkle.leaf_hash(b"same")]
    for _ in range(64):
        by_level.append(merkle.node_hash(by_level[-1], by_level[-1]))
    return lambda level, n: by_level[level]


@settings(max_examples=200, deadline=None)
@given(data=st.data(), size=st.integers(1, 2**63))
def test_proofs_verify_for_huge_trees(data: st.DataObject, size: int) -> None:
    hash_at = _uniform_hash_at()
    index = data.draw(st.integers(0, size - 1), label="index")
    root = merkle.tree_hash(size, hash_at)
    proof = merkle.inclusion_proof(index=index, size=size, hash_at=hash_at)
    merkle.verify_inclusion(leaf_hash=hash_at(0, 0), index=index, size=size, proof=proof, root=root)
    old = data.draw(st.integers(1, size), label="old")
    proof = merkle.consistency_proof(old_size=old, new_size=size, hash_at=hash_at)
    old_root = merkle.tree_hash(old, hash_at)
    merkle.verify_consistency(
        old_size=old, new_size=size, old_root=old_root, new_root=root, proof=proof
    )
    if proof:
        with pytest.raises(VerificationError):
            merkle.verify_consistency(
                old_size=old, new_size=size, old_root=old_root, new_root=root, proof=proof[1:]
            )

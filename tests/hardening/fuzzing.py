"""Input strategies for fuzzing parsers: random bytes and edits of genuine inputs."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.hardening.parsers import Target

__all__ = ["inputs", "mutated"]

#: Bytes that matter to the formats: separators, JSON punctuation, escapes, big numbers.
_TOKENS = [
    b"\n",
    b"\n\n",
    b" ",
    b"\xe2\x80\x94 ",
    b"+",
    b"=",
    b"/",
    b".p/",
    b"x",
    b"\x00",
    b"\xff",
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\\u0000",
    b"\\ud800",
    b"-0",
    b"1e2",
    b"1.0",
    b"9007199254740992",
    b"9" * 5000,
    b"[" * 200,
    b"\r\n",
    b"\t",
    b"\xef\xbb\xbf",
]


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with one to three random edits: flips, cuts, insertions, splices of tokens."""
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            return draw(st.binary(max_size=64))
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "token", "duplicate"]))
        if kind == "flip":
            out = bytearray(data)
            out[at] ^= draw(st.integers(1, 255))
            data = bytes(out)
        elif kind == "truncate":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
        elif kind == "token":
            end = draw(st.integers(at, min(len(data), at + 8)))
            data = data[:at] + draw(st.sampled_from(_TOKENS)) + data[end:]
        else:
            end = draw(st.integers(at, len(data)))
            data = data[:end] + data[at:end] + data[end:]
    return data


def inputs(target: Target) -> st.SearchStrategy[bytes]:
    """Random bytes (a quarter of the cases) or edited seeds of `target`."""
    edited = st.sampled_from(target.seeds).flatmap(mutated)
    return st.one_of(st.binary(max_size=512), edited, edited, edited)

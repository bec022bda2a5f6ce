"""C2SP signed notes: text signed by one or more named keys.

Owns the `signed-note` wire format and its verifier keys, byte-compatible with Go's
golang.org/x/mod/sumdb/note (`Open`, `Sign`, `NewVerifier`, `NewSigner`):

    <text ending in "\\n">
    <blank line>
    — <key name> <base64(4-byte big-endian key id || signature)>
    ...

The text is separated from the signatures by the *last* blank line. A note is valid UTF-8
with no control character other than newline. Key names are non-empty, with no Unicode
space and no '+'. Key id = SHA-256(name || 0x0A || type || public key)[:4].

What a signature signs is up to its key type: an Ed25519 key (type 0x01, `NoteVerifier`)
signs the note text; a witness cosignature (type 0x04) is defined in `ledger.cosignature`.
Both satisfy the `Verifier`/`Signer` protocols used here. Parsing checkpoints is left to
`ledger.checkpoint`.

Verification follows Go's `Open`, and is stricter where Go is lenient:

- a signature by a known key (same name *and* key id) must verify, else `VerificationError`;
- at least one known signature must verify, else `VerificationError`;
- unknown signatures are kept (identical lines once) and reported as unverified;
- more than 100 signature lines, a signature shorter than 5 bytes, or base64 that is not
  canonical standard base64 are a `FormatError`;
- a second signature by one known key is a `FormatError`. (Go's `Open` silently drops it
  without checking it; C2SP says a known key's signature MUST be verified, so we refuse.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ledger.errors import FormatError, VerificationError
from ledger.keys import SigningKey, VerifyingKey, decode_base64, encode_base64

__all__ = [
    "KEY_TYPE_COSIGNATURE",
    "KEY_TYPE_ED25519",
    "MAX_SIGNATURES",
    "Note",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "Signer",
    "VerifiedNote",
    "Verifier",
    "check_key_name",
    "key_id",
    "parse_vkey",
    "sign_note",
    "verify_note",
]

#: Signature type of an Ed25519 note signature over the note text.
KEY_TYPE_ED25519 = 0x01
#: Signature type of a timestamped Ed25519 witness cosignature (c2sp.org/tlog-cosignature).
KEY_TYPE_COSIGNATURE = 0x04
#: Go's `Open` refuses notes with more signature lines than this.
MAX_SIGNATURES = 100

_SIG_PREFIX = "\u2014 "  # EM DASH, space
_ED25519_KEY_SIZE = 32
_ED25519_SIG_SIZE = 64
_MIN_SIGNATURE_BYTES = 5  # key id plus at least one byte
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
# Go's unicode.IsSpace: the Unicode White_Space property.
_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_SKEY_PREFIX = "PRIVATE+KEY+"


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise FormatError(f"{what} is not valid Unicode text") from e


def check_key_name(name: str) -> None:
    """Raise `FormatError` unless `name` is a valid key name (non-empty, no space, no '+')."""
    if not isinstance(name, str) or not name:
        raise FormatError("a key name must be a non-empty string")
    _utf8(name, "the key name")
    if "+" in name or not _SPACES.isdisjoint(name):
        raise FormatError(f"key name {name!r} contains a space or '+'")


def key_id(name: str, key_type: int, public_key: bytes) -> int:
    """The 32-bit key id: SHA-256(name || 0x0A || type || public key)[:4], big-endian."""
    check_key_name(name)
    if not 0 <= key_type <= 0xFF:
        raise FormatError("a key type is one byte")
    digest = hashlib.sha256(_utf8(name, "the key name") + b"\n" + bytes([key_type]) + public_key)
    return int.from_bytes(digest.digest()[:4], "big")


def parse_vkey(vkey: str) -> tuple[str, int, int, bytes]:
    """Split a verifier key `<name>+<8 hex key id>+<base64(type || key)>`.

    Returns `(name, key id, key type, key material)` after checking, like Go's
    `NewVerifier`, that the key id is the one computed from the rest.
    """
    if not isinstance(vkey, str):
        raise FormatError("a verifier key must be a string")
    name, _, rest = vkey.partition("+")
    hex_id, _, key64 = rest.partition("+")
    check_key_name(name)
    if not _HEX8.fullmatch(hex_id):
        raise FormatError("the key id of a verifier key must be 8 hex digits")
    raw = decode_base64(key64, what="the verifier key's public key")
    if not raw:
        raise FormatError("the verifier key has no public key")
    kid = int(hex_id, 16)
    if kid != key_id(name, raw[0], raw[1:]):
        raise FormatError(f"verifier key {name!r}: the key id does not match the key")
    return name, kid, raw[0], raw[1:]


def _ed25519_key(key_type: int, wanted: int, material: bytes) -> VerifyingKey:
    if key_type != wanted:
        raise FormatError(f"the key has signature type 0x{key_type:02x}, not 0x{wanted:02x}")
    if len(material) != _ED25519_KEY_SIZE:
        raise FormatError("an Ed25519 public key is 32 bytes")
    return VerifyingKey.from_bytes(material)


class Verifier(Protocol):
    """A known key that can check signatures in a note (Go's `note.Verifier`)."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, *, text: bytes, signature: bytes) -> None:
        """Raise `VerificationError` unless `signature` (key id removed) signs `text`."""


class Signer(Protocol):
    """A private key that signs a note's text (Go's `note.Signer`)."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, text: bytes) -> bytes:
        """The signature over the note text `text` (without the 4-byte key id)."""


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A named Ed25519 key (type 0x01) that signs note text; encoded as a vkey."""

    name: str
    public_key: VerifyingKey
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.public_key, VerifyingKey):
            raise FormatError("a note verifier needs a VerifyingKey")
        kid = key_id(self.name, KEY_TYPE_ED25519, self.public_key.to_bytes())
        object.__setattr__(self, "key_id", kid)

    @property
    def key_type(self) -> int:
        return KEY_TYPE_ED25519

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse `<name>+<key id>+<base64(0x01 || key)>`; the key id must match."""
        name, _, key_type, material = parse_vkey(vkey)
        return cls(name, _ed25519_key(key_type, KEY_TYPE_ED25519, material))

    def to_vkey(self) -> str:
        material = bytes([KEY_TYPE_ED25519]) + self.public_key.to_bytes()
        return f"{self.name}+{self.key_id:08x}+{encode_base64(material)}"

    def verify(self, *, text: bytes, signature: bytes) -> None:
        if len(signature) != _ED25519_SIG_SIZE:
            raise VerificationError(f"the signature by {self.name} is not 64 bytes")
        self.public_key.verify(signature=signature, data=text)


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """A named Ed25519 signing key (type 0x01). Its repr never shows the key."""

    name: str
    key: SigningKey = field(repr=False, compare=False)
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key, SigningKey):
            raise FormatError("a note signer needs a SigningKey")
        kid = key_id(self.name, KEY_TYPE_ED25519, self.key.public.to_bytes())
        object.__setattr__(self, "key_id", kid)

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.key.public)

    @property
    def vkey(self) -> str:
        return self.verifier.to_vkey()

    def sign(self, text: bytes) -> bytes:
        return self.key.sign(text)

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        """Parse Go's signer key `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`."""
        if not isinstance(skey, str) or not skey.startswith(_SKEY_PREFIX):
            raise FormatError("a signer key starts with PRIVATE+KEY+")
        name, _, rest = skey[len(_SKEY_PREFIX) :].partition("+")
        hex_id, _, key64 = rest.partition("+")
        check_key_name(name)
        if not _HEX8.fullmatch(hex_id):
            raise FormatError("the key id of a signer key must be 8 hex digits")
        raw = decode_base64(key64, what="the signer key")
        if len(raw) != 1 + _ED25519_KEY_SIZE or raw[0] != KEY_TYPE_ED25519:
            raise FormatError("a signer key holds type 0x01 and a 32-byte Ed25519 seed")
        signer = cls(name, SigningKey.from_seed(raw[1:]))
        if signer.key_id != int(hex_id, 16):
            raise FormatError(f"signer key {name!r}: the key id does not match the key")
        return signer

    def to_skey(self) -> str:
        """Go's signer key encoding. It contains the private key: keep it secret."""
        material = bytes([KEY_TYPE_ED25519]) + self.key.seed()
        return f"{_SKEY_PREFIX}{self.name}+{self.key_id:08x}+{encode_base64(material)}"


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, key id, and the signature bytes after the key id."""

    name: str
    key_id: int
    signature: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if not isinstance(self.key_id, int) or not 0 <= self.key_id <= 0xFFFFFFFF:
            raise FormatError("a key id is a 32-bit unsigned integer")
        if not isinstance(self.signature, bytes) or not self.signature:
            raise FormatError("a note signature must not be empty")

    def to_line(self) -> str:
        """`— <name> <base64(key id || signature)>\\n`."""
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_SIG_PREFIX}{self.name} {encode_base64(raw)}\n"

    @classmethod
    def from_line(cls, line: str) -> NoteSignature:
        """Parse one signature line, with or without its final newline."""
        body = line.removesuffix("\n")
        if not body.startswith(_SIG_PREFIX) or "\n" in body:
            raise FormatError("a signature line must start with an em dash and a space")
        name, _, b64 = body[len(_SIG_PREFIX) :].partition(" ")
        check_key_name(name)
        raw = decode_base64(b64, what=f"the signature by {name}")
        if len(raw) < _MIN_SIGNATURE_BYTES:
            raise FormatError(f"the signature by {name} is too short")
        return cls(name, int.from_bytes(raw[:4], "big"), raw[4:])


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise FormatError("note text must end with a newline")
    _utf8(text, "note text")
    if _CONTROL.search(text):
        raise FormatError("note text contains a control character")


@dataclass(frozen=True, slots=True)
class Note:
    """A signed note as written: its text and signature lines, nothing verified yet."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def __post_init__(self) -> None:
        _check_text(self.text)
        if not 1 <= len(self.signatures) <= MAX_SIGNATURES:
            raise FormatError(f"a signed note has 1 to {MAX_SIGNATURES} signature lines")

    @classmethod
    def from_bytes(cls, data: bytes) -> Note:
        """Parse (and do not verify) a signed note; `FormatError` if malformed."""
        try:
            msg = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FormatError("a signed note must be UTF-8") from e
        if _CONTROL.search(msg):
            raise FormatError("a signed note contains a control character")
        split = msg.rfind("\n\n")
        if split < 0:
            raise FormatError("a signed note needs a blank line before its signatures")
        text, sigs = msg[: split + 1], msg[split + 2 :]
        if not sigs.endswith("\n"):
            raise FormatError("a signed note must end with a signature line and a newline")
        lines = sigs[:-1].split("\n")
        if len(lines) > MAX_SIGNATURES:
            raise FormatError(f"a signed note has more than {MAX_SIGNATURES} signatures")
        return cls(text, tuple(NoteSignature.from_line(line) for line in lines))

    def to_bytes(self) -> bytes:
        lines = "".join(sig.to_line() for sig in self.signatures)
        return (self.text + "\n" + lines).encode("utf-8")

    def add_signatures(self, signatures: Iterable[NoteSignature]) -> Note:
        """A copy with `signatures` appended; an existing signature by the same key (name and
        key id) is replaced, as Go's `Sign` does."""
        new = tuple(signatures)
        keys = {(s.name, s.key_id) for s in new}
        if len(keys) != len(new):
            raise FormatError("two of the new signatures are by the same key")
        kept = tuple(s for s in self.signatures if (s.name, s.key_id) not in keys)
        return Note(self.text, kept + new)


@dataclass(frozen=True, slots=True)
class VerifiedNote:
    """The outcome of `verify_note`: the text, the verified and the ignored signatures."""

    text: str
    signatures: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def sign_note(text: str, signers: Sequence[Signer]) -> bytes:
    """Sign `text` (which must end in a newline) with each signer, in order."""
    _check_text(text)
    if not signers:
        raise FormatError("a note needs at least one signer")
    data = text.encode("utf-8")
    sigs: list[NoteSignature] = []
    for signer in signers:
        sig = NoteSignature(signer.name, signer.key_id, signer.sign(data))
        if any((s.name, s.key_id) == (sig.name, sig.key_id) for s in sigs):
            raise FormatError(f"key {sig.name}+{sig.key_id:08x} is listed twice")
        sigs.append(sig)
    return Note(text, tuple(sigs)).to_bytes()


def _index(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier | None]:
    """Known keys by (name, key id); None marks two different keys sharing both."""
    known: dict[tuple[str, int], Verifier | None] = {}
    for v in verifiers:
        k = (v.name, v.key_id)
        if k in known and known[k] != v:
            known[k] = None
        else:
            known.setdefault(k, v)
    return known


def verify_note(data: bytes, verifiers: Iterable[Verifier]) -> VerifiedNote:
    """Parse `data` and check its signatures by the known `verifiers`.

    Raises `FormatError` if malformed, `VerificationError` if a known key's signature fails
    or no known key signed.
    """
    note = Note.from_bytes(data)
    known = _index(verifiers)
    text = note.text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    for sig in note.signatures:
        k = (sig.name, sig.key_id)
        if k not in known:
            if sig not in unverified:
                unverified.append(sig)
            continue
        verifier = known[k]
        if verifier is None:
            raise VerificationError(f"two different known keys are named {sig.name}+{k[1]:08x}")
        if any((s.name, s.key_id) == k for s in verified):
            raise FormatError(f"the note is signed twice by key {sig.name}+{k[1]:08x}")
        try:
            verifier.verify(text=text, signature=sig.signature)
        except VerificationError as e:
            raise VerificationError(f"the signature by {sig.name} does not verify: {e}") from e
        verified.append(sig)
    if not verified:
        raise VerificationError("the note is not signed by any known key")
    return VerifiedNote(note.text, tuple(verified), tuple(unverified))

"""Distinct kinds of strings and bytes used across the ledger.

`NewType`s keep a party id from being passed where an entry id is expected; they cost
nothing at run time.
"""

from __future__ import annotations

from typing import NewType, TypeAlias

__all__ = ["JSON", "EntryId", "Hash", "LogId", "PartyId"]

#: 32-byte SHA-256 digest (a Merkle tree node or leaf hash).
Hash = NewType("Hash", bytes)

#: Lowercase hex SHA-256 of a raw 32-byte Ed25519 public key.
PartyId = NewType("PartyId", str)

#: A log id is its node's party id.
LogId = PartyId

#: Lowercase hex of an entry's RFC 6962 leaf hash.
EntryId = NewType("EntryId", str)

#: A JSON value as parsed by `ledger.canonical` (no floats).
JSON: TypeAlias = "bool | int | str | list[JSON] | dict[str, JSON] | None"

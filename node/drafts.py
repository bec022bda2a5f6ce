"""A batch write's request body, read into `EntryDraft`s: `drafts_from_json(body)`.

The body of `POST /api/v1/entries` is `{"entries": [{type, body, refs?, signed?}, ...]}`
(1 to `MAX_BATCH` entries). It is parsed strictly (`ledger.canonical.parse`: duplicate
keys, floats, lone surrogates refused) and its shape checked by hand, with the layout of
marshmallow's errors (the API's `BatchIn` schema documents the same shape): a 1,000-entry
batch is the write path's hot path, and marshmallow would cost as much as the append.

It lives in `node`, not in the API, because the node's writer process reads the bodies it
is handed (`node.writer_process`): the server passes the bytes on unread. A body that is
not JSON is a `RequestBodyError` with status 400, one of the wrong shape 422; a statement
that cannot be read is `RuleRejected("statement.format")`. Each entry's nesting depth is
checked when the entry is built (`Entry.from_parsed_parts`), so the parse skips it.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from ledger.canonical import parse
from ledger.errors import LedgerError
from ledger.statement import SignedStatement
from node.errors import RequestBodyError, RuleRejected
from node.own_log import EntryDraft

__all__ = ["MAX_BATCH", "drafts_from_json"]

#: Most entries one write may append.
MAX_BATCH = 1000

_HEX64 = re.compile(r"[0-9a-f]{64}")
_DRAFT_KEYS = frozenset({"type", "body", "refs", "signed"})


def drafts_from_json(body: bytes) -> list[EntryDraft]:
    """The drafts of a batch write's JSON body (see the module doc for what is refused)."""
    try:
        value = parse(body, check_depth=False)
    except LedgerError as e:
        raise RequestBodyError(400, f"the body is not valid JSON for this API: {e}") from e
    if not isinstance(value, dict):
        raise RequestBodyError(422, "the body must be a JSON object")
    unknown = sorted(set(value) - {"entries"})
    if unknown:
        _shape({name: ["Unknown field."] for name in unknown})
    entries = value.get("entries")
    if not isinstance(entries, list):
        _shape(
            {
                "entries": [
                    "Missing data for required field." if entries is None else "Not a valid list."
                ]
            }
        )
    if not 1 <= len(entries) <= MAX_BATCH:
        _shape({"entries": [f"Length must be between 1 and {MAX_BATCH}."]})
    return [_draft(n, item) for n, item in enumerate(entries)]


def _draft(n: int, item: object) -> EntryDraft:
    if not isinstance(item, dict):
        _shape({"entries": {str(n): {"_schema": ["Invalid input type."]}}})
    problems: dict[str, list[str]] = {name: ["Unknown field."] for name in set(item) - _DRAFT_KEYS}
    kind, body = item.get("type"), item.get("body")
    refs, signed = item.get("refs", []), item.get("signed", [])
    if not isinstance(kind, str) or not 1 <= len(kind) <= 100:
        problems["type"] = [
            "Missing data for required field."
            if kind is None
            else "Not a valid string of 1 to 100 characters."
        ]
    if not isinstance(body, dict):
        problems["body"] = [
            "Missing data for required field." if body is None else "Not a valid mapping type."
        ]
    if not isinstance(refs, list) or not all(
        isinstance(r, str) and _HEX64.fullmatch(r) for r in refs
    ):
        problems["refs"] = ["Must be a list of entry ids (64 lowercase hex digits)."]
    if not isinstance(signed, list) or not all(isinstance(s, dict) for s in signed):
        problems["signed"] = ["Must be a list of signed statements."]
    if problems:
        _shape({"entries": {str(n): problems}})
    return EntryDraft(
        type=kind,  # type: ignore[arg-type]
        body=body,  # type: ignore[arg-type]
        refs=tuple(refs),
        signed=tuple(_statement(s) for s in signed),
        parsed=True,
    )


def _shape(errors: dict[str, Any]) -> NoReturn:
    raise RequestBodyError(422, "the body does not fit the request's schema", {"json": errors})


def _statement(data: dict[str, Any]) -> SignedStatement:
    try:
        return SignedStatement.from_dict(data)
    except Exception as e:  # a LedgerError: any malformed statement
        raise RuleRejected("statement.format", f"a statement cannot be read: {e}") from e

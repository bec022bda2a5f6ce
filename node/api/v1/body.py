"""Reading a request's JSON body strictly: the ledger's parser, then a marshmallow schema.

Flask's own JSON reader accepts duplicate keys (the last wins) and floats; a signed
statement read that way could differ from what was signed. Here a body must be
`application/json`, UTF-8, parse with `ledger.canonical.parse` (duplicate keys, floats,
lone surrogates, excessive nesting rejected) and then load with the given schema (unknown
fields rejected). Any failure is a 400/415/422 with the reason, before anything is done.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import request
from flask_smorest import abort
from marshmallow import Schema, ValidationError

from ledger.canonical import parse
from ledger.errors import LedgerError

__all__ = ["fail", "json_body", "json_object"]


def json_object() -> dict[str, Any]:
    """The request's JSON body, parsed strictly; it must be an object. (A batch write's
    body is read by `node.drafts`, the same way.)"""
    if request.mimetype != "application/json":
        fail(415, "send the body as application/json")
    data = request.get_data(cache=True)
    try:
        value = parse(data)
    except LedgerError as e:
        fail(400, f"the body is not valid JSON for this API: {e}")
    if not isinstance(value, dict):
        fail(422, "the body must be a JSON object")
    return value


def json_body(schema: Schema) -> Any:
    """The request's JSON body, parsed strictly and loaded with `schema`."""
    value = json_object()
    try:
        return schema.load(value)
    except ValidationError as e:
        fail(422, message="the body does not fit the request's schema", errors={"json": e.messages})


def fail(status: int, message: str, **kwargs: Any) -> NoReturn:
    """Answer the request with the API's JSON error (flask-smorest's `abort`, typed)."""
    abort(status, message=message, **kwargs)
    raise AssertionError("abort returned")  # pragma: no cover

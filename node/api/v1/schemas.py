"""Marshmallow schemas of the v1 requests and responses (they make the OpenAPI document).

Entry bodies are checked by the contract rules (`contracts.schemas`), not here: a write
names its type and gives the body as an object.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from node.drafts import MAX_BATCH

__all__ = [
    "MAX_BATCH",
    "AppendOut",
    "BatchIn",
    "EntryListArgs",
    "EntryOut",
    "PageArgs",
    "SignedStatementIn",
    "StrictSchema",
]


_HEX64 = validate.Regexp(r"^[0-9a-f]{64}$", error="must be 64 lowercase hex digits")


class StrictSchema(Schema):
    """A schema that rejects unknown fields."""

    class Meta:
        unknown = RAISE


class DraftIn(StrictSchema):
    type = fields.String(required=True, validate=validate.Length(1, 100))
    body = fields.Dict(required=True)
    refs = fields.List(fields.String(validate=_HEX64), load_default=list)
    signed = fields.List(fields.Dict(), load_default=list)


class BatchIn(StrictSchema):
    entries = fields.List(
        fields.Nested(DraftIn), required=True, validate=validate.Length(1, MAX_BATCH)
    )


class SignedStatementIn(StrictSchema):
    statement = fields.Dict(required=True)
    sig = fields.String(required=True, validate=validate.Length(1, 200))


class EntryRef(Schema):
    id = fields.String()
    log = fields.String()
    seq = fields.Integer()
    type = fields.String()


class AppendOut(Schema):
    entries = fields.List(fields.Nested(EntryRef))
    checkpoint = fields.String(metadata={"description": "the signed checkpoint note covering them"})


class EntryOut(Schema):
    id = fields.String()
    log = fields.String()
    seq = fields.Integer()
    type = fields.String()
    time = fields.String()
    entry = fields.Dict(metadata={"description": "the entry as JSON (its canonical bytes parsed)"})


class PageArgs(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class EntryListArgs(PageArgs):
    log = fields.String(validate=_HEX64)
    type = fields.String(validate=validate.Length(1, 100))
    after = fields.Integer(
        load_default=-1, validate=validate.Range(-1), metadata={"description": "seq to start after"}
    )

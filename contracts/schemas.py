"""Entry body schemas: one strict schema per entry type of DESIGN §5.

Owns the shape of every entry body (fields, their formats, which fields name other entries)
and nothing about state: whether the task is open or the signer is the right party is left to
`contracts.rules`. Unknown fields are rejected, required fields must be present, optional
fields may be left out (never `null` unless the field says so).

Each schema is written once, as a table of field checks (`BodySpec`). Two readers are built
from it:

- `load_body(type, body)`, the fast path the fold runs on every entry (a dict lookup and one
  small function per field; no marshmallow machinery, so an audit of a million entries stays
  within its budget). It returns the body with values parsed (`Money`, tuples for lists,
  ints, strs) or raises `RuleViolation("schema.<type>", ...)`.
- `SCHEMAS[type]`, a marshmallow `Schema` (`unknown=RAISE`) over the same checks, for the
  node's REST API and its OpenAPI document. Both accept exactly the same bodies (tested).

Amounts are Money dicts `{"amount": "120.00", "currency": "EUR"}`; ids are 64 lowercase hex
(entry ids or party ids); times are ledger times `YYYY-MM-DDTHH:MM:SSZ`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import marshmallow
from marshmallow import fields

from contracts._checks import (
    MAX_ITEMS,
    Check,
    InvalidError,
    array,
    choice,
    currency_code,
    hex64,
    integer,
    is_nullable,
    money,
    nullable,
    openapi,
    period,
    period_kind,
    public_key,
    record,
    skill,
    text,
    time,
)
from contracts.errors import RuleViolation

__all__ = [
    "BODY_SPECS",
    "ENGAGEMENTS",
    "ENTRY_TYPES",
    "SCHEMAS",
    "BodySpec",
    "load_body",
    "period_kind",
]

ENGAGEMENTS = ("employee", "gig", "freelance", "alliance", "project", "agent")
LOG_KINDS = ("micro-enterprise", "ecosystem-community", "platform", "partner")
_milestone = record({"title": text(empty=False, limit=200), "amount": money})
_tier = record(
    {"up_to": nullable(text(empty=False, limit=40)), "weights": array(integer(0, 10_000), least=1)}
)
_payout = record({"party": hex64, "amount": money})


@dataclass(frozen=True, slots=True)
class BodySpec:
    """The schema of one entry type: field checks and which fields hold entry ids (refs)."""

    type: str
    required: Mapping[str, Check]
    optional: Mapping[str, Check]
    #: Fields whose value (a str, a list of str, or None) names entries that must be in refs.
    refs: tuple[str, ...] = ()
    #: When not empty, the body's set of fields must be one of these (alternative forms).
    forms: tuple[frozenset[str], ...] = ()
    #: field name -> (the name as one shared str, its check)
    _checks: dict[str, tuple[str, Check]] = field(default_factory=dict, init=False, repr=False)
    _required: frozenset[str] = field(default=frozenset(), init=False, repr=False)

    def __post_init__(self) -> None:
        checks = {**self.optional, **self.required}
        object.__setattr__(self, "_checks", {k: (sys.intern(k), c) for k, c in checks.items()})
        object.__setattr__(self, "_required", frozenset(self.required))

    def check_form(self, keys: Any) -> None:
        if self.forms and keys not in self.forms:
            options = " or ".join("{" + ", ".join(sorted(f)) + "}" for f in self.forms)
            raise RuleViolation(
                f"schema.{self.type}", f"a {self.type} body must have the fields {options}"
            )

    def load(self, body: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise RuleViolation(f"schema.{self.type}", f"a {self.type} body must be an object")
        checks = self._checks
        out: dict[str, Any] = {}
        for name, value in body.items():
            known = checks.get(name)
            if known is None:
                raise RuleViolation(
                    f"schema.{self.type}", f"a {self.type} body has the unknown field {name!r}"
                )
            key, check = known  # the shared name: bodies use one str per field name
            try:
                out[key] = check(value)
            except InvalidError as e:
                raise RuleViolation(
                    f"schema.{self.type}", f"{self.type} field {name!r} {e}"
                ) from None
        # Every field is known: without optional fields, the count alone shows all are there.
        if (self.optional or len(out) != len(self._required)) and not self._required <= out.keys():
            missing = sorted(self._required - out.keys())
            raise RuleViolation(
                f"schema.{self.type}", f"a {self.type} body lacks the field {missing[0]!r}"
            )
        if self.forms:
            self.check_form(out.keys())
        return out


def _spec(
    type: str,
    required: dict[str, Check],
    optional: dict[str, Check] | None = None,
    *refs: str,
    forms: tuple[frozenset[str], ...] = (),
) -> BodySpec:
    return BodySpec(type, required, optional or {}, refs, forms)


_title = text(empty=False, limit=200)
_engagement = choice(*ENGAGEMENTS)
_milestone_no = nullable(integer(0, MAX_ITEMS - 1))

BODY_SPECS: dict[str, BodySpec] = {
    s.type: s
    for s in (
        _spec(
            "log.genesis",
            {
                "name": _title,
                "kind": choice(*LOG_KINDS),
                "public_key": public_key,
                "description": text(),
                "url": text(limit=2000),
            },
        ),
        _spec("log.follow", {"log": hex64, "relation": choice("follow", "partner")}),
        _spec(
            "member.enroll",
            {"worker": hex64, "engagement": _engagement, "display_name": _title},
        ),
        _spec("member.leave", {"worker": hex64}),
        _spec(
            "task.publish",
            {
                "title": _title,
                "description": text(),
                "skills": array(skill, unique=True),
                "reward": money,
                "deadline": time,
                "slots": integer(1, 10_000),
                "engagements": array(_engagement, least=1, unique=True),
                "executor": choice("human", "agent", "any"),
                "claim_mode": choice("offer", "open"),
            },
            {"milestones": array(_milestone, least=1)},
        ),
        _spec("task.close", {"task": hex64}, None, "task"),
        _spec("task.expire", {"task": hex64}, None, "task"),
        _spec("task.apply", {"task": hex64, "worker": hex64, "note": text()}, None, "task"),
        _spec(
            "contract.offer",
            {"task": hex64, "worker": hex64, "reward": money, "deadline": time},
            {"milestones": array(_milestone, least=1)},
            "task",
        ),
        _spec(
            "contract.sign",
            {},
            {"offer": hex64, "task": hex64, "worker": hex64},
            "offer",
            "task",
            forms=(frozenset({"offer"}), frozenset({"task", "worker"})),
        ),
        _spec("contract.cancel", {"contract": hex64, "reason": text()}, None, "contract"),
        _spec(
            "work.submit",
            {"contract": hex64, "milestone": _milestone_no},
            {"uri": text(empty=False, limit=2000), "sha256": hex64},
            "contract",
        ),
        _spec(
            "work.accept",
            {
                "contract": hex64,
                "milestone": _milestone_no,
                "rating": integer(1, 5),
                "feedback": text(),
            },
            {"bonus": money},
            "contract",
        ),
        _spec(
            "work.reject",
            {"contract": hex64, "milestone": _milestone_no, "feedback": text()},
            None,
            "contract",
        ),
        _spec(
            "payment.record",
            {"amount": money},
            {"contract": hex64, "milestone": _milestone_no, "settlement": hex64, "party": hex64},
            "contract",
            "settlement",
            forms=(
                frozenset({"amount", "contract", "milestone"}),
                frozenset({"amount", "settlement", "party"}),
            ),
        ),
        _spec("payment.confirm", {"payment": hex64}, None, "payment"),
        _spec(
            "skill.attest",
            {"worker": hex64, "skill": skill, "evidence": array(hex64, least=1, unique=True)},
            None,
            "evidence",
        ),
        _spec(
            "share.propose",
            {
                "parties": array(hex64, least=2, unique=True),
                "currency": currency_code,
                "basis": choice("revenue", "value-added"),
                "period": choice("monthly", "quarterly", "yearly"),
                "tiers": array(_tier, least=1),
            },
        ),
        _spec("share.activate", {"proposal": hex64}, None, "proposal"),
        _spec(
            "share.revenue",
            {"agreement": hex64, "period": period, "revenue": money, "costs": money},
            None,
            "agreement",
        ),
        _spec(
            "share.settle",
            {
                "agreement": hex64,
                "period": period,
                "revenue": array(hex64, least=1, unique=True),
                "basis_amount": money,
                "payouts": array(_payout, least=1),
            },
            None,
            "agreement",
            "revenue",
        ),
        _spec("share.terminate", {"agreement": hex64}, None, "agreement"),
    )
}

ENTRY_TYPES = tuple(BODY_SPECS)


def load_body(type: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The body of an entry of `type`, checked and parsed; RuleViolation("schema.<type>")."""
    spec = BODY_SPECS.get(type)
    if spec is None:
        raise RuleViolation("schema.type", f"{type!r} is not an entry type")
    return spec.load(body)


# --- marshmallow schemas over the same checks (for the REST API and OpenAPI) -------------


class _Checked(fields.Field):  # type: ignore[type-arg]
    """A marshmallow field that validates and parses with one of the checks above."""

    def __init__(self, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return self.check(value)
        except InvalidError as e:
            raise marshmallow.ValidationError(str(e)) from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class _BodySchema(marshmallow.Schema):
    """Base of the generated body schemas: unknown fields raise; alternative forms checked."""

    spec: BodySpec

    class Meta:
        unknown = marshmallow.RAISE

    @marshmallow.validates_schema
    def _check_form(self, data: dict[str, Any], **kwargs: Any) -> None:
        try:
            self.spec.check_form(data.keys())
        except RuleViolation as e:
            raise marshmallow.ValidationError(e.message) from None


def _schema(spec: BodySpec) -> type[marshmallow.Schema]:
    attrs: dict[str, Any] = {"spec": spec}
    for name, check in (*spec.required.items(), *spec.optional.items()):
        attrs[name] = _Checked(
            check,
            required=name in spec.required,
            allow_none=is_nullable(check),
            metadata=openapi(check),
        )
    name = "".join(part.title() for part in re.split(r"[._-]", spec.type)) + "Body"
    return type(name, (_BodySchema,), attrs)


SCHEMAS: dict[str, type[marshmallow.Schema]] = {t: _schema(s) for t, s in BODY_SPECS.items()}

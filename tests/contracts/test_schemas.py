"""Body schemas: every type has one; the fast reader and the marshmallow schema agree."""

from __future__ import annotations

from typing import Any

import marshmallow
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.errors import RuleViolation
from contracts.money import Money
from contracts.schemas import BODY_SPECS, ENTRY_TYPES, SCHEMAS, load_body, period_kind

ID = "ab" * 32
EUR = {"amount": "12.50", "currency": "EUR"}

BODIES: dict[str, dict[str, Any]] = {
    "log.genesis": {
        "name": "Lakeside",
        "kind": "micro-enterprise",
        "public_key": "A" * 43 + "=",
        "description": "",
        "url": "https://lakeside.example/",
    },
    "log.follow": {"log": ID, "relation": "partner"},
    "member.enroll": {"worker": ID, "engagement": "agent", "display_name": "bot"},
    "member.leave": {"worker": ID},
    "task.publish": {
        "title": "t",
        "description": "",
        "skills": ["cad"],
        "reward": EUR,
        "deadline": "2026-12-01T00:00:00Z",
        "slots": 1,
        "engagements": ["gig"],
        "executor": "any",
        "claim_mode": "open",
        "milestones": [{"title": "all", "amount": EUR}],
    },
    "task.close": {"task": ID},
    "task.expire": {"task": ID},
    "task.apply": {"task": ID, "worker": ID, "note": ""},
    "contract.offer": {"task": ID, "worker": ID, "reward": EUR, "deadline": "2026-12-01T00:00:00Z"},
    "contract.sign": {"offer": ID},
    "contract.cancel": {"contract": ID, "reason": ""},
    "work.submit": {"contract": ID, "milestone": 0, "sha256": ID},
    "work.accept": {"contract": ID, "milestone": None, "rating": 5, "feedback": "", "bonus": EUR},
    "work.reject": {"contract": ID, "milestone": None, "feedback": "no"},
    "payment.record": {"settlement": ID, "party": ID, "amount": EUR},
    "payment.confirm": {"payment": ID},
    "skill.attest": {"worker": ID, "skill": "cad", "evidence": [ID]},
    "share.propose": {
        "parties": [ID, "cd" * 32],
        "currency": "EUR",
        "basis": "value-added",
        "period": "quarterly",
        "tiers": [{"up_to": None, "weights": [5000, 5000]}],
    },
    "share.activate": {"proposal": ID},
    "share.revenue": {"agreement": ID, "period": "2026-Q4", "revenue": EUR, "costs": EUR},
    "share.settle": {
        "agreement": ID,
        "period": "2026",
        "revenue": [ID],
        "basis_amount": EUR,
        "payouts": [{"party": ID, "amount": EUR}],
    },
    "share.terminate": {"agreement": ID},
}


def marshmallow_accepts(type: str, body: Any) -> bool:
    try:
        SCHEMAS[type]().load(body)
    except marshmallow.ValidationError:
        return False
    return True


def fast_accepts(type: str, body: Any) -> bool:
    try:
        load_body(type, body)
    except RuleViolation as e:
        rule = e.rule
    else:
        return True
    assert rule == f"schema.{type}"
    return False


def test_every_entry_type_has_a_schema_and_an_example() -> None:
    assert set(ENTRY_TYPES) == set(BODIES) == set(SCHEMAS)
    assert len(ENTRY_TYPES) == 22  # DESIGN §5 plus contract.cancel


@pytest.mark.parametrize("type", ENTRY_TYPES)
def test_valid_body(type: str) -> None:
    loaded = load_body(type, BODIES[type])
    assert loaded == SCHEMAS[type]().load(BODIES[type])
    assert set(loaded) == set(BODIES[type])


def test_values_are_parsed() -> None:
    loaded = load_body("work.accept", BODIES["work.accept"])
    assert loaded["bonus"] == Money.parse("12.50", "EUR")


@pytest.mark.parametrize("type", ENTRY_TYPES)
def test_unknown_and_missing_fields_are_rejected(type: str) -> None:
    body = BODIES[type]
    for bad in [
        {**body, "extra": 1},
        *({k: v for k, v in body.items() if k != n} for n in BODY_SPECS[type].required),
    ]:
        assert not fast_accepts(type, bad)
        assert not marshmallow_accepts(type, bad)


@pytest.mark.parametrize(
    ("type", "body"),
    [
        ("contract.sign", {"offer": ID, "worker": ID}),
        ("contract.sign", {}),
        ("payment.record", {"contract": ID, "party": ID, "amount": EUR}),
        ("payment.record", {"contract": ID, "amount": EUR}),
        ("work.submit", {"contract": ID, "milestone": -1}),
        ("task.publish", {**BODIES["task.publish"], "skills": ["cad", "cad"]}),
        ("task.publish", {**BODIES["task.publish"], "deadline": "2026-12-01 00:00:00"}),
        ("share.propose", {**BODIES["share.propose"], "parties": [ID]}),
        ("share.revenue", {**BODIES["share.revenue"], "period": "2026-Q5"}),
        ("log.follow", {"log": ID.upper(), "relation": "follow"}),
        ("member.enroll", {"worker": ID, "engagement": "contractor", "display_name": "x"}),
        ("work.accept", {**BODIES["work.accept"], "rating": True}),
        ("work.accept", {**BODIES["work.accept"], "bonus": {"amount": "1", "currency": "EUR"}}),
    ],
)
def test_invalid_bodies(type: str, body: dict[str, Any]) -> None:
    assert not fast_accepts(type, body)
    assert not marshmallow_accepts(type, body)


def test_unknown_type() -> None:
    with pytest.raises(RuleViolation, match="not an entry type") as caught:
        load_body("task.delete", {})
    assert caught.value.rule == "schema.type"


@pytest.mark.parametrize(
    ("period", "kind"),
    [
        ("2026-11", "monthly"),
        ("2026-Q4", "quarterly"),
        ("2026", "yearly"),
        ("2026-13", None),
        (2026, None),
    ],
)
def test_period_kind(period: object, kind: str | None) -> None:
    assert period_kind(period) == kind


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 10)
    | st.sampled_from(["", "cad", ID, "12.50", "EUR"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["amount", "currency", "title", "up_to", "weights"]), inner, max_size=3
        )
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(type=st.sampled_from(ENTRY_TYPES), data=st.data())
def test_both_readers_agree(type: str, data: st.DataObject) -> None:
    body = dict(BODIES[type])
    name = data.draw(st.sampled_from(sorted(body)))
    body[name] = data.draw(json_values)
    assert fast_accepts(type, body) == marshmallow_accepts(type, body)


def test_openapi_document_describes_every_field() -> None:
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    spec = APISpec(title="rdh", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    for schema in SCHEMAS.values():
        spec.components.schema(schema.__name__, schema=schema)
    documented = spec.to_dict()["components"]["schemas"]
    assert len(documented) == len(ENTRY_TYPES)
    for name, schema in documented.items():
        assert schema["additionalProperties"] is False, name
        for field, prop in schema["properties"].items():
            assert prop.get("type") in {"string", "integer", "object", "array"}, (name, field)
    assert documented["WorkAcceptBody"]["properties"]["milestone"]["nullable"] is True

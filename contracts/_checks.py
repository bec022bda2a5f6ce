"""Field checks for entry bodies: small functions that parse one JSON value or raise.

Internal to `contracts.schemas`, which builds every body schema from them (see there). Each
check returns the parsed value (`Money`, a tuple for a list, the str or int itself) or raises
`InvalidError` with the end of a sentence ("must be ...").

Strings that recur (ids, choices, skills, times) come back interned (`sys.intern`): equal
values share one object, which keeps the fold's state small and makes an audit's worker
processes send each only once per batch.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

from contracts.errors import ContractError
from contracts.money import Money, currency

MAX_TEXT = 10_000
MAX_ITEMS = 256

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z"
)
_SKILL = re.compile(r"[a-z0-9][a-z0-9+#.-]{0,63}")
_B64_KEY = re.compile(r"[A-Za-z0-9+/]{43}=")
_PERIODS = {
    "monthly": re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])"),
    "quarterly": re.compile(r"[0-9]{4}-Q[1-4]"),
    "yearly": re.compile(r"[0-9]{4}"),
}


class InvalidError(Exception):
    """A field value is malformed (internal; becomes a RuleViolation or ValidationError)."""


Check = Callable[[Any], Any]

#: What each check accepts, as an OpenAPI 3 schema (for the REST API's document).
_OPENAPI: dict[Check, dict[str, Any]] = {}


def openapi(check: Check) -> dict[str, Any]:
    """The OpenAPI schema of the values `check` accepts (empty if undocumented)."""
    return _OPENAPI.get(check, {})


def _doc(check: Check, **schema: Any) -> Check:
    _OPENAPI[check] = schema
    return check


def period_kind(period: object) -> str | None:
    """`monthly`, `quarterly` or `yearly` for a period string like 2026-11, 2026-Q4, 2026."""
    if isinstance(period, str):
        for kind, pattern in _PERIODS.items():
            if pattern.fullmatch(period):
                return kind
    return None


# --- field checks: each returns the parsed value or raises InvalidError ---------------------


def text(*, empty: bool = True, limit: int = MAX_TEXT) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value) > limit or (not empty and not value):
            raise InvalidError(
                f"must be a{'' if empty else ' non-empty'} string of at most {limit} characters"
            )
        return value

    return _doc(check, type="string", maxLength=limit, minLength=0 if empty else 1)


def hex64(value: Any) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise InvalidError("must be 64 lowercase hex digits")
    return sys.intern(value) if type(value) is str else value  # not a str subclass


def time(value: Any) -> str:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise InvalidError("must be a UTC time like 2026-11-25T15:04:05Z")
    return sys.intern(value) if type(value) is str else value  # not a str subclass


def integer(low: int, high: int) -> Check:
    def check(value: Any) -> int:
        if type(value) is not int or not low <= value <= high:
            raise InvalidError(f"must be an integer from {low} to {high}")
        return value

    return _doc(check, type="integer", minimum=low, maximum=high)


def choice(*options: str) -> Check:
    allowed = {sys.intern(option): sys.intern(option) for option in options}

    def check(value: Any) -> str:
        found = allowed.get(value) if isinstance(value, str) else None
        if found is None:
            raise InvalidError("must be one of " + ", ".join(options))
        return found

    return _doc(check, type="string", enum=list(options))


def nullable(inner: Check) -> Check:
    def check(value: Any) -> Any:
        return None if value is None else inner(value)

    return _doc(check, **openapi(inner), nullable=True)


def is_nullable(check: Check) -> bool:
    return bool(openapi(check).get("nullable"))


def money(value: Any) -> Money:
    if type(value) is dict and len(value) == 2:
        amount, code = value.get("amount"), value.get("currency")
        if type(amount) is str and type(code) is str:
            try:
                return _money(amount, code)
            except ContractError:
                pass
    try:
        return Money.from_dict(value)
    except ContractError as e:
        raise InvalidError(
            f"must be an amount like {{'amount': '120.00', 'currency': 'EUR'}}: {e}"
        ) from e


@functools.lru_cache(maxsize=4096)
def _money(amount: str, code: str) -> Money:
    """Amounts repeat (rewards, prices): parse each text once. Money is immutable."""
    return Money.parse(amount, code)


def currency_code(value: Any) -> str:
    try:
        return currency(value).code
    except ContractError as e:
        raise InvalidError(f"must be an ISO 4217 currency code: {e}") from e


def period(value: Any) -> str:
    if period_kind(value) is None:
        raise InvalidError("must be a period like 2026-11, 2026-Q4 or 2026")
    return value  # type: ignore[no-any-return]


def skill(value: Any) -> str:
    if not isinstance(value, str) or not _SKILL.fullmatch(value):
        raise InvalidError("must be a lowercase skill name like industrial-design")
    return sys.intern(value) if type(value) is str else value  # not a str subclass


def public_key(value: Any) -> str:
    if not isinstance(value, str) or not _B64_KEY.fullmatch(value):
        raise InvalidError("must be a base64 Ed25519 public key")
    return value


def array(item: Check, *, least: int = 0, unique: bool = False) -> Check:
    def check(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list) or not least <= len(value) <= MAX_ITEMS:
            raise InvalidError(f"must be a list of {least} to {MAX_ITEMS} items")
        out = tuple([item(v) for v in value])
        if unique and len(set(out)) != len(out):
            raise InvalidError("must not repeat an item")
        return out

    return _doc(
        check,
        type="array",
        items=openapi(item),
        minItems=least,
        maxItems=MAX_ITEMS,
        uniqueItems=unique,
    )


def record(required: Mapping[str, Check], optional: Mapping[str, Check] = {}) -> Check:
    """A nested JSON object with exactly these fields (a dict of parsed values)."""
    keys = frozenset(required)
    allowed = keys | frozenset(optional)

    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or not keys <= value.keys() <= allowed:
            raise InvalidError("must be an object with the fields " + ", ".join(sorted(allowed)))
        out = {}
        for name, v in value.items():
            out[name] = (required.get(name) or optional[name])(v)
        return out

    properties = {name: openapi(c) for name, c in {**required, **optional}.items()}
    return _doc(
        check,
        type="object",
        properties=properties,
        required=sorted(required),
        additionalProperties=False,
    )


_doc(hex64, type="string", pattern="^[0-9a-f]{64}$", description="an entry id or party id")
_doc(time, type="string", pattern="^" + _TIME.pattern + "$", example="2026-11-25T15:04:05Z")
_doc(
    money,
    type="object",
    properties={
        "amount": {"type": "string", "example": "120.00"},
        "currency": {"type": "string", "example": "EUR"},
    },
    required=["amount", "currency"],
    additionalProperties=False,
)
_doc(currency_code, type="string", pattern="^[A-Z]{3}$", example="EUR")
_doc(period, type="string", pattern="^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$", example="2026-11")
_doc(skill, type="string", pattern="^" + _SKILL.pattern + "$", example="industrial-design")
_doc(public_key, type="string", format="byte", description="base64 Ed25519 public key")

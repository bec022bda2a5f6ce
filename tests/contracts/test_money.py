"""contracts.money: the currency table, the one text form of an amount, and exact arithmetic."""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import pickle
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.errors import ContractError, MoneyError, RuleViolation
from contracts.money import CURRENCIES, MAX_MINOR, Currency, Money, currency, total, zero

CONTRACTS = Path(__file__).parents[2] / "contracts"

# -- currencies ---------------------------------------------------------------------------

KNOWN_DIGITS = [
    ("EUR", 2), ("USD", 2), ("GBP", 2), ("CHF", 2), ("CNY", 2), ("INR", 2), ("BRL", 2),
    ("JPY", 0), ("KRW", 0), ("ISK", 0), ("CLP", 0), ("VND", 0), ("XOF", 0), ("XAF", 0),
    ("KWD", 3), ("BHD", 3), ("OMR", 3), ("JOD", 3), ("IQD", 3), ("LYD", 3), ("TND", 3),
    ("CLF", 4), ("UYW", 4), ("UYI", 0), ("XCG", 2), ("ZWG", 2), ("SLE", 2), ("VES", 2),
]  # fmt: skip


@pytest.mark.parametrize(("code", "digits"), KNOWN_DIGITS)
def test_currency_digits(code: str, digits: int) -> None:
    assert currency(code) == Currency(code, digits)
    assert currency(code).digits == digits
    assert str(currency(code)) == code


def test_a_currency_stands_for_its_code() -> None:
    eur = currency("EUR")
    assert currency(eur) is eur
    assert Money.parse("1.00", eur) == Money.parse("1.00", "EUR")
    assert Money.from_minor(5, eur) == Money.zero(eur) + Money(5, eur)
    assert total([], code=eur) == zero(eur)


def test_table_is_iso_shaped() -> None:
    assert len(CURRENCIES) >= 160
    for code, cur in CURRENCIES.items():
        assert len(code) == 3
        assert code.isascii()
        assert code.isupper()
        assert cur.code == code
        assert cur.digits in (0, 2, 3, 4)


UNKNOWN_CODES = {
    "not a code": ("EUX", "not an ISO 4217 currency code"),
    "lower case": ("eur", "capitals: 'EUR'"),
    "mixed case": ("Eur", "capitals: 'EUR'"),
    "numeric code": ("978", "not an ISO 4217"),
    "empty": ("", "not an ISO 4217"),
    "too long": ("EURO", "not an ISO 4217"),
    "gold, no minor unit": ("XAU", "not an ISO 4217"),
    "no currency": ("XXX", "not an ISO 4217"),
    "testing code": ("XTS", "not an ISO 4217"),
    "withdrawn long ago": ("DEM", "not an ISO 4217"),
    "int": (978, "must be a string"),
    "None": (None, "must be a string"),
}


@pytest.mark.parametrize(("code", "match"), UNKNOWN_CODES.values(), ids=UNKNOWN_CODES.keys())
def test_unknown_currency(code: Any, match: str) -> None:
    with pytest.raises(MoneyError, match=match):
        currency(code)


@pytest.mark.parametrize(
    ("code", "digits"), [("EUR", 3), ("JPY", 2), ("EUX", 2), ("EUR", True), ("EUR", 2.0)]
)
def test_currency_cannot_be_built_wrong(code: str, digits: Any) -> None:
    with pytest.raises(MoneyError):
        Currency(code, digits)


# -- parsing and formatting ---------------------------------------------------------------

VALID = {
    "EUR": ("120.00", "EUR", 12_000),
    "EUR zero": ("0.00", "EUR", 0),
    "EUR one cent": ("0.01", "EUR", 1),
    "EUR ten": ("10.50", "EUR", 1_050),
    "USD": ("1999.99", "USD", 199_999),
    "JPY": ("500", "JPY", 500),
    "JPY zero": ("0", "JPY", 0),
    "KWD": ("1.234", "KWD", 1_234),
    "BHD fils": ("0.001", "BHD", 1),
    "CLF": ("1.0000", "CLF", 10_000),
    "largest EUR": ("90071992547409.91", "EUR", MAX_MINOR),
    "largest JPY": ("9007199254740991", "JPY", MAX_MINOR),
}


@pytest.mark.parametrize(("text", "code", "minor"), VALID.values(), ids=VALID.keys())
def test_parse_valid(text: str, code: str, minor: int) -> None:
    money = Money.parse(text, code)
    assert money == Money(minor, currency(code))
    assert money.to_string() == text
    assert Money.parse(text, code, signed=True) == money


SIGNED = {
    "EUR": ("-1.50", "EUR", -150),
    "EUR cent": ("-0.01", "EUR", -1),
    "JPY": ("-500", "JPY", -500),
    "KWD": ("-0.001", "KWD", -1),
    "smallest": ("-90071992547409.91", "EUR", -MAX_MINOR),
}


@pytest.mark.parametrize(("text", "code", "minor"), SIGNED.values(), ids=SIGNED.keys())
def test_parse_signed(text: str, code: str, minor: int) -> None:
    money = Money.parse(text, code, signed=True)
    assert money.minor == minor
    assert money.is_negative()
    assert money.to_string() == text
    with pytest.raises(MoneyError, match="is negative"):
        Money.parse(text, code)


INVALID = {
    "EUR one decimal": ("120.0", "EUR", "exactly 2 decimal places"),
    "EUR three decimals": ("120.000", "EUR", "exactly 2 decimal places"),
    "EUR no decimals": ("120", "EUR", "exactly 2 decimal places"),
    "EUR trailing point": ("120.", "EUR", "not a valid EUR amount"),
    "EUR no units": (".50", "EUR", "not a valid EUR amount"),
    "JPY with decimals": ("500.0", "JPY", "no decimal point"),
    "JPY with point": ("500.", "JPY", "no decimal point"),
    "KWD two decimals": ("1.23", "KWD", "exactly 3 decimal places"),
    "KWD four decimals": ("1.2340", "KWD", "exactly 3 decimal places"),
    "CLF two decimals": ("1.00", "CLF", "exactly 4 decimal places"),
    "exponent": ("1e3", "JPY", "not a valid JPY amount"),
    "exponent with point": ("1.00e3", "EUR", "not a valid EUR amount"),
    "leading space": (" 1.00", "EUR", "not a valid EUR amount"),
    "trailing space": ("1.00 ", "EUR", "not a valid EUR amount"),
    "trailing newline": ("1.00\n", "EUR", "not a valid EUR amount"),
    "leading zero": ("01.00", "EUR", "not a valid EUR amount"),
    "double zero": ("00.00", "EUR", "not a valid EUR amount"),
    "JPY leading zero": ("0500", "JPY", "not a valid JPY amount"),
    "negative zero": ("-0.00", "EUR", "is negative"),
    "plus sign": ("+1.00", "EUR", "not a valid EUR amount"),
    "negative": ("-1.00", "EUR", "is negative"),
    "double minus": ("--1.00", "EUR", "not a valid EUR amount"),
    "comma": ("1,00", "EUR", "not a valid EUR amount"),
    "thousands separator": ("1,000.00", "EUR", "not a valid EUR amount"),
    "underscore": ("1_000.00", "EUR", "not a valid EUR amount"),
    "hex": ("0x10", "JPY", "not a valid JPY amount"),
    "fullwidth digits": ("\uff11.00", "EUR", "not a valid EUR amount"),
    "arabic-indic digits": ("\u0661.\u0660\u0660", "EUR", "not a valid EUR amount"),
    "empty": ("", "EUR", "not a valid EUR amount"),
    "NaN": ("NaN", "EUR", "not a valid EUR amount"),
    "Infinity": ("Infinity", "EUR", "not a valid EUR amount"),
    "too large": ("90071992547409.92", "EUR", "too large"),
    "far too large": ("1" + "0" * 40 + ".00", "EUR", "too large"),
    "very long": ("1" * 1000, "JPY", "not a valid JPY amount"),
    "float": (120.0, "EUR", "must be a string"),
    "int": (500, "JPY", "must be a string"),
    "Decimal": (Decimal("1.00"), "EUR", "must be a string"),
    "bytes": (b"1.00", "EUR", "must be a string"),
    "None": (None, "EUR", "must be a string"),
    "unknown currency": ("1.00", "EUX", "not an ISO 4217"),
}


@pytest.mark.parametrize(("text", "code", "match"), INVALID.values(), ids=INVALID.keys())
def test_parse_invalid(text: Any, code: str, match: str) -> None:
    with pytest.raises(MoneyError, match=match):
        Money.parse(text, code)


SIGNED_INVALID = {
    "negative zero": ("-0.00", "EUR", "negative zero; write '0.00'"),
    "JPY negative zero": ("-0", "JPY", "negative zero; write '0'"),
    "plus sign": ("+1.00", "EUR", "optional leading '-'"),
    "minus after": ("1.00-", "EUR", "not a valid EUR amount"),
    "negative leading zero": ("-01.00", "EUR", "not a valid EUR amount"),
    "space after minus": ("- 1.00", "EUR", "not a valid EUR amount"),
    "too small": ("-90071992547409.92", "EUR", "too large"),
}


@pytest.mark.parametrize(
    ("text", "code", "match"), SIGNED_INVALID.values(), ids=SIGNED_INVALID.keys()
)
def test_parse_signed_invalid(text: str, code: str, match: str) -> None:
    with pytest.raises(MoneyError, match=match):
        Money.parse(text, code, signed=True)


codes = st.sampled_from(sorted(CURRENCIES))
minors = st.one_of(
    st.integers(-MAX_MINOR, MAX_MINOR), st.integers(-10_000, 10_000), st.sampled_from([0, 1, -1])
)


@given(code=codes, minor=minors)
def test_text_and_dict_round_trip(code: str, minor: int) -> None:
    money = Money.from_minor(minor, code)
    assert Money.parse(money.to_string(), code, signed=True) == money
    assert Money.from_dict(money.to_dict(), signed=True) == money
    assert money.to_dict()["currency"] == code


@given(text=st.text(alphabet="0123456789.-+e ", max_size=12), code=codes)
def test_one_text_form(text: str, code: str) -> None:
    """Whatever parses is already in the only text form of its amount."""
    try:
        money = Money.parse(text, code, signed=True)
    except MoneyError:
        return
    assert money.to_string() == text


@given(value=st.one_of(st.text(max_size=20), st.integers(), st.floats(), st.none(), st.binary()))
def test_junk_raises_only_money_error(value: Any) -> None:
    calls: list[Callable[[], object]] = [
        lambda: Money.parse(value, "EUR", signed=True),
        lambda: Money.parse("1.00", value),
        lambda: Money.from_dict({"amount": value, "currency": "EUR"}),
        lambda: Money.from_dict(value),
    ]
    for call in calls:
        with contextlib.suppress(MoneyError):  # and nothing else
            call()


# -- JSON object --------------------------------------------------------------------------


def test_to_dict() -> None:
    assert Money.parse("120.00", "EUR").to_dict() == {"amount": "120.00", "currency": "EUR"}
    assert Money.parse("500", "JPY").to_dict() == {"amount": "500", "currency": "JPY"}


BAD_DICTS = {
    "extra key": ({"amount": "1.00", "currency": "EUR", "note": "x"}, "unexpected note"),
    "missing currency": ({"amount": "1.00"}, "missing currency"),
    "missing both": ({}, "missing amount, currency"),
    "wrong key": ({"value": "1.00", "currency": "EUR"}, "missing amount; unexpected value"),
    "number amount": ({"amount": 1.0, "currency": "EUR"}, "must be a string"),
    "int amount": ({"amount": 100, "currency": "EUR"}, "must be a string"),
    "bad currency": ({"amount": "1.00", "currency": "eur"}, "capitals"),
    "negative": ({"amount": "-1.00", "currency": "EUR"}, "is negative"),
    "list": (["1.00", "EUR"], "must be an object"),
    "string": ("1.00 EUR", "must be an object"),
    "None": (None, "must be an object"),
}


@pytest.mark.parametrize(("obj", "match"), BAD_DICTS.values(), ids=BAD_DICTS.keys())
def test_from_dict_is_strict(obj: Any, match: str) -> None:
    with pytest.raises(MoneyError, match=match):
        Money.from_dict(obj)


# -- construction and arithmetic ----------------------------------------------------------

BAD_VALUES = {
    "float minor": (1.5, currency("EUR"), "must be an int"),
    "bool minor": (True, currency("EUR"), "must be an int"),
    "str minor": ("100", currency("EUR"), "must be an int"),
    "str currency": (100, "EUR", "needs a Currency"),
    "too large": (MAX_MINOR + 1, currency("EUR"), "too large"),
    "too small": (-MAX_MINOR - 1, currency("EUR"), "too large"),
}


@pytest.mark.parametrize(("minor", "cur", "match"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_invalid_money_cannot_exist(minor: Any, cur: Any, match: str) -> None:
    with pytest.raises(MoneyError, match=match):
        Money(minor, cur)


def test_money_is_frozen_and_hashable() -> None:
    money = Money.parse("1.00", "EUR")
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.minor = 5  # type: ignore[misc]
    assert {money, Money.parse("1.00", "EUR")} == {money}
    assert not hasattr(money, "__dict__")


def test_arithmetic() -> None:
    a, b = Money.parse("120.00", "EUR"), Money.parse("0.50", "EUR")
    assert (a + b).to_string() == "120.50"
    assert (a - b).to_string() == "119.50"
    assert (b - a).to_string() == "-119.50"
    assert (-b).minor == -50
    assert zero("EUR") == Money.zero("EUR") == Money(0, currency("EUR"))
    assert zero("EUR").is_zero()
    assert not a.is_zero()
    assert total([a, b, b], code="EUR") == Money.parse("121.00", "EUR")
    assert total([], code="JPY") == zero("JPY")
    assert str(a) == "120.00 EUR"


def test_comparison() -> None:
    a, b = Money.parse("1.00", "EUR"), Money.parse("2.00", "EUR")
    assert a < b
    assert a <= b
    assert b > a
    assert b >= a
    assert a <= Money.parse("1.00", "EUR")
    assert not a > b
    assert max(a, b) == b
    # Equality is defined across currencies (never equal); ordering is not.
    assert Money.parse("1.00", "EUR") != Money.parse("1.00", "USD")


MIXED = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "compare": lambda a, b: a < b,
    "compare le": lambda a, b: a <= b,
    "compare gt": lambda a, b: a > b,
    "compare ge": lambda a, b: a >= b,
}


@pytest.mark.parametrize("operation", MIXED.values(), ids=MIXED.keys())
def test_currencies_do_not_mix(operation: Any) -> None:
    eur, usd = Money.parse("1.00", "EUR"), Money.parse("1.00", "USD")
    with pytest.raises(MoneyError, match="EUR and USD"):
        operation(eur, usd)
    with pytest.raises(MoneyError, match="Money and int"):
        operation(eur, 1)
    with pytest.raises(MoneyError, match="EUR and USD"):
        total([eur, usd], code="EUR")


def test_overflow_is_refused() -> None:
    big = Money(MAX_MINOR, currency("EUR"))
    with pytest.raises(MoneyError, match="too large"):
        big + Money(1, currency("EUR"))
    with pytest.raises(MoneyError, match="too large"):
        -big - Money(1, currency("EUR"))


# -- errors -------------------------------------------------------------------------------


def test_error_family() -> None:
    assert issubclass(MoneyError, ContractError)
    assert issubclass(RuleViolation, ContractError)
    violation = RuleViolation("share.settle.payout", "The payouts do not match the split.")
    assert violation.rule == "share.settle.payout"
    assert violation.message == str(violation) == "The payouts do not match the split."
    copy = pickle.loads(pickle.dumps(violation))
    assert (type(copy), copy.rule, copy.message) == (RuleViolation, violation.rule, str(violation))
    assert "share.settle.payout" in repr(violation)


@pytest.mark.parametrize("module", ["money.py", "allocation.py", "errors.py"])
def test_no_float_in_source(module: str) -> None:
    """DESIGN §2.9: money is integers. No float literal, `float(...)` or `/` division."""
    tree = ast.parse((CONTRACTS / module).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        assert not (isinstance(node, ast.Constant) and isinstance(node.value, float)), node.lineno
        assert not (isinstance(node, ast.Name) and node.id == "float"), node.lineno
        assert not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)), node.lineno

"""Money: ISO 4217 currencies and amounts in integer minor units (DESIGN §2.9).

Owns the currency table (code -> minor digits), the `Currency` and `Money` values, the one
text form of an amount (a decimal string with exactly the currency's minor digits: "120.00"
EUR, "500" JPY, "1.234" KWD) and its `{"amount", "currency"}` JSON object. Arithmetic is on
integers only: there is no float anywhere, and no conversion from one.

Leaves to others: splitting an amount between parties (`contracts.allocation`), which fields
of an entry carry money (`contracts.schemas`) and exchange rates (none: an agreement has
exactly one currency).

The table is append-only. Codes that ISO has withdrawn recently (or is withdrawing) stay in
it, so entries recorded while they were current keep parsing; removing a code would make an
old, valid log fail its audit. Codes without minor units in ISO 4217 (precious metals, SDR,
bond-market units, XTS, XXX) are not money here and are absent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from contracts.errors import MoneyError
from ledger.canonical import MAX_SAFE_INTEGER

__all__ = ["CURRENCIES", "MAX_MINOR", "Currency", "Money", "currency", "total", "zero"]

#: Largest absolute amount in minor units: amounts stay exact in every JSON reader and in
#: the browser's JavaScript numbers (90 trillion EUR is enough for a community ledger).
MAX_MINOR: Final = MAX_SAFE_INTEGER

# ISO 4217 list one (2025), grouped by minor digits. Funds codes (BOV, CHE, CHW, COU, MXV,
# USN, UYI, UYW, CLF) are included. Kept although withdrawn or being withdrawn: ANG (by XCG,
# 2025), BGN (by EUR, 2026), CUC, SLL (by SLE), ZWL (by ZWG, 2024).
_DIGITS_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_DIGITS_2 = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD
    EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR
    IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN
    QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR
    ZMW ZWG ZWL
"""
_DIGITS_3 = "BHD IQD JOD KWD LYD OMR TND"
_DIGITS_4 = "CLF UYW"

_TABLE: Final[Mapping[str, int]] = MappingProxyType(
    {
        code: digits
        for digits, codes in ((0, _DIGITS_0), (2, _DIGITS_2), (3, _DIGITS_3), (4, _DIGITS_4))
        for code in sorted(codes.split())
    }
)

# Longer text is refused before matching; anything between a valid amount's length (at most
# 18 characters) and this is matched, so a too-large amount is reported as too large.
_MAX_TEXT = 64


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency: its three-letter code and the digits of its minor unit."""

    code: str
    digits: int

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or _TABLE.get(self.code) is None:
            raise MoneyError(f"{self.code!r} is not a currency code this ledger knows.")
        if self.digits != _TABLE[self.code] or type(self.digits) is not int:
            raise MoneyError(
                f"{self.code} has {_TABLE[self.code]} minor digits, not {self.digits!r}."
            )

    def __str__(self) -> str:
        return self.code

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Unpickled and deep-copied currencies are the one instance in CURRENCIES.
        return (currency, (self.code,))


#: Every known currency by code (read-only).
CURRENCIES: Final[Mapping[str, Currency]] = MappingProxyType(
    {code: Currency(code, digits) for code, digits in _TABLE.items()}
)


def currency(code: str | Currency) -> Currency:
    """The currency with ISO 4217 code `code` (exact, upper case), or `MoneyError`.

    A `Currency` is returned as it is, so every function taking a code also takes one.
    """
    if isinstance(code, Currency):
        return code
    if not isinstance(code, str):
        raise MoneyError(
            f"A currency code must be a string such as 'EUR', not {type(code).__name__}."
        )
    found = CURRENCIES.get(code)
    if found is None:
        if code.upper() in CURRENCIES:
            raise MoneyError(f"Write currency codes in capitals: {code.upper()!r}, not {code!r}.")
        raise MoneyError(
            f"{code!r} is not an ISO 4217 currency code; use one such as 'EUR', 'USD' or 'JPY'."
        )
    return found


def _pattern(digits: int) -> re.Pattern[str]:
    whole = r"(?:0|[1-9][0-9]*)"
    return re.compile(rf"(-?){whole}" + (rf"\.[0-9]{{{digits}}}" if digits else ""))


_PATTERNS: Final = {digits: _pattern(digits) for digits in set(_TABLE.values())}


def _format_hint(cur: Currency, *, signed: bool) -> str:
    sign = ", with an optional leading '-'" if signed else ""
    if cur.digits == 0:
        return f"write whole units with no decimal point{sign}, like '500'"
    example = "120." + "0" * cur.digits
    return f"write digits with exactly {cur.digits} decimal places{sign}, like {example!r}"


def _check_minor(minor: int) -> int:
    if abs(minor) > MAX_MINOR:
        raise MoneyError(f"The amount is too large: at most {MAX_MINOR} minor units are allowed.")
    return minor


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount: an integer count of the currency's minor units (cents, fils, yen).

    Equal when minor units and currency are equal. Adding, subtracting and comparing two
    amounts of different currencies raises `MoneyError`.
    """

    minor: int
    currency: Currency

    def __post_init__(self) -> None:
        if type(self.minor) is not int:
            raise MoneyError(
                f"An amount in minor units must be an int, not {type(self.minor).__name__}."
            )
        if not isinstance(self.currency, Currency):
            raise MoneyError("Money needs a Currency; use currency('EUR') to get one.")
        _check_minor(self.minor)

    def __reduce__(self) -> tuple[Any, tuple[int, str]]:
        # Amounts repeat: an unpickled (or deep-copied) amount is a shared, immutable instance.
        return (_money, (self.minor, self.currency.code))

    # -- text and JSON ------------------------------------------------------------------

    @classmethod
    def parse(cls, amount: str, code: str | Currency, *, signed: bool = False) -> Money:
        """Parse the one text form of an amount ("120.00" EUR, "500" JPY).

        Exactly the currency's minor digits; ASCII digits; no '+', spaces, exponent or
        leading zeros; a leading '-' only when `signed` (and never "-0.00").
        """
        cur = currency(code)
        if not isinstance(amount, str):
            raise MoneyError(
                f"An amount must be a string such as '120.00', not {type(amount).__name__}."
            )
        match = _PATTERNS[cur.digits].fullmatch(amount) if len(amount) <= _MAX_TEXT else None
        if match is None:
            raise MoneyError(
                f"{amount!r} is not a valid {cur.code} amount: {_format_hint(cur, signed=signed)}."
            )
        negative = match.group(1) == "-"
        if negative and not signed:
            raise MoneyError(f"{amount!r} is negative, but this {cur.code} amount must not be.")
        # Exactly `digits` decimals: dropping the point leaves the count of minor units.
        minor = int(amount.removeprefix("-").replace(".", ""), 10)
        if negative and minor == 0:
            raise MoneyError(f"{amount!r} is a negative zero; write {amount[1:]!r}.")
        return cls(_check_minor(-minor if negative else minor), cur)

    def to_string(self) -> str:
        """The amount's one text form: "120.00" (EUR), "500" (JPY), "-1.50" (signed)."""
        sign = "-" if self.minor < 0 else ""
        units = abs(self.minor)
        if self.currency.digits == 0:
            return f"{sign}{units}"
        whole, fraction = divmod(units, 10**self.currency.digits)
        return f"{sign}{whole}.{fraction:0{self.currency.digits}d}"

    def to_dict(self) -> dict[str, str]:
        """`{"amount": "120.00", "currency": "EUR"}`."""
        return {"amount": self.to_string(), "currency": self.currency.code}

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any], *, signed: bool = False) -> Money:
        """Inverse of `to_dict`: an object with exactly the keys "amount" and "currency"."""
        if not isinstance(obj, Mapping):
            raise MoneyError(
                "A money value must be an object like {'amount': '120.00', 'currency': 'EUR'}."
            )
        keys = set(obj)
        if keys != {"amount", "currency"}:
            extra = sorted(map(str, keys - {"amount", "currency"}))
            missing = sorted({"amount", "currency"} - keys)
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unexpected {', '.join(extra)}" if extra else "",
                )
                if part
            )
            raise MoneyError(
                f"A money value must have exactly the keys 'amount' and 'currency' ({detail})."
            )
        return cls.parse(obj["amount"], obj["currency"], signed=signed)

    @classmethod
    def zero(cls, code: str | Currency) -> Money:
        """Zero in the currency `code`."""
        return cls(0, currency(code))

    @classmethod
    def from_minor(cls, minor: int, code: str | Currency) -> Money:
        """`minor` units of the currency `code` (e.g. a part computed by `allocate`)."""
        return cls(minor, currency(code))

    # -- arithmetic and comparison ------------------------------------------------------

    def _same(self, other: Money, verb: str) -> None:
        if not isinstance(other, Money):
            raise MoneyError(f"Cannot {verb} Money and {type(other).__name__}.")
        if other.currency != self.currency:
            raise MoneyError(
                f"Cannot {verb} {self.currency.code} and {other.currency.code} amounts; "
                "an agreement uses one currency."
            )

    def __add__(self, other: Money) -> Money:
        self._same(other, "add")
        return Money(_check_minor(self.minor + other.minor), self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other, "subtract")
        return Money(_check_minor(self.minor - other.minor), self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other, "compare")
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other, "compare")
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other, "compare")
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other, "compare")
        return self.minor >= other.minor

    def is_zero(self) -> bool:
        """True for zero."""
        return self.minor == 0

    def is_negative(self) -> bool:
        """True below zero (possible only for signed amounts and differences)."""
        return self.minor < 0

    def __str__(self) -> str:
        return f"{self.to_string()} {self.currency.code}"


def zero(code: str | Currency) -> Money:
    """Zero in the currency `code` (same as `Money.zero`)."""
    return Money.zero(code)


def total(amounts: Iterable[Money], *, code: str | Currency) -> Money:
    """The sum of `amounts`, all in currency `code` (zero when empty)."""
    result = Money.zero(code)
    for amount in amounts:
        result = result + amount
    return result


@functools.lru_cache(maxsize=4096)
def _money(minor: int, code: str) -> Money:
    return Money(minor, currency(code))

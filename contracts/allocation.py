"""Splitting an amount between parties: weights, tiers and the waterfall (DESIGN §2.9).

Owns the arithmetic of a revenue-share agreement: integer weights in basis points
(10,000 = 100%), the largest-remainder (Hamilton) rounding with ties broken by the order of
parties, the tiers `[{up_to, weights}]` of an agreement and the waterfall that cuts an
amount into the tiers' bands. Everything is in integer minor units; the parts always sum to
the whole exactly, so a settlement can be recomputed and compared by anyone.

A leading target is a tier boundary. Haier's "sharing of value added above target" is

    Tier(up_to=100_000, weights=(10_000, 0))   # up to 1,000.00: all to party 0
    Tier(up_to=None, weights=(5_000, 5_000))   # above the target: shared 50/50

Leaves to others: parsing money and tiers out of entries (`contracts.schemas`), which
period's revenue and costs count (`contracts.rules`), and formatting amounts
(`contracts.money`).

Known property of the method (the "Alabama paradox"): raising the amount by one minor unit
can lower one party's part by one unit, because the leftover units move to the parties with
the largest remainders. Each part is nevertheless always the floor or the ceiling of its
exact proportional share, and a party's part never falls when its exact share rises by one
whole unit or more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeGuard, get_args

from contracts.errors import ContractError, RuleViolation

__all__ = [
    "BASIS_POINTS",
    "BASES",
    "TIERS_RULE",
    "TIER_CAP_RULE",
    "Basis",
    "Split",
    "Tier",
    "allocate",
    "basis_amount",
    "validate_tiers",
    "waterfall",
]

#: Weights are integer basis points; the weights of one tier sum to exactly this.
BASIS_POINTS: Final = 10_000

#: What an agreement shares: all revenue, or revenue less costs (never below zero).
Basis = Literal["revenue", "value-added"]
BASES: Final[tuple[str, ...]] = get_args(Basis)

#: Rule broken by malformed tiers (reported when an agreement is proposed).
TIERS_RULE: Final = "share.propose.tiers"
#: Rule broken by an amount above the last tier's bound (reported when a period is settled).
TIER_CAP_RULE: Final = "share.settle.basis"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_amount(value: object, name: str) -> int:
    if not _is_int(value):
        raise ContractError(
            f"The {name} must be an int of minor units, not {type(value).__name__}."
        )
    if value < 0:
        raise ContractError(f"The {name} must not be negative (got {value}).")
    return value


def _weights_problem(weights: Sequence[object]) -> str | None:
    """Why `weights` is not a valid list of basis points, or None."""
    summed = 0
    for number, weight in enumerate(weights, start=1):
        if not _is_int(weight):
            return f"weight {number} must be an int of basis points, not {type(weight).__name__}"
        if weight < 0:
            return f"weight {number} is negative ({weight}); weights are 0 to 10,000"
        summed += weight
    if summed != BASIS_POINTS:
        return f"weights must sum to 10,000 basis points (100%), not {summed:,}"
    return None


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` minor units by `weights` (basis points summing to 10,000).

    Largest-remainder method: every party first gets the floor of its exact share; the
    units left over go one each to the parties with the largest remainders, ties going to
    the earlier party. The parts sum exactly to `total`; each is the floor or the ceiling
    of its exact share; a party with weight 0 gets 0.
    """
    _check_amount(total, "total")
    given: object = weights
    if isinstance(given, str | bytes) or not isinstance(given, Sequence):
        raise ContractError("The weights must be a sequence of ints (basis points).")
    problem = _weights_problem(weights)
    if problem is not None:
        raise ContractError(f"Cannot allocate: {problem}.")
    shares = [divmod(total * weight, BASIS_POINTS) for weight in weights]
    parts = [floor for floor, _ in shares]
    leftover = total - sum(parts)
    # Sorting is stable on (-remainder, index): equal remainders keep the parties' order.
    by_remainder = sorted(range(len(shares)), key=lambda i: (-shares[i][1], i))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    return parts


@dataclass(frozen=True, slots=True)
class Tier:
    """One band of an agreement: the amount from the previous tier's `up_to` (0 for the
    first) up to this `up_to` (minor units; None = unbounded, last tier only), split by
    `weights` (one per party, basis points summing to 10,000).
    """

    up_to: int | None
    weights: tuple[int, ...]

    def __post_init__(self) -> None:
        weights: object = self.weights  # may come straight from parsed JSON
        if isinstance(weights, list):
            object.__setattr__(self, "weights", tuple(weights))
        elif not isinstance(weights, tuple):
            raise RuleViolation(TIERS_RULE, "A tier's weights must be a list of basis points.")
        if self.up_to is not None and (not _is_int(self.up_to) or self.up_to <= 0):
            raise RuleViolation(
                TIERS_RULE,
                f"A tier's up_to must be a positive amount in minor units, or None for the "
                f"last, unbounded tier (got {self.up_to!r}).",
            )
        problem = _weights_problem(self.weights)
        if problem is not None:
            raise RuleViolation(TIERS_RULE, f"In a tier, {problem}.")


@dataclass(frozen=True, slots=True)
class Split:
    """The result of `waterfall`: per tier the parts per party, per party the totals.

    `basis_amount` is the amount that was split; `sum(totals) == basis_amount`.
    """

    tiers: tuple[tuple[int, ...], ...]
    totals: tuple[int, ...]
    basis_amount: int


def validate_tiers(tiers: Sequence[Tier], parties: int) -> None:
    """Check an agreement's tiers for `parties` parties; raise `RuleViolation` if wrong.

    At least one tier; one weight per party in every tier; `up_to` strictly increasing;
    only the last tier may be unbounded. (Each `Tier` already checked its own weights.)
    """
    if not tiers:
        raise RuleViolation(TIERS_RULE, "An agreement needs at least one tier.")
    if not _is_int(parties) or parties < 1:
        raise RuleViolation(TIERS_RULE, "An agreement needs at least one party.")
    previous: int = 0
    for number, tier in enumerate(tiers, start=1):
        if not isinstance(tier, Tier):
            raise ContractError(f"Tier {number} is a {type(tier).__name__}, not a Tier.")
        if len(tier.weights) != parties:
            raise RuleViolation(
                TIERS_RULE,
                f"Tier {number} has {len(tier.weights)} weights but the agreement has "
                f"{parties} parties; give exactly one weight per party.",
            )
        if tier.up_to is None:
            if number != len(tiers):
                raise RuleViolation(
                    TIERS_RULE,
                    f"Tier {number} is unbounded (up_to is None) but is not the last tier; "
                    "only the last tier may be unbounded.",
                )
            continue
        if tier.up_to <= previous:
            raise RuleViolation(
                TIERS_RULE,
                f"Tier {number}'s up_to ({tier.up_to}) must be greater than the previous "
                f"tier's ({previous}); list tiers in increasing order.",
            )
        previous = tier.up_to


def waterfall(amount: int, tiers: Sequence[Tier]) -> Split:
    """Cut `amount` into the tiers' bands, `allocate` each band, and total per party.

    Raises `RuleViolation` (`TIERS_RULE`) for invalid tiers, and (`TIER_CAP_RULE`) when the
    last tier is bounded and `amount` exceeds it: the agreement does not say who gets that.
    """
    _check_amount(amount, "amount")
    validate_tiers(tiers, len(tiers[0].weights) if tiers and isinstance(tiers[0], Tier) else 1)
    cap = tiers[-1].up_to
    if cap is not None and amount > cap:
        raise RuleViolation(
            TIER_CAP_RULE,
            f"The amount ({amount}) is above the last tier's up_to ({cap}); the agreement "
            "must end with an unbounded tier to share it.",
        )
    bands: list[tuple[int, ...]] = []
    lower = 0
    for tier in tiers:
        upper = amount if tier.up_to is None else min(amount, tier.up_to)
        bands.append(tuple(allocate(max(upper - lower, 0), tier.weights)))
        lower = upper if tier.up_to is None else tier.up_to
    totals = tuple(sum(column) for column in zip(*bands, strict=True))
    return Split(tiers=tuple(bands), totals=totals, basis_amount=amount)


def basis_amount(*, basis: Basis, revenue: int, costs: int) -> int:
    """The amount an agreement shares for a period: `revenue`, or for "value-added"
    `max(revenue - costs, 0)` (a loss shares nothing). All in minor units, never negative.
    """
    _check_amount(revenue, "revenue")
    _check_amount(costs, "costs")
    if basis == "revenue":
        return revenue
    if basis == "value-added":
        return max(revenue - costs, 0)
    raise ContractError(f"The basis must be 'revenue' or 'value-added', not {basis!r}.")

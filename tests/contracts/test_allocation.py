"""contracts.allocation: largest-remainder splits, tiers and the waterfall (DESIGN §2.9)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.allocation import (
    BASES,
    BASIS_POINTS,
    TIER_CAP_RULE,
    TIERS_RULE,
    Split,
    Tier,
    allocate,
    basis_amount,
    validate_tiers,
    waterfall,
)
from contracts.errors import ContractError, RuleViolation
from contracts.money import Money

# Haier's sharing of value added above target: up to the 1,000.00 target everything goes to
# the platform (party 0); value added above the target is shared 50/50 with the
# micro-enterprise (party 1).
TARGET = Money.parse("1000.00", "EUR").minor
HAIER = (Tier(up_to=TARGET, weights=(10_000, 0)), Tier(up_to=None, weights=(5_000, 5_000)))

# -- worked examples: allocate ------------------------------------------------------------

ALLOCATIONS = {
    "thirds of 100: the leftover unit to the largest remainder": (
        100,
        [3_334, 3_333, 3_333],
        [34, 33, 33],
    ),
    "thirds the other way round": (100, [3_333, 3_333, 3_334], [33, 33, 34]),
    "halves of 1: tie, earlier party first": (1, [5_000, 5_000], [1, 0]),
    "quarters of 10: two leftovers, ties by order": (10, [2_500] * 4, [3, 3, 2, 2]),
    "largest remainder beats order": (1, [2_500, 2_500, 5_000], [0, 0, 1]),
    "tie after the largest remainder": (2, [2_500, 2_500, 5_000], [1, 0, 1]),
    "everything to one party": (12_345, [0, 10_000, 0], [0, 12_345, 0]),
    "single party": (7, [10_000], [7]),
    "zero": (0, [3_334, 3_333, 3_333], [0, 0, 0]),
    "exact split, no leftover": (10_000, [1_234, 8_766], [1_234, 8_766]),
    "70/30 of 99.99 EUR": (9_999, [7_000, 3_000], [6_999, 3_000]),
    "one basis point": (1_000_000, [1, 9_999], [100, 999_900]),
}


@pytest.mark.parametrize(
    ("total", "weights", "parts"), ALLOCATIONS.values(), ids=ALLOCATIONS.keys()
)
def test_allocate_examples(total: int, weights: list[int], parts: list[int]) -> None:
    assert allocate(total, weights) == parts
    assert allocate(total, tuple(weights)) == parts


def test_alabama_paradox_is_the_documented_exception() -> None:
    """Hamilton's method is not monotone for three or more parties: one more unit to share
    can cost a party a unit (the 'Alabama paradox'). Each part stays within floor/ceil of its
    exact share, which is what DESIGN §2.9 promises; see the module docstring."""
    weights = [1_150, 4_400, 4_450]
    assert allocate(3, weights) == [1, 1, 1]
    assert allocate(4, weights) == [0, 2, 2]


INVALID_ALLOCATIONS = {
    "negative total": (-1, [10_000], ContractError, "must not be negative"),
    "float total": (1.0, [10_000], ContractError, "must be an int"),
    "bool total": (True, [10_000], ContractError, "must be an int"),
    "str total": ("100", [10_000], ContractError, "must be an int"),
    "sum too small": (100, [5_000, 4_999], ContractError, "sum to 10,000 basis points.*9,999"),
    "sum too large": (100, [5_000, 5_001], ContractError, "not 10,001"),
    "negative weight": (100, [-1, 10_001], ContractError, "weight 1 is negative"),
    "all zero": (100, [0, 0], ContractError, "not 0"),
    "no parties": (100, [], ContractError, "not 0"),
    "float weight": (100, [5_000.0, 5_000], ContractError, "weight 1 must be an int"),
    "bool weight": (100, [10_000, False], ContractError, "weight 2 must be an int"),
    "str weights": (100, "10000", ContractError, "sequence of ints"),
    "weights not a sequence": (100, 10_000, ContractError, "sequence of ints"),
    "set of weights": (100, {10_000}, ContractError, "sequence of ints"),
}


@pytest.mark.parametrize(
    ("total", "weights", "error", "match"),
    INVALID_ALLOCATIONS.values(),
    ids=INVALID_ALLOCATIONS.keys(),
)
def test_allocate_invalid(total: Any, weights: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        allocate(total, weights)


# -- worked examples: waterfall -----------------------------------------------------------

WATERFALLS = {
    "Haier: below target, all to the platform": (
        HAIER, 80_000, ((80_000, 0), (0, 0)), (80_000, 0)
    ),
    "Haier: exactly at target": (HAIER, 100_000, ((100_000, 0), (0, 0)), (100_000, 0)),
    "Haier: 1,500.00, value added above target shared": (
        HAIER, 150_000, ((100_000, 0), (25_000, 25_000)), (125_000, 25_000)
    ),
    "Haier: 1,500.01, odd cent to the earlier party": (
        HAIER, 150_001, ((100_000, 0), (25_001, 25_000)), (125_001, 25_000)
    ),
    "Haier: nothing": (HAIER, 0, ((0, 0), (0, 0)), (0, 0)),
    "three tiers 100/0, 70/30, 50/50 at 2,500.00": (
        (
            Tier(up_to=100_000, weights=(10_000, 0)),
            Tier(up_to=200_000, weights=(7_000, 3_000)),
            Tier(up_to=None, weights=(5_000, 5_000)),
        ),
        250_000,
        ((100_000, 0), (70_000, 30_000), (25_000, 25_000)),
        (195_000, 55_000),
    ),
    "bounded last tier, amount at the cap": (
        (Tier(up_to=100, weights=(3_334, 3_333, 3_333)),), 100, ((34, 33, 33),), (34, 33, 33)
    ),
    "single unbounded tier is allocate": (
        (Tier(up_to=None, weights=(3_334, 3_333, 3_333)),), 100, ((34, 33, 33),), (34, 33, 33)
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("tiers", "amount", "bands", "totals"), WATERFALLS.values(), ids=WATERFALLS.keys()
)
def test_waterfall_examples(
    tiers: tuple[Tier, ...],
    amount: int,
    bands: tuple[tuple[int, ...], ...],
    totals: tuple[int, ...],
) -> None:
    assert waterfall(amount, tiers) == Split(tiers=bands, totals=totals, basis_amount=amount)
    assert waterfall(amount, list(tiers)) == waterfall(amount, tiers)


def test_haier_in_money() -> None:
    """The same example end to end in EUR: value added of 1,234.57 against a 1,000.00 target."""
    value_added = basis_amount(
        basis="value-added",
        revenue=Money.parse("5000.00", "EUR").minor,
        costs=Money.parse("3765.43", "EUR").minor,
    )
    split = waterfall(value_added, HAIER)
    payouts = [Money.from_minor(part, "EUR").to_string() for part in split.totals]
    assert payouts == ["1117.29", "117.28"]


def test_waterfall_amount_above_bounded_last_tier() -> None:
    with pytest.raises(RuleViolation, match="above the last tier's up_to") as caught:
        waterfall(101, [Tier(up_to=100, weights=(10_000,))])
    assert caught.value.rule == TIER_CAP_RULE


@pytest.mark.parametrize(
    ("amount", "match"), [(-1, "must not be negative"), (1.5, "must be an int"), (None, "int")]
)
def test_waterfall_invalid_amount(amount: Any, match: str) -> None:
    with pytest.raises(ContractError, match=match):
        waterfall(amount, HAIER)


def test_waterfall_checks_its_tiers() -> None:
    with pytest.raises(RuleViolation, match="at least one tier"):
        waterfall(1, [])
    with pytest.raises(RuleViolation, match="Tier 2 has 3 weights"):
        waterfall(1, [Tier(100, (10_000, 0)), Tier(None, (5_000, 2_500, 2_500))])
    with pytest.raises(ContractError, match="Tier 1 is a dict"):
        waterfall(1, [{"up_to": None, "weights": [10_000]}])  # type: ignore[list-item]


# -- tiers --------------------------------------------------------------------------------


def test_tier_accepts_a_list_of_weights() -> None:
    tier = Tier(up_to=None, weights=[5_000, 5_000])  # type: ignore[arg-type]
    assert tier.weights == (5_000, 5_000)
    assert hash(tier) == hash(Tier(up_to=None, weights=(5_000, 5_000)))


INVALID_TIERS = {
    "no tiers": (list, 2, "at least one tier"),
    "no parties": (lambda: [Tier(None, (10_000,))], 0, "at least one party"),
    "wrong number of weights": (
        lambda: [Tier(None, (10_000,))], 2, "Tier 1 has 1 weights but the agreement has 2"
    ),
    "weights sum below 10,000": (
        lambda: [Tier(None, (5_000, 4_000))], 2, "sum to 10,000 basis points.*not 9,000"
    ),
    "weights sum above 10,000": (lambda: [Tier(None, (5_000, 6_000))], 2, "not 11,000"),
    "negative weight": (lambda: [Tier(None, (-5_000, 15_000))], 2, "weight 1 is negative"),
    "float weight": (lambda: [Tier(None, (5_000.0, 5_000))], 2, "weight 1 must be an int"),  # type: ignore[arg-type]
    "weights not a list": (lambda: [Tier(None, "10000")], 1, "list of basis points"),  # type: ignore[arg-type]
    "unbounded tier not last": (
        lambda: [Tier(None, (10_000, 0)), Tier(None, (5_000, 5_000))],
        2,
        "Tier 1 is unbounded .* only the last tier",
    ),
    "equal up_to": (
        lambda: [Tier(100, (10_000, 0)), Tier(100, (0, 10_000)), Tier(None, (5_000, 5_000))],
        2,
        r"Tier 2's up_to \(100\) must be greater than the previous tier's \(100\)",
    ),
    "decreasing up_to": (
        lambda: [Tier(200, (10_000, 0)), Tier(100, (0, 10_000))],
        2,
        "Tier 2's up_to .* increasing order",
    ),
    "up_to zero": (lambda: [Tier(0, (10_000,))], 1, "must be a positive amount"),
    "negative up_to": (lambda: [Tier(-100, (10_000,))], 1, "must be a positive amount"),
    "float up_to": (lambda: [Tier(100.0, (10_000,))], 1, "must be a positive amount"),  # type: ignore[arg-type]
    "money string up_to": (lambda: [Tier("1000.00", (10_000,))], 1, "must be a positive"),  # type: ignore[arg-type]
}  # fmt: skip


@pytest.mark.parametrize(
    ("make_tiers", "parties", "match"), INVALID_TIERS.values(), ids=INVALID_TIERS.keys()
)
def test_invalid_tiers(make_tiers: Any, parties: int, match: str) -> None:
    with pytest.raises(RuleViolation, match=match) as caught:
        validate_tiers(make_tiers(), parties)
    assert caught.value.rule == TIERS_RULE


def test_valid_tiers_pass() -> None:
    validate_tiers(HAIER, 2)
    validate_tiers([Tier(100, (10_000,))], 1)  # a bounded last tier is allowed (a cap)
    validate_tiers([Tier(1, (10_000, 0)), Tier(2, (0, 10_000)), Tier(None, (5_000, 5_000))], 2)


# -- basis --------------------------------------------------------------------------------

BASIS = {
    "revenue": ("revenue", 150_000, 40_000, 150_000),
    "value added": ("value-added", 150_000, 40_000, 110_000),
    "value added, break-even": ("value-added", 40_000, 40_000, 0),
    "value added, loss shares nothing": ("value-added", 30_000, 40_000, 0),
    "no costs": ("value-added", 5, 0, 5),
}


@pytest.mark.parametrize(
    ("basis", "revenue", "costs", "expected"), BASIS.values(), ids=BASIS.keys()
)
def test_basis_amount(basis: Any, revenue: int, costs: int, expected: int) -> None:
    assert basis_amount(basis=basis, revenue=revenue, costs=costs) == expected


INVALID_BASIS = {
    "negative revenue": ("revenue", -1, 0, "revenue must not be negative"),
    "negative costs": ("value-added", 10, -1, "costs must not be negative"),
    "float revenue": ("revenue", 1.0, 0, "revenue must be an int"),
    "unknown basis": ("profit", 10, 0, "'revenue' or 'value-added', not 'profit'"),
}


@pytest.mark.parametrize(
    ("basis", "revenue", "costs", "match"), INVALID_BASIS.values(), ids=INVALID_BASIS.keys()
)
def test_basis_amount_invalid(basis: Any, revenue: Any, costs: Any, match: str) -> None:
    with pytest.raises(ContractError, match=match):
        basis_amount(basis=basis, revenue=revenue, costs=costs)


def test_bases() -> None:
    assert BASES == ("revenue", "value-added")


# -- properties ---------------------------------------------------------------------------


@st.composite
def weight_lists(draw: st.DrawFn, min_parties: int = 1, max_parties: int = 8) -> list[int]:
    """Random basis-point weights summing to 10,000 (zeros and ties included)."""
    parties = draw(st.integers(min_parties, max_parties))
    if draw(st.booleans()):  # equal-ish weights make many ties
        base, extra = divmod(BASIS_POINTS, parties)
        return [base + (1 if i < extra else 0) for i in range(parties)]
    cuts = sorted(
        draw(st.lists(st.integers(0, BASIS_POINTS), min_size=parties - 1, max_size=parties - 1))
    )
    return [b - a for a, b in itertools.pairwise([0, *cuts, BASIS_POINTS])]


totals = st.one_of(st.integers(0, 1_000), st.integers(0, 2**53 - 1))


def exact_floor_and_remainder(total: int, weights: list[int]) -> list[tuple[int, int]]:
    return [divmod(total * w, BASIS_POINTS) for w in weights]


@given(total=totals, weights=weight_lists())
def test_parts_sum_to_total(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == total
    assert all(part >= 0 for part in parts)


@given(total=totals, weights=weight_lists())
def test_each_part_is_floor_or_ceiling_of_its_share(total: int, weights: list[int]) -> None:
    for part, weight, (floor, remainder) in zip(
        allocate(total, weights), weights, exact_floor_and_remainder(total, weights), strict=True
    ):
        ceiling = floor + (1 if remainder else 0)
        assert floor <= part <= ceiling
        assert part * BASIS_POINTS - total * weight in range(-BASIS_POINTS + 1, BASIS_POINTS)
        if weight == 0:
            assert part == 0


@given(total=totals, weights=weight_lists())
def test_leftovers_go_by_remainder_then_party_order(total: int, weights: list[int]) -> None:
    """The parties that got an extra unit are a prefix of the order (largest remainder
    first, earlier party first among equal remainders)."""
    shares = exact_floor_and_remainder(total, weights)
    extra = [
        part - floor for part, (floor, _) in zip(allocate(total, weights), shares, strict=True)
    ]
    order = sorted(range(len(weights)), key=lambda i: (-shares[i][1], i))
    got = [extra[i] for i in order]
    assert got == sorted(got, reverse=True)
    for i, j in itertools.combinations(range(len(weights)), 2):  # i < j
        if shares[i][1] == shares[j][1]:
            assert extra[i] >= extra[j]


@given(total=totals, weights=weight_lists(min_parties=2), data=st.data())
def test_permuting_parties(total: int, weights: list[int], data: st.DataObject) -> None:
    """Permuting the parties permutes their parts, except that among parties with equal
    remainders the extra units go to whoever is now earlier."""
    permutation = data.draw(st.permutations(range(len(weights))))
    permuted = [weights[k] for k in permutation]
    before, after = allocate(total, weights), allocate(total, permuted)
    assert sum(after) == sum(before) == total
    exact = exact_floor_and_remainder(total, permuted)
    remainders = [r for _, r in exact]
    for position, k in enumerate(permutation):
        floor, remainder = exact[position]
        # A tie may move an extra unit between parties of different weights (so the
        # multiset of parts can change), but a part is always its floor or floor + 1.
        assert after[position] in (floor, floor + 1) if remainder else after[position] == floor
        tied = remainders.count(remainders[position]) > 1
        if not tied:
            assert after[position] == before[k]
    # Within each group of equal remainders the earlier positions hold the larger parts.
    for i, j in itertools.combinations(range(len(permuted)), 2):
        if remainders[i] == remainders[j] and permuted[i] == permuted[j]:
            assert after[i] >= after[j]


@given(weights=weight_lists(), total=totals, extra=st.integers(1, 10**9))
def test_more_to_share_costs_a_party_at_most_one_unit(
    weights: list[int], total: int, extra: int
) -> None:
    """Single tier, any number of parties: a larger amount never lowers a part by more than
    one unit, and never lowers it at all once its exact share grew by a whole unit."""
    before, after = allocate(total, weights), allocate(total + extra, weights)
    for weight, old, new in zip(weights, before, after, strict=True):
        assert new >= old - 1
        if extra * weight >= BASIS_POINTS:
            assert new >= old


@given(
    weights=weight_lists(min_parties=2, max_parties=2), total=totals, extra=st.integers(1, 10**6)
)
def test_two_parties_are_monotonic(weights: list[int], total: int, extra: int) -> None:
    """With two parties (the common target-sharing case) no paradox is possible."""
    before, after = allocate(total, weights), allocate(total + extra, weights)
    assert all(new >= old for old, new in zip(before, after, strict=True))


@st.composite
def tier_lists(draw: st.DrawFn) -> list[Tier]:
    parties = draw(st.integers(1, 5))
    bounds = sorted(draw(st.sets(st.integers(1, 10**7), max_size=4)))
    unbounded = draw(st.booleans()) or not bounds
    ups: list[int | None] = [*bounds, None] if unbounded else list(bounds)
    return [Tier(up_to=up, weights=tuple(draw(weight_lists(parties, parties)))) for up in ups]


@given(tiers=tier_lists(), data=st.data())
def test_waterfall_sums_to_amount(tiers: list[Tier], data: st.DataObject) -> None:
    cap = tiers[-1].up_to
    amount = data.draw(st.integers(0, cap if cap is not None else 2 * 10**7))
    split = waterfall(amount, tiers)
    assert split.basis_amount == amount
    assert sum(split.totals) == amount
    assert len(split.tiers) == len(tiers)
    lower = 0
    for tier, parts in zip(tiers, split.tiers, strict=True):
        upper = amount if tier.up_to is None else min(amount, tier.up_to)
        assert sum(parts) == max(upper - lower, 0)
        assert list(parts) == allocate(max(upper - lower, 0), tier.weights)
        lower = tier.up_to if tier.up_to is not None else lower
    assert split.totals == tuple(sum(column) for column in zip(*split.tiers, strict=True))


@given(
    weights=weight_lists(min_parties=2, max_parties=2),
    amount=st.integers(0, 10**7),
    extra=st.integers(1, 10**5),
)
def test_haier_waterfall_is_monotonic(weights: list[int], amount: int, extra: int) -> None:
    """Two parties, target then a shared band: more value added never lowers a payout."""
    tiers = [HAIER[0], Tier(up_to=None, weights=tuple(weights))]
    before, after = waterfall(amount, tiers).totals, waterfall(amount + extra, tiers).totals
    assert all(new >= old for old, new in zip(before, after, strict=True))

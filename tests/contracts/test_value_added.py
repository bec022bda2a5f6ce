"""The value-added statement of a community and period, on the ecosystem of test_fold."""

from __future__ import annotations

import pytest

from contracts.errors import ContractError
from contracts.fold import fold
from contracts.money import Money
from contracts.value_added import in_period, value_added
from tests.contracts.helpers import ecosystem, key, pid


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


def test_statement_of_each_community() -> None:
    lake, harbour, north = ecosystem()
    state = fold(e for c in (lake, harbour, north) for e in c.entries).state
    shared = tuple(sorted([(lake.id, eur("999.96")), (harbour.id, eur("1200.04"))]))

    mine = value_added(state, log=lake.id, period="2026-11", currency="EUR")
    assert (mine.revenue, mine.costs, mine.value_added) == (
        eur("500.00"),
        eur("300.00"),
        eur("200.00"),
    )
    assert mine.shared == shared
    assert mine.paid_by_engagement == (("freelance", eur("300.00")),)
    assert mine.tasks_completed == 1
    assert mine.skills_attested == ((pid(key("worker/amara")), "cad"),)

    theirs = value_added(state, log=harbour.id, period="2026-11", currency="EUR")
    assert theirs.value_added == eur("2000.00")
    assert theirs.shared == shared
    assert theirs.paid_by_engagement == (("none", eur("120.50")),)
    assert (theirs.tasks_completed, theirs.skills_attested) == (1, ())

    quarter = value_added(state, log=lake.id, period="2026-Q4", currency="EUR")
    assert quarter.revenue == eur("0.00")  # the agreement reports months, not quarters
    assert quarter.tasks_completed == 1
    assert value_added(state, log=lake.id, period="2026-10", currency="EUR").tasks_completed == 0
    assert value_added(state, log=north.id, period="2026", currency="EUR").to_dict()["shared"] == []
    assert mine.to_dict()["value_added"] == {"amount": "200.00", "currency": "EUR"}


@pytest.mark.parametrize(
    ("time", "period", "inside"),
    [
        ("2026-11-30T23:59:59Z", "2026-11", True),
        ("2026-12-01T00:00:00Z", "2026-11", False),
        ("2026-10-01T00:00:00Z", "2026-Q4", True),
        ("2026-09-30T23:59:59Z", "2026-Q4", False),
        ("2026-01-01T00:00:00Z", "2026", True),
        ("2025-12-31T23:59:59Z", "2026", False),
    ],
)
def test_in_period(time: str, period: str, inside: bool) -> None:
    assert in_period(time, period) is inside


def test_bad_period() -> None:
    with pytest.raises(ContractError, match="period"):
        in_period("2026-11-01T00:00:00Z", "2026-13")

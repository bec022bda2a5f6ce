"""Fuzzing every parser of untrusted bytes (`tests.hardening.parsers.TARGETS`).

Each target gets random bytes and random edits of genuine inputs; the only acceptable
failure is a `LedgerError`, and the targets' own properties (canonical round trips, exact
re-serialisation) must hold for whatever is accepted. The examples are bounded here; the
large runs whose figures are in docs/security.md are `benchmarks/hardening_report.py`.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.hardening.fuzzing import inputs
from tests.hardening.parsers import TARGETS, Target, run_target

SUITE = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_seeds_are_accepted(target: Target) -> None:
    """The fuzzing starts from inputs the parser accepts (else it proves little)."""
    for seed in target.seeds:
        assert run_target(target, seed), f"{target.name} refuses its own seed"


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_parser_only_raises_ledger_errors(target: Target) -> None:
    @SUITE
    @given(inputs(target))
    def fuzz(data: bytes) -> None:
        run_target(target, data)

    fuzz()

"""Shared fixtures (paths to the golden vectors) and the Hypothesis profiles.

Locally Hypothesis explores new random examples on every run (and keeps failures in
`.hypothesis/`); under CI it is derandomized, so a submission's result does not depend on
luck, and no example fails for being slow on a loaded machine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.builders import Ecosystem, ecosystem

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

VECTORS = Path(__file__).parent / "vectors"


def load_vector(name: str) -> Any:
    """Load one JSON vector file from tests/vectors (a copy of ../shared/vectors plus our own)."""
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def shared_vectors() -> Path:
    """Directory holding the standard vectors (rfc6962.json, signed-note.json)."""
    return VECTORS


@pytest.fixture(scope="session")
def eco() -> Ecosystem:
    """The three-log test ecosystem of tests.builders (ledger-level entries, not contract-valid)."""
    return ecosystem()


@pytest.fixture(scope="session")
def clean_files(eco: Ecosystem) -> dict[str, bytes]:
    """The files of the ecosystem's clean bundle (copy before changing them)."""
    return dict(eco.bundle().files)

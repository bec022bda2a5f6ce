"""Shared fixtures: paths to the golden vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

VECTORS = Path(__file__).parent / "vectors"


def load_vector(name: str) -> Any:
    """Load one JSON vector file from tests/vectors (a copy of ../shared/vectors plus our own)."""
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def shared_vectors() -> Path:
    """Directory holding the standard vectors (rfc6962.json, signed-note.json)."""
    return VECTORS

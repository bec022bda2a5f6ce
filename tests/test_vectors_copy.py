"""The vectors under tests/vectors are byte-identical copies of ../shared/vectors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "vectors"
LOCAL = Path(__file__).parent / "vectors"


@pytest.mark.skipif(
    not SHARED.is_dir() and not os.environ.get("CI"),
    reason="../shared/vectors is not beside this checkout",
)
@pytest.mark.parametrize("name", ["rfc6962.json", "signed-note.json"])
def test_vector_copies_match_shared(name: str) -> None:
    assert (LOCAL / name).read_bytes() == (SHARED / name).read_bytes()

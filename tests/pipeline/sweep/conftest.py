"""Fixtures of the sweep tests."""

from __future__ import annotations

import pytest

from tests.conftest import FAST


@pytest.fixture
def base_sets(idx_dir) -> list[str]:
    """``--set`` values (no ``--set`` flags) for a quick sweep on the tiny IDX data."""
    return [f"data.source=idx:{idx_dir}", *FAST]

"""Fixtures of the real-process tests."""

from __future__ import annotations

import pytest

from tests.conftest import FAST
from tests.pipeline.processes import cli_args, metrics, run


@pytest.fixture(scope="session")
def reference(tmp_path_factory, idx_dir):
    """Metrics of an uninterrupted run, in its own process."""
    base = tmp_path_factory.mktemp("reference")
    result = run(base / "cache", cli_args(idx_dir, base / "out"))
    assert result.returncode == 0, result.stderr
    return metrics(base / "out")


@pytest.fixture
def base_sets(idx_dir) -> list[str]:
    """``--set`` values (no ``--set`` flags) for a quick sweep on the tiny IDX data."""
    return [f"data.source=idx:{idx_dir}", *FAST]

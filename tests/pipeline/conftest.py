"""Fixtures of the real-process tests."""

from __future__ import annotations

import pytest

from tests.pipeline.processes import cli_args, metrics, run


@pytest.fixture(scope="session")
def reference(tmp_path_factory, idx_dir):
    """Metrics of an uninterrupted run, in its own process."""
    base = tmp_path_factory.mktemp("reference")
    result = run(base / "cache", cli_args(idx_dir, base / "out"))
    assert result.returncode == 0, result.stderr
    return metrics(base / "out")

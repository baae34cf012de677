"""Shared fixtures: a private cache dir, a tiny IDX data set, and an in-process CLI runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.datasets import write_idx_dataset

#: A small, fast configuration for end-to-end runs on the tiny data set.
FAST = ["train.epochs=3", "model.hidden=[16]", "train.batch_size=16", "evaluate.batch_size=50"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own cache dir and working directory, and wide rich output."""
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("PIPELINE_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def idx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 classes of 6x6 images: 30 train and 10 test rows per class, gzipped IDX."""
    return write_idx_dataset(tmp_path_factory.mktemp("idx"), n_train_per_class=30, n_test_per_class=10,
                             classes=3, shape=(6, 6))


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture):
    """Run ``pipeline ARGS...`` in-process; returns exit code, stdout and stderr."""
    from pipeline.cli import main

    def run(*args: str) -> Result:
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def fast_sets(idx_dir: Path) -> list[str]:
    """``--set`` arguments for a quick run on the tiny IDX data."""
    args = ["--set", f"data.source=idx:{idx_dir}"]
    for item in FAST:
        args += ["--set", item]
    return args

"""A model trained once for the predict tests, and images it knows, as arrays and as files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import FAST
from tests.datasets import IDX_NAMES, _train_test, idx_bytes


def _framed(x: np.ndarray) -> np.ndarray:
    """``x`` with a black frame, as MNIST digits have (so that drawings on white can be told apart)."""
    x = x.copy()
    x[:, [0, -1], :] = 0
    x[:, :, [0, -1]] = 0
    return x


@pytest.fixture(scope="session")
def framed_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    """An IDX directory of framed 6x6 images of 3 classes, and 12 held-out images with their labels."""
    x_tr, y_tr, x_te, y_te = _train_test(40, 10, 3, (6, 6), seed=0)
    directory = tmp_path_factory.mktemp("framed")
    for key, array in {"train_images": _framed(x_tr), "train_labels": y_tr,
                       "test_images": _framed(x_te[:18]), "test_labels": y_te[:18]}.items():
        (directory / (IDX_NAMES[key] + ".gz")).write_bytes(gzip.compress(idx_bytes(array), mtime=0))
    return directory, _framed(x_te[18:]), y_te[18:]


@pytest.fixture(scope="session")
def trained(framed_data, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory (model.npz, model.json, model.onnx) trained on the framed images."""
    import pipeline
    from pipeline.toml_io import parse_assignment

    root = tmp_path_factory.mktemp("trained")
    sets = dict(parse_assignment(item) for item in FAST)
    pipeline.run(set={**sets, "data.source": f"idx:{framed_data[0]}", "train.epochs": 10},
                 cache_dir=root / "cache", out=root / "run", quiet=True)
    return root / "run"


@pytest.fixture(scope="session")
def digits(framed_data) -> tuple[np.ndarray, np.ndarray]:
    """12 held-out framed images (uint8, 6x6) and their labels."""
    return framed_data[1], framed_data[2]

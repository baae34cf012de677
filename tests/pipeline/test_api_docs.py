"""docs/api.md stays true: its onnxruntime and scikit-learn recipes run and agree with pipeline."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import pipeline
from pipeline.data.idx import read_idx
from pipeline.toml_io import parse_assignment
from tests.conftest import FAST

TEXT = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")


def _recipe(name: str) -> str:
    blocks = re.findall(rf"<!-- test: {name} -->\n```python\n(.*?)\n```", TEXT, flags=re.DOTALL)
    assert len(blocks) == 1, f"docs/api.md has no single block marked 'test: {name}'"
    return blocks[0]


@pytest.fixture(scope="module", params=["relu", "tanh", "sigmoid"])
def run_dir(request, idx_dir, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("api-docs")
    sets = {**dict(parse_assignment(item) for item in FAST), "model.activation": request.param,
            "model.hidden": [16, 8] if request.param == "relu" else [16], "train.epochs": 12}
    return pipeline.run(set={"data.source": f"idx:{idx_dir}", **sets}, cache_dir=root / "cache", out=root / "run",
                        quiet=True).out_dir


def test_the_scikit_learn_recipe_gives_the_same_predictions(run_dir, idx_dir):
    images = read_idx(idx_dir / "t10k-images-idx3-ubyte.gz")
    namespace = {"run_dir": str(run_dir), "images": images}
    exec(_recipe("sklearn"), namespace)
    model = pipeline.load_model(run_dir)
    np.testing.assert_array_equal(namespace["labels"], model.predict(images))
    np.testing.assert_allclose(namespace["clf"].predict_proba(namespace["x"]), model.predict_proba(images),
                               atol=1e-6)
    assert len(set(namespace["labels"].tolist())) == 3


def test_the_onnxruntime_snippet_matches_the_model(run_dir, idx_dir):
    images = read_idx(idx_dir / "t10k-images-idx3-ubyte.gz")
    namespace = {"run_dir": str(run_dir), "images": images}
    exec(_recipe("onnxruntime"), namespace)
    model = pipeline.load_model(run_dir)
    np.testing.assert_allclose(namespace["probabilities"], model.predict_proba(images), atol=1e-5)
    np.testing.assert_array_equal(namespace["label"], model.predict(images))

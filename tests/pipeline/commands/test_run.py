"""``run``'s runs/latest: the newest run that wrote a model, so ``predict runs/latest ...`` always works."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tests.datasets import make_images


def test_runs_latest_skips_runs_without_a_model(cli, fast_sets, tmp_path):
    np.save(tmp_path / "x.npy", make_images(n_per_class=2)[0])
    assert cli("run", "-q", *fast_sets).code == 0
    with_model = os.readlink("runs/latest")
    for partial in (["--to", "split"], ["--only", "evaluate"]):
        result = cli("run", *fast_sets, *partial)
        assert result.code == 0
        assert os.readlink("runs/latest") == with_model
        assert f"runs/latest stays at {with_model}, the newest run with a model (this one wrote none)" in result.out
        assert len(list(Path("runs").iterdir())) > 2                        # the partial run has its own directory
        predicted = cli("predict", "runs/latest", str(tmp_path / "x.npy"))
        assert predicted.code == 0, predicted.err
    assert cli("run", "-q", *fast_sets, "--set", "train.lr=0.05").code == 0
    assert os.readlink("runs/latest") != with_model                        # a new model: latest moves on

"""``run``'s output directories: runs/latest is the newest run that wrote a model (so ``predict
runs/latest ...`` always works), and ``--out DIR`` over an earlier run says which run it replaces."""

from __future__ import annotations

import json
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



def test_out_over_an_earlier_run_names_the_run_it_replaces(cli, fast_sets):
    first = cli("run", "-q", *fast_sets, "--out", "out")
    assert first.code == 0 and first.err == ""
    earlier = json.loads(Path("out/run.json").read_text())
    again = cli("run", "-q", *fast_sets, "--set", "train.lr=0.05", "--out", "out")
    assert again.code == 0
    accuracy = f"{100 * earlier['metrics']['test_accuracy']:.2f} %"
    assert again.err.splitlines() == [f"warning: --out out: replacing the run finished {earlier['finished']}, "
                                      f"test accuracy {accuracy}"]
    assert json.loads(Path("out/run.json").read_text())["config"]["train"]["lr"] == 0.05


def test_out_over_an_interrupted_run_says_so(cli, fast_sets):
    assert cli("run", "-q", *fast_sets, "--out", "out").code == 0
    Path("out/run.json").unlink()  # what a killed run leaves
    again = cli("run", "-q", *fast_sets, "--out", "out")
    assert again.code == 0 and again.err.splitlines() == [
        "warning: --out out: replacing the files of an interrupted run (model.npz, model.json, metrics.json)"]
    assert Path("out/run.json").exists()

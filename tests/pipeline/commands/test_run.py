"""``run --out DIR`` over an earlier run says which run it replaces; a new directory says nothing."""

from __future__ import annotations

import json
from pathlib import Path


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

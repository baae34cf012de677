"""The example package ``examples/pipeline-extras``, installed: listed, checked, trained with, cached right.

The ``extras`` fixture installs a copy of the package the way ``pip install
--target`` lays it out (modules plus a dist-info whose ``entry_points.txt``
is generated from the package's own ``pyproject.toml``), so discovery goes
through ``importlib.metadata`` exactly as for a real installation, offline
and in milliseconds. ``test_real_pip_install`` does run pip when the
environment can build a wheel without downloading anything.
"""

from __future__ import annotations

import re
import importlib.util
import json
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from pipeline.cache.store import Entry
from pipeline.hooks.check import CHECKS
from pipeline.hooks.manager import AUTOLOAD_ENV
from pipeline.registry import STAGES
from tests.distributions import forget_modules, set_version, write_distribution

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipeline-extras"
PROJECT = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
SWISH = ["--set", "model.activation=swish"]
ALL_THREE = [*SWISH, "--set", "model.init=lecun_normal", "--set", "train.optimizer=rmsprop",
             "--set", "train.lr=0.01"]
DOWNSTREAM = {"activation": ["train", "evaluate", "export", "report"],
              "optimizer": ["train", "evaluate", "export", "report"],
              "initializer": ["init", "train", "evaluate", "export", "report"]}


@dataclass
class Installed:
    site: Path
    dist_info: Path

    @property
    def package(self) -> Path:
        return self.site / "pipeline_extras"


@pytest.fixture
def extras(tmp_path, monkeypatch):
    """A private, editable installation of pipeline-extras; autoload on; timing log to a file."""
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE / "src" / "pipeline_extras", site / "pipeline_extras",
                    ignore=shutil.ignore_patterns("__pycache__"))
    info = write_distribution(site, PROJECT["name"], PROJECT["version"], PROJECT["entry-points"]["pipeline"])
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv(AUTOLOAD_ENV)
    monkeypatch.setenv("PIPELINE_EXTRAS_TIMING_LOG", str(tmp_path / "timing.log"))
    forget_modules("pipeline_extras")
    yield Installed(site, info)
    forget_modules("pipeline_extras")


def _run(cli, fast_sets, *args) -> dict:
    """``pipeline run`` into a fresh directory; returns run.json."""
    out = Path(f"out{len(list(Path.cwd().glob('out*')))}")
    result = cli("run", "-q", *fast_sets, *args, "--out", str(out))
    assert result.code == 0, result.err
    return json.loads((out / "run.json").read_text())


def _ran(record: dict) -> list[str]:
    return [s["name"] for s in record["stages"] if s["status"] == "ran"]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    forget_modules("pipeline_extras")  # the next command imports the edited file


def test_plugins_lists_them_with_their_distribution(extras, cli):
    result = cli("plugins")
    assert result.code == 0, result.err
    row = next(line for line in result.out.splitlines() if line.startswith("pipeline-extras "))
    assert "pipeline-extras 0.1.0" in row and "(built-in)" not in row
    for provided in (r"activation +swish", r"initializer +lecun_normal", r"optimizer +rmsprop",
                     r"hooks +.*after_stage_run"):
        assert re.search(rf"^  {provided}\b", result.out, flags=re.MULTILINE), result.out
    assert "pipeline-extras-timing" in result.out


def test_check_plugins_passes_for_them(extras, cli):
    result = cli("check-plugins", "swish", "lecun_normal", "rmsprop")
    assert result.code == 0, result.out
    n = len(CHECKS["activation"]) + len(CHECKS["initializer"]) + len(CHECKS["optimizer"])
    assert f"{n} of {n} checks passed" in result.out and "pipeline-extras" in result.out


def test_trains_end_to_end_with_all_three(extras, cli, fast_sets, tmp_path):
    record = _run(cli, fast_sets, *ALL_THREE)
    assert _ran(record) == [s["name"] for s in record["stages"]]
    assert record["metrics"]["test_accuracy"] >= 0.9           # the tiny data set is easy
    assert record["config"]["model"]["activation"] == "swish"
    # swish's ONNX form (pipeline_register_onnx_activations) gives a model.onnx that agrees with NumPy
    import pipeline
    from pipeline.data.idx import read_idx

    images = read_idx(Path(fast_sets[1].split(":", 1)[1]) / "t10k-images-idx3-ubyte.gz")
    out = Path(record["out_dir"])
    np.testing.assert_allclose(pipeline.load_model(out / "model.onnx").predict_proba(images),
                               pipeline.load_model(out).predict_proba(images), atol=1e-5)


def test_timing_plugin_logs_durations_and_shapes(extras, cli, fast_sets, tmp_path):
    _run(cli, fast_sets, *SWISH)
    lines = (tmp_path / "timing.log").read_text().splitlines()
    n = len(STAGES)
    assert len(lines) == n + 1 and lines[-1].startswith(f"[timing] run: {n} stages, {n} ran, 0 cached")
    train = next(line for line in lines if line.startswith("[timing] train ran in "))
    assert "params=[(36, 16) float32, (16,) float32, (16, 3) float32, (3,) float32]" in train
    assert "history=dict(" in train
    (tmp_path / "timing.log").unlink()
    _run(cli, fast_sets, *SWISH)
    lines = (tmp_path / "timing.log").read_text().splitlines()
    assert "[timing] fetch cached in " in lines[0] and lines[0].endswith("(not loaded)")


def test_timing_plugin_loads_nothing_from_the_cache(extras, cli, fast_sets, monkeypatch):
    _run(cli, fast_sets)
    loads: list[str] = []
    original = Entry.load
    monkeypatch.setattr(Entry, "load", lambda self, name: loads.append(name) or original(self, name))
    _run(cli, fast_sets, "-p", "no:pipeline-extras-timing")
    without = sorted(loads)
    loads.clear()
    _run(cli, fast_sets)
    assert sorted(loads) == without


@pytest.mark.parametrize("kind, sets", [
    ("activation", SWISH),
    ("initializer", ["--set", "model.init=lecun_normal"]),
    ("optimizer", ["--set", "train.optimizer=rmsprop", "--set", "train.lr=0.01"]),
])
def test_a_version_bump_reruns_exactly_the_stages_using_the_plugin(extras, cli, fast_sets, kind, sets):
    _run(cli, fast_sets, *sets)
    set_version(extras.dist_info, "0.2.0")
    status = cli("status", *fast_sets, *sets)
    assert f"plugin {kind}: version 0.1.0 -> 0.2.0" in status.out
    assert _ran(_run(cli, fast_sets, *sets)) == DOWNSTREAM[kind]
    assert _ran(_run(cli, fast_sets, *sets)) == []


def test_editing_swish_reruns_exactly_train_evaluate_export_report(extras, cli, fast_sets):
    first = _run(cli, fast_sets, *ALL_THREE)
    _edit(extras.package / "activations.py", "return z * _sigmoid(z)", "return _sigmoid(z) * z  # commuted")
    status = cli("status", *fast_sets, *ALL_THREE)
    assert "plugin activation: code changed" in status.out
    second = _run(cli, fast_sets, *ALL_THREE)
    assert _ran(second) == ["train", "evaluate", "export", "report"]
    assert second["metrics"] == pytest.approx(first["metrics"], abs=1e-6)   # same maths


def test_editing_a_helper_or_the_initializer_is_seen_too(extras, cli, fast_sets):
    _run(cli, fast_sets, *ALL_THREE)
    _edit(extras.package / "activations.py", "e = np.exp(-np.abs(z))", "e = np.exp(-abs(z))")
    assert _ran(_run(cli, fast_sets, *ALL_THREE)) == DOWNSTREAM["activation"]
    _edit(extras.package / "initializers.py", "math.sqrt(1.0 / fan_in)", "math.sqrt(1 / fan_in)")
    assert _ran(_run(cli, fast_sets, *ALL_THREE)) == DOWNSTREAM["initializer"]
    _edit(extras.package / "timing.py", "MAX_ITEMS = 8", "MAX_ITEMS = 9")    # no stage uses it
    assert _ran(_run(cli, fast_sets, *ALL_THREE)) == []


def _can_build_offline() -> bool:
    # setuptools < 70.1 needs the separate `wheel` package to build one
    return importlib.util.find_spec("wheel") is not None or \
        importlib.util.find_spec("setuptools.command.bdist_wheel") is not None


@pytest.mark.skipif(not _can_build_offline(), reason="building a wheel offline needs setuptools>=70.1 or wheel")
def test_real_pip_install(tmp_path, monkeypatch, cli):
    source, target = tmp_path / "src-copy", tmp_path / "target"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(source)],
                   check=True, capture_output=True, timeout=300)
    monkeypatch.syspath_prepend(str(target))
    monkeypatch.delenv(AUTOLOAD_ENV)
    forget_modules("pipeline_extras")
    try:
        listed = cli("plugins")
        assert listed.code == 0 and "pipeline-extras 0.1.0" in listed.out and "optimizer rmsprop" in listed.out
        assert cli("check-plugins", "pipeline-extras").code == 0
    finally:
        forget_modules("pipeline_extras")


def test_one_cycle_and_the_epoch_csv(extras, cli, fast_sets, tmp_path, monkeypatch):
    csv = tmp_path / "epochs.csv"
    monkeypatch.setenv("PIPELINE_EXTRAS_EPOCH_CSV", str(csv))
    assert cli("check-plugins", "one_cycle").code == 0
    record = _run(cli, fast_sets, "--set", "train.optimizer=rmsprop", "--set", "train.schedule=one_cycle",
                  "--set", "train.schedule_options={pct_start = 0.5}")
    assert record["lr"] == {"value": 0.001, "why": "train.lr not set: the optimizer 'rmsprop' recommends it"}
    header, *rows = [line.split(",") for line in csv.read_text().splitlines()]
    assert header == ["epoch", "epochs", "lr", "loss", "acc", "val_loss", "val_acc"]
    assert [r[0] for r in rows] == ["1", "2", "3"]
    from pipeline_extras.schedules import one_cycle
    assert [float(r[2]) for r in rows] == pytest.approx([one_cycle(e, 3, 0.001, pct_start=0.5) for e in range(3)],
                                                        rel=1e-5)
    csv.unlink()
    again = _run(cli, fast_sets, "--set", "train.optimizer=rmsprop", "--set", "train.schedule=one_cycle",
                 "--set", "train.schedule_options={pct_start = 0.5}", "-p", "no:pipeline-extras-epochs")
    assert _ran(again) == [] and not csv.exists()   # the logger is no input of any key

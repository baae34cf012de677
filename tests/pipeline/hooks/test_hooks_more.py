"""The newer places to plug in, through the CLI: schedules, data sources, epoch events, default lr."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.distributions import installed_plugin

PACKAGE = '''\
import json
import os
from pathlib import Path

import numpy as np

from pipeline import hookimpl
from pipeline.data.rawdata import assemble
from pipeline.data.sources import Source


def ramp(epoch, epochs, lr, scale=1.0):
    """Per step: grows through every epoch."""
    return lr * scale * (1.0 + epoch)


ramp.per_step = True


class Spy:
    """Plain SGD that logs the learning rate of every step."""

    def __init__(self, params):
        self.params = params

    def step(self, grads, lr):
        with open(os.environ["SPY_LOG"], "a") as f:
            f.write(f"{lr!r}\\n")
        for p, g in zip(self.params, grads):
            p -= lr * g


def _load_csv(arg, data_home, progress):
    rows = np.loadtxt(arg, delimiter=",", dtype=np.float64)
    x, y = rows[:, 1:].reshape(-1, 2, 2), rows[:, 0].astype(np.int64)
    return assemble(x, y, None, None, {"x": arg, "y": arg}, f"csv:{arg}", Path(arg).stem)


def _identity_csv(arg, data_home):
    st = os.stat(arg)
    return {"path": os.path.abspath(arg), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


@hookimpl
def pipeline_register_schedules():
    return {"ramp": ramp}


@hookimpl
def pipeline_register_optimizers():
    return {"spy": Spy}


@hookimpl
def pipeline_register_data_sources():
    return {"csv": Source("csv:FILE", True, _load_csv, _identity_csv)}


@hookimpl
def after_epoch(epoch, epochs, lr, loss, acc, val_loss, val_acc):
    if os.environ.get("EPOCH_LOG"):
        with open(os.environ["EPOCH_LOG"], "a") as f:
            f.write(json.dumps([epoch, epochs, lr, loss, acc, val_loss, val_acc]) + "\\n")
    if os.environ.get("EPOCH_FAIL") == str(epoch):
        raise RuntimeError("logger lost its connection")


@hookimpl
def pipeline_register_options():
    return {"note": "", "level": 1}


@hookimpl
def before_epoch(epoch, epochs, lr):
    if os.environ.get("EPOCH_LOG"):
        with open(os.environ["EPOCH_LOG"], "a") as f:
            f.write(json.dumps(["before", epoch, epochs, lr]) + "\\n")
'''


@pytest.fixture
def hookpkg(tmp_path, monkeypatch):
    yield from installed_plugin(tmp_path, monkeypatch, "hookpkg", {"hookpkg": "hookpkg"}, {"hookpkg.py": PACKAGE})


def _run(cli, *args, out):
    result = cli("run", "-q", *args, "--out", out)
    assert result.code == 0, result.err
    return json.loads(Path(out, "run.json").read_text())


def _statuses(record):
    return {s["name"]: s["status"] for s in record["stages"]}


def test_a_per_step_schedule_with_options_sets_every_step(hookpkg, cli, fast_sets, tmp_path, monkeypatch):
    monkeypatch.setenv("SPY_LOG", str(tmp_path / "spy.log"))
    args = [*fast_sets, "--set", "train.optimizer=spy", "--set", "train.lr=0.01", "--set", "train.schedule=ramp",
            "--set", "train.schedule_options={scale = 2.0}", "--set", "train.epochs=2"]
    record = _run(cli, *args, "--skip-plugin-checks", out="a")   # the checks would call the spy too
    lrs = [float(v) for v in (tmp_path / "spy.log").read_text().split()][1:]  # [0]: the run's one-step probe
    steps = len(lrs) // 2                # 0.9 of 90 rows in batches of 16: the same count each epoch
    assert len(lrs) == 2 * steps and steps == 6
    expected = [0.01 * 2.0 * (1 + e + i / steps) for e in range(2) for i in range(steps)]
    assert lrs == pytest.approx(expected, rel=1e-12)
    assert record["lr"] == {"value": 0.01, "why": "train.lr"}
    # the options are in train's key
    again = _run(cli, *args[:-2], "--set", "train.schedule_options={scale = 3.0}", "--skip-plugin-checks", out="b")
    assert _statuses(again)["train"] == "ran"


def test_a_schedule_option_it_does_not_take_is_a_config_error(hookpkg, cli, fast_sets):
    result = cli("run", "-q", *fast_sets, "--set", "train.schedule=ramp", "--set", "train.schedule_options={warm = 1}",
                 "--out", "a")
    assert result.code == 2 and "train.schedule_options = {'warm': 1}: not accepted by schedule 'ramp'" in result.err


def test_a_data_source_plugin_feeds_fetch_and_its_identity_is_in_the_key(hookpkg, cli, tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 40)
    rows = np.column_stack([labels, rng.uniform(0, 1, (80, 4)) + labels[:, None]])
    csv = tmp_path / "tiny.csv"
    np.savetxt(csv, rows, delimiter=",", fmt="%.4f")
    args = ["--set", f"data.source=csv:{csv}", "--set", "train.epochs=2", "--set", "model.hidden=[4]",
            "--set", "train.batch_size=16", "--set", "split.scheme=random"]
    record = _run(cli, *args, out="a")
    assert record["data"]["source"] == f"csv:{csv}" and record["data"]["n_train"] == 80
    assert _statuses(_run(cli, *args, out="b"))["fetch"] == "cached"
    np.savetxt(csv, rows[:60], delimiter=",", fmt="%.4f")
    assert _statuses(_run(cli, *args, out="c"))["fetch"] == "ran"
    listed = cli("plugins")
    rows = [line.split() for line in listed.out.splitlines()]
    assert ["source", "csv"] in rows and any(row[:1] == ["source"] and "idx," in row for row in rows)


def test_epoch_events_are_live_and_outside_the_key(hookpkg, cli, fast_sets, tmp_path, monkeypatch):
    log = tmp_path / "epochs.log"
    monkeypatch.setenv("EPOCH_LOG", str(log))
    record = _run(cli, *fast_sets, out="a")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line[:2] for line in lines if line[0] == "before"] == [["before", e] for e in (1, 2, 3)]
    after = [line for line in lines if line[0] != "before"]
    assert [a[0] for a in after] == [1, 2, 3] and all(a[1] == 3 for a in after)
    assert all(isinstance(v, float) for a in after for v in a[2:])
    assert lines.index(["before", 2, 3, after[1][2]]) == lines.index(after[0]) + 1   # interleaved: live
    assert _statuses(_run(cli, *fast_sets, "-p", "no:hookpkg", out="b"))["train"] == "cached"
    assert record["metrics"]


def test_a_raising_epoch_hook_stops_the_run_naming_its_plugin(hookpkg, cli, fast_sets, monkeypatch):
    monkeypatch.setenv("EPOCH_FAIL", "2")
    result = cli("run", "-q", *fast_sets, "--out", "a")
    assert result.code == 2
    assert "plugin 'hookpkg' raised in after_epoch: RuntimeError: logger lost its connection" in result.err


@pytest.mark.parametrize("sets, value, why", [
    ([], 0.001, "train.lr not set: the optimizer 'adam' recommends it"),
    (["--set", "train.lr=0.05"], 0.05, "train.lr"),
])
def test_the_optimizer_recommends_the_lr_when_none_is_set(cli, fast_sets, sets, value, why):
    result = cli("run", *fast_sets, "--set", "train.optimizer=adam", "--set", "train.schedule=constant", *sets,
                 "--out", "a")
    assert result.code == 0, result.err
    record = json.loads(Path("a", "run.json").read_text())
    assert record["lr"] == {"value": value, "why": why}
    assert (f"learning rate {value:g}: {why}" in " ".join(result.out.split())) == (why != "train.lr")
    from pipeline.cache.store import Cache
    train_key = next(s["key"] for s in record["stages"] if s["name"] == "train")
    history = Cache(Path(record["cache_dir"])).find("train", train_key).load("history")
    assert history["lr"] == [value] * 3


def test_a_plugin_section_is_validated_printed_and_keys_the_stages_using_the_plugin(hookpkg, cli, fast_sets):
    ramp = [*fast_sets, "--set", "train.schedule=ramp", "--set", "train.lr=0.05"]
    first = _run(cli, *ramp, out="a")
    assert first["config"]["hookpkg"] == {"note": "", "level": 1}
    again = _run(cli, *ramp, "--set", "hookpkg.level=2", out="b")
    assert _statuses(again)["train"] == "ran" and _statuses(again)["init"] == "cached"
    status = cli("status", *ramp, "--set", "hookpkg.level=3")
    assert "plugin schedule: options.level 2 -> 3" in " ".join(status.out.split())
    # a run that uses none of the plugin's implementations does not depend on its section
    plain = _run(cli, *fast_sets, out="c")
    assert _statuses(_run(cli, *fast_sets, "--set", "hookpkg.level=5", out="d"))["train"] == "cached"
    assert plain["config"]["hookpkg"]["level"] == 1
    shown = cli("config", "--set", "hookpkg.note=hi")
    assert '[hookpkg]\nnote = "hi"  # option of plugin \'hookpkg\'\nlevel = 1' in shown.out
    for bad, fragment in (("hookpkg.level=high", "hookpkg.level must be int"),
                          ("hookpkg.levle=2", "did you mean 'hookpkg.level'")):
        result = cli("run", "-q", *fast_sets, "--set", bad)
        assert result.code == 2 and fragment in result.err
    blocked = cli("run", "-q", *fast_sets, "--set", "hookpkg.level=2", "-p", "no:hookpkg")
    assert blocked.code == 2 and "unknown config section 'hookpkg'" in blocked.err

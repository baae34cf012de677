"""The command line: exit codes, one-line errors without tracebacks, every command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import Config
from tests.datasets import make_images


def test_run_then_cached_run_then_status(cli, fast_sets):
    first = cli("run", *fast_sets)
    assert first.code == 0, first.err
    assert "train running (not cached yet)" in first.out
    assert Path("runs/latest/run.json").is_file()
    second = cli("run", "-q", *fast_sets)
    assert second.code == 0 and second.out == ""
    record = json.loads(Path("runs/latest/run.json").read_text())
    assert {s["status"] for s in record["stages"]} == {"cached"}
    status = cli("status", *fast_sets, "--set", "train.lr=0.5")
    assert status.code == 0
    assert f"train.lr {Config().train.lr} -> 0.5" in status.out and "stale" in status.out


def test_runs_never_overwrite_each_other(cli, fast_sets):
    assert cli("run", "-q", *fast_sets).code == 0
    assert cli("run", "-q", *fast_sets).code == 0
    runs = [p for p in Path("runs").iterdir() if p.name != "latest"]
    assert len(runs) == 2
    assert Path("runs/latest").resolve() == max(runs, key=lambda p: p.stat().st_mtime).resolve()


@pytest.mark.parametrize("args, code, fragment", [
    (["run", "--set", "train.lrr=1"], 2, "did you mean 'train.lr'"),
    (["run", "--set", "train.epochs=0"], 2, "train.epochs must be greater than 0"),
    (["run", "--preset", "nope"], 2, "unknown preset 'nope'"),
    (["run", "--only", "trian"], 2, "unknown stage 'trian'"),
    (["run", "--from", "bogus"], 2, "unknown stage 'bogus'"),
    (["run", "--config", "missing.toml"], 2, "config file 'missing.toml' does not exist"),
    (["run", "--set", "model.activation=swishy"], 2, "available: leaky_relu, relu, sigmoid, tanh"),
    (["run", "--set", "train.optimizer=adamw"], 2, "available: adam, momentum, sgd"),
    (["run", "--set", "data.source=ftp:x"], 2, "data.source"),
    (["run", "--set", "data.source=idx:/no/such/dir"], 1, "/no/such/dir"),
    (["run", "-p", "yes:thing"], 2, "-p expects no:NAME"),
    (["predict", "nowhere/model.npz", "x.npy"], 1, "does not exist"),
])
def test_user_mistakes_get_one_line_and_an_exit_code(cli, args, code, fragment):
    result = cli(*args)
    assert result.code == code, result.err
    assert fragment in result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    assert not list(Path(os.environ["PIPELINE_CACHE_DIR"]).glob("*/*/entry.json"))  # nothing cached


def test_divergence_is_a_runtime_error_naming_the_lr(cli, fast_sets):
    result = cli("run", *fast_sets, "--set", "train.lr=1e30")
    assert result.code == 1
    assert "1e+30" in result.err or "1e30" in result.err
    assert "Traceback" not in result.err


def test_config_prints_effective_toml(cli):
    result = cli("config", "--set", "train.lr=0.25", "--preset", "seed")
    assert result.code == 0
    assert "lr = 0.25" in result.out and 'optimizer = "sgd"' in result.out and "[split]" in result.out


def test_cache_info_and_clear(cli, fast_sets):
    cli("run", "-q", *fast_sets)
    info = cli("cache", "info")
    assert info.code == 0 and "train" in info.out and "total" in info.out
    cleared = cli("cache", "clear", "train")
    assert cleared.code == 0 and "removed 1 entry" in cleared.out
    assert "missing" in cli("status", *fast_sets).out
    assert cli("cache", "clear", "nope").code == 2


def test_plugins_lists_builtins_with_their_origin(cli):
    result = cli("plugins")
    assert result.code == 0
    for name in ("relu", "leaky_relu", "sigmoid", "tanh", "normal", "he_normal", "glorot_uniform",
                 "sgd", "momentum", "adam"):
        assert name in result.out
    assert "built-in" in result.out


def test_trace_hooks_shows_calls(cli, fast_sets):
    result = cli("run", "-q", "--trace-hooks", *fast_sets)
    assert result.code == 0
    assert "pipeline_register_activations()" in result.err


def test_predict_classifies_idx_npy_and_npz(cli, fast_sets, tmp_path, idx_dir):
    assert cli("run", "-q", *fast_sets, "--out", "out").code == 0
    x, y = make_images(n_per_class=5, classes=3, shape=(6, 6), seed=0)
    np.save(tmp_path / "imgs.npy", x)
    np.savez(tmp_path / "imgs.npz", x_test=x)
    for path in (tmp_path / "imgs.npy", tmp_path / "imgs.npz", idx_dir / "t10k-images-idx3-ubyte.gz"):
        result = cli("predict", "out", str(path), "--limit", "0")
        assert result.code == 0, result.err
        assert "predictions" in result.out and "counts:" in result.out
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((2, 5, 5), dtype=np.uint8))
    result = cli("predict", "out", str(wrong))
    assert result.code == 1 and "25 pixels" in result.err and "36" in result.err


def test_predict_refuses_foreign_model_files(cli, tmp_path, fast_sets):
    assert cli("run", "-q", *fast_sets, "--out", "out").code == 0
    meta = json.loads(Path("out/model.json").read_text())
    Path("out/model.json").write_text(json.dumps({**meta, "format": "something-else"}))
    result = cli("predict", "out", "x.npy")
    assert result.code == 1 and "not a pipeline model" in result.err
    Path("out/model.json").write_text(json.dumps(meta))
    Path("out/model.npz").write_bytes(b"PK not really")
    np.save(tmp_path / "x.npy", np.zeros((1, 36)))
    result = cli("predict", "out", str(tmp_path / "x.npy"))
    assert result.code == 1 and "weights-only npz" in result.err


def test_status_reports_a_damaged_entry(cli, fast_sets):
    assert cli("run", "-q", *fast_sets).code == 0
    from pipeline.cache.store import Cache

    entry = Cache(os.environ["PIPELINE_CACHE_DIR"]).latest("evaluate")
    name = entry.meta["outputs"]["metrics"]["file"]
    data = bytearray((entry.path / name).read_bytes())
    data[-3] ^= 0xFF                                   # one flipped byte, same size
    (entry.path / name).write_bytes(bytes(data))
    result = cli("status", *fast_sets)
    assert result.code == 0
    assert "damaged" in result.out and "checksum" in result.out


def test_only_says_which_missing_inputs_it_computes_first(cli, fast_sets):
    result = cli("run", *fast_sets, "--only", "split")
    assert result.code == 0, result.err
    assert "--only split: computing missing inputs first: fetch, encode" in result.out
    again = cli("run", *fast_sets, "--only", "split")
    assert again.code == 0 and "computing missing inputs first" not in again.out

"""Presets: each one validates and trains; ``config --preset`` shows it; ``--preset`` alone lists them."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import pytest

from pipeline.config import Config, all_keys, build_config
from pipeline.presets import PRESETS
from pipeline.toml_io import read_toml
from tests.datasets import write_idx_dataset


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_is_complete_seeded_and_valid(name):
    preset = PRESETS[name]
    assert set(preset.settings) <= set(all_keys())
    # fixed seeds: a preset never depends on the defaults for its randomness
    assert {"split.seed", "train.seed"} <= set(preset.settings)
    cfg = build_config(preset=name)
    for key, value in preset.settings.items():
        got = cfg.get(key)
        assert (list(got) if isinstance(got, tuple) else got) == value, key
    assert preset.summary and "\n" not in preset.summary


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory):
    """Tiny, but with enough rows per class that every preset's hold-out (wide keeps 2 %) has each class."""
    return write_idx_dataset(tmp_path_factory.mktemp("idx"), n_train_per_class=80, n_test_per_class=10,
                             classes=3, shape=(6, 6))


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_trains_one_epoch_on_tiny_data(cli, idx_dir, name):
    result = cli("run", "-q", "--preset", name, "--set", f"data.source=idx:{idx_dir}",
                 "--set", "train.epochs=1", "--out", "out")
    assert result.code == 0, result.err
    record = json.loads(Path("out/run.json").read_text())
    assert [s["status"] for s in record["stages"]] == ["ran"] * len(record["stages"])
    expected = build_config(preset=name, overrides=[("train.epochs", 1), ("data.source", f"idx:{idx_dir}")])
    assert record["config"] == expected.to_dict()
    # the random scheme (the tutorial's) has no separate test split: its 20 % is the validation split
    splits = ("val", "test") if expected.split.scheme == "official" else ("val",)
    for metric in (f"{split}_{what}" for split in splits for what in ("accuracy", "loss")):
        assert math.isfinite(record["metrics"][metric]), metric


def test_wide_is_the_784_800_10_of_lecuns_table():
    cfg = build_config(preset="wide")
    assert cfg.model.hidden == (800,) and cfg.train.epochs <= 30
    assert cfg.split.scheme == "official"  # the official test set, untouched by the choices


def test_config_shows_what_the_preset_sets_then_a_valid_effective_config(cli, tmp_path):
    result = cli("config", "--preset", "wide", "--set", "train.epochs=5")
    assert result.code == 0, result.err
    header, _, body = result.out.partition("# the effective config:")
    assert PRESETS["wide"].summary in header
    shown = [line for line in header.splitlines() if line.startswith("#   ")]
    assert len(shown) == len(PRESETS["wide"].settings)
    assert "#   model.hidden = [800]" in header
    epochs = next(line for line in shown if "train.epochs" in line)
    assert "train.epochs = 30" in epochs and "(overridden: 5)" in epochs
    assert sum("overridden" in line for line in shown) == 1
    tomllib.loads(result.out)  # the header is comments: the whole output is still TOML
    (tmp_path / "saved.toml").write_text(result.out)
    assert build_config(file_values=read_toml(tmp_path / "saved.toml")) == \
        build_config(preset="wide", overrides=[("train.epochs", 5)])


def test_config_without_preset_has_no_preset_header(cli):
    result = cli("config")
    assert result.code == 0 and "preset" not in result.out
    assert build_config(file_values=_flatten(tomllib.loads(result.out))) == Config()


@pytest.mark.parametrize("command", ["config", "run", "status"])
def test_preset_alone_lists_the_presets_one_line_each(cli, command):
    result = cli(command, "--preset")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert [line.split()[0] for line in lines] == list(PRESETS)
    for line, preset in zip(lines, PRESETS.values()):
        assert line.endswith(preset.summary)
    assert not Path("runs").exists()  # listing does not run the command


@pytest.mark.parametrize("command", ["config", "run"])
def test_unknown_preset_exits_2_with_the_list(cli, command):
    result = cli(command, "--preset", "wdie")
    assert result.code == 2
    assert [line.split()[0] for line in result.out.splitlines()] == list(PRESETS)
    err = result.err.strip().splitlines()
    assert len(err) == 1 and "unknown preset 'wdie'" in err[0] and "did you mean 'wide'" in err[0]
    assert "Traceback" not in result.err
    assert not Path("runs").exists()


def _flatten(doc: dict) -> dict:
    return {f"{section}.{key}": value for section, keys in doc.items() for key, value in keys.items()}


def test_preset_before_the_command_takes_its_name(cli):
    before, after = cli("--preset", "wide", "config"), cli("config", "--preset", "wide")
    assert before.code == after.code == 0 and before.out == after.out

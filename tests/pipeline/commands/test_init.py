"""``init`` writes the effective config into ./pipeline.toml, which every later command reads."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pipeline.config import load_config


def _settings(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def test_init_writes_the_effective_config_data_source_first_every_key_commented(cli):
    result = cli("init", "--set", "data.source=digits", "--set", "train.epochs=2")
    assert result.code == 0 and "pipeline.toml" in result.out
    path = Path("pipeline.toml")
    lines = _settings(path)
    assert lines[:2] == ["[data]", 'source = "digits"  # auto | openml:NAME | idx:DIR | npz:FILE | digits']
    assert all("  # " in line for line in lines if not line.startswith("["))
    assert path.read_text().startswith("# ")  # says what the file is for
    assert load_config() == load_config(None, None, ["data.source=digits", "train.epochs=2"])
    assert tomllib.loads(path.read_text())["train"]["epochs"] == 2


def test_later_commands_use_it_and_init_again_keeps_earlier_settings(cli):
    assert cli("init", "--set", "data.source=digits").code == 0
    assert 'source = "digits"' in cli("config").out  # no --set needed any more
    assert cli("init", "--set", "train.lr=0.05").code == 0
    data = tomllib.loads(Path("pipeline.toml").read_text())
    assert data["data"]["source"] == "digits" and data["train"]["lr"] == 0.05


def test_init_with_a_bad_value_writes_nothing(cli):
    result = cli("init", "--set", "train.lrr=1")
    assert result.code == 2 and "train.lrr" in result.err and not Path("pipeline.toml").exists()

"""Config: precedence, parsing of --set values, validation messages, TOML round trip."""

from __future__ import annotations

import pytest

from pipeline.config import PRESETS, Config, all_keys, build_config, load_config, to_toml
from pipeline.toml_io import parse_value, read_toml
from pipeline.errors import ConfigError


def test_defaults_are_the_public_contract():
    keys = set(all_keys())
    contract = {"data.source", "split.scheme", "split.val_size", "split.seed", "model.hidden",
                "model.activation", "model.init", "train.optimizer", "train.lr", "train.epochs",
                "train.batch_size", "train.weight_decay", "train.schedule", "train.seed"}
    assert contract <= keys
    cfg = Config()
    assert cfg.model.hidden == (64,) and cfg.model.activation == "relu" and cfg.model.init == "he_normal"
    assert cfg.data.source == "auto" and cfg.split.scheme == "official"


def test_precedence_defaults_preset_file_set(tmp_path):
    (tmp_path / "pipeline.toml").write_text('[train]\nlr = 0.3\nepochs = 7\n')
    cfg = load_config(preset="seed", sets=["train.epochs=9", "train.epochs=11"], cwd=tmp_path)
    assert cfg.train.lr == 0.3            # file beats preset (0.1)
    assert cfg.train.epochs == 11         # --set beats file, last one wins
    assert cfg.train.optimizer == "sgd"   # preset beats default
    assert cfg.split.val_size == Config().split.val_size  # untouched default


@pytest.mark.parametrize("text, value", [
    ("0.05", 0.05), ("[128, 64]", [128, 64]), ("tanh", "tanh"), ("full", "full"), ("true", True),
    ('"quoted"', "quoted"), ("{nesterov = true}", {"nesterov": True}), ("idx:../data", "idx:../data"),
])
def test_set_values_are_toml_with_bare_words_as_strings(text, value):
    assert parse_value(text) == value


@pytest.mark.parametrize("assignment, fragment", [
    ("train.lrr=0.1", "did you mean 'train.lr'"),
    ("trian.lr=0.1", "did you mean 'train'"),
    ("lr=0.1", "section.key"),
    ("train.epochs=-1", "train.epochs must be greater than 0"),
    ("train.epochs=2.5", "train.epochs must be int"),
    ("train.batch_size=0", "train.batch_size must be"),
    ("train.batch_size=half", 'positive integer or "full"'),
    ("model.hidden=[]", "model.hidden must be a non-empty list"),
    ("model.hidden=[0, 3]", "model.hidden must be a list of positive integers"),
    ("model.hidden=64", "model.hidden must be a non-empty list"),
    ("split.val_size=1.5", "strictly between 0 and 1"),
    ("split.val_size=0", "strictly between 0 and 1"),
    ("train.lr=nan", "train.lr must be a finite number"),
    ("train.lr=fast", "train.lr must be float"),
    ("split.scheme=shuffled", "official, random"),
    ("normalize.standardize=yes", "normalize.standardize must be bool"),
    ("train.lr", "KEY=VALUE"),
])
def test_bad_values_name_the_key_and_the_valid_choices(assignment, fragment):
    with pytest.raises(ConfigError) as info:
        load_config(sets=[assignment])
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_preset_lists_presets():
    with pytest.raises(ConfigError, match="available presets: seed"):
        build_config(preset="sed")


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(config_file=tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nlr = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(config_file=bad)
    flat = tmp_path / "flat.toml"
    flat.write_text("lr = 1\n")
    with pytest.raises(ConfigError, match=r"\[section\] table"):
        load_config(config_file=flat)


def test_toml_round_trip(tmp_path):
    cfg = load_config(sets=["model.hidden=[32,16]", "train.optimizer_options={nesterov=true}",
                            "data.source=idx:/some \"odd\" dir", "train.batch_size=full"])
    path = tmp_path / "out.toml"
    path.write_text(to_toml(cfg))
    assert build_config(file_values=read_toml(path)) == cfg


def test_seed_preset_is_the_tutorial():
    cfg = build_config(preset="seed")
    assert (cfg.model.hidden, cfg.model.activation, cfg.model.init) == ((64,), "relu", "normal")
    assert (cfg.train.optimizer, cfg.train.lr, cfg.train.epochs, cfg.train.batch_size) == ("sgd", 0.1, 100, "full")
    assert (cfg.split.scheme, cfg.split.test_size, cfg.split.seed) == ("random", 0.2, 42)
    assert set(PRESETS["seed"].settings) <= set(all_keys())


def test_a_mistake_in_a_config_file_names_the_file(tmp_path, cli):
    path = tmp_path / "experiment.toml"
    path.write_text("[train]\nlrr = 0.1\n")
    with pytest.raises(ConfigError, match=r"^config file '.*experiment.toml': unknown config key 'train.lrr'"):
        load_config(path)
    result = cli("config", "--config", str(path))
    assert result.code == 2 and "experiment.toml': unknown config key 'train.lrr' (did you mean" in result.err
    path.write_text("[train]\nlr = -1\n")
    with pytest.raises(ConfigError, match=r"experiment.toml': train.lr must be greater than 0"):
        load_config(path)

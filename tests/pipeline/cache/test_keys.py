"""Key inputs: what a stage may read, how keys are made, how differences are explained."""

from __future__ import annotations

import pytest

from pipeline.config import build_config
from pipeline.cache.keys import ConfigView, config_values, explain, make_key
from pipeline.registry import get_stage


def test_config_view_exposes_only_declared_keys():
    cfg = build_config(overrides=[("train.lr", 0.3)])
    view = ConfigView(cfg, ("model.hidden", "model.init", "train.seed"), "init")
    assert view.model.hidden == (64,) and view.train.seed == 42
    with pytest.raises(AttributeError, match="did not declare config key 'train.lr'"):
        view.train.lr
    with pytest.raises(AttributeError, match="did not declare config section 'split'"):
        view.split


def test_config_values_follow_the_declaration():
    cfg = build_config()
    assert set(config_values(get_stage("init"), cfg)) == {"model.hidden", "model.init", "train.seed"}
    assert all(k.startswith("train.") for k in config_values(get_stage("train"), cfg))
    assert config_values(get_stage("export"), cfg) == cfg.flat()


def test_make_key_is_canonical():
    assert make_key({"a": 1, "b": [1, 2]}) == make_key({"b": [1, 2], "a": 1})
    assert make_key({"a": 1}) != make_key({"a": 2})
    assert len(make_key({})) == 20


def test_explain_names_each_kind_of_difference():
    old = {"code": "c1", "config": {"train.lr": 0.1, "train.epochs": 5},
           "plugins": {"activation": {"name": "relu", "version": "1", "code": "x"},
                       "optimizer": {"name": "sgd", "version": "1.0", "code": "y"}},
           "upstream": {"split": "k1"}, "data": {"size": 1}, "libs": {"numpy": "2.0"}}
    new = {"code": "c2", "config": {"train.lr": 0.05, "train.epochs": 5},
           "plugins": {"activation": {"name": "tanh", "version": "1", "code": "z"},
                       "optimizer": {"name": "sgd", "version": "1.1", "code": "w"}},
           "upstream": {"split": "k2"}, "data": {"size": 2}, "libs": {"numpy": "2.1"}}
    reasons = explain(old, new)
    assert reasons[0] == "train.lr 0.1 -> 0.05"                     # config first
    assert "plugin activation: name relu -> tanh" in reasons
    assert not any("activation: code" in r for r in reasons)        # a new name says it all
    assert "plugin optimizer: version 1.0 -> 1.1" in reasons and "plugin optimizer: code changed" in reasons
    assert "upstream split changed" in reasons and "stage code changed" in reasons
    assert "data source changed: size" in reasons and "libs.numpy 2.0 -> 2.1" in reasons
    assert explain(old, old) == []


def test_a_changed_data_source_is_one_reason_naming_every_changed_file_once():
    files = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
             "train-labels-idx1-ubyte.gz"]
    old = {"config": {"train.lr": 0.1}, "data": {"path": "/d", "files": {f: [10, 1] for f in files}}}
    new = {"config": {"train.lr": 0.2}, "data": {"path": "/d", "files": {f: [10, 2] for f in files}}}
    assert explain(old, new) == ["train.lr 0.1 -> 0.2", "data source changed: " + ", ".join(files)]

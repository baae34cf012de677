"""One config value at a time: converted to its field's Python type (the refusals: test_config.py)."""

from __future__ import annotations

import dataclasses

from pipeline.config import ModelConfig, SplitConfig, TrainConfig, load_config
from pipeline.config_checks import coerce


def _field(section: type, name: str) -> dataclasses.Field:
    return next(f for f in dataclasses.fields(section) if f.name == name)


def test_set_list_becomes_tuple_and_full_batch_allowed():
    cfg = load_config(sets=["model.hidden=[128,64]", "train.batch_size=full", "train.lr=1"])
    assert cfg.model.hidden == (128, 64)
    assert cfg.train.batch_size == "full"
    assert cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float)


def test_values_take_their_fields_python_types():
    assert coerce("model.hidden", _field(ModelConfig, "hidden"), [8]) == (8,)
    val_size = coerce("split.val_size", _field(SplitConfig, "val_size"), 0)  # TOML's 0 for a float key
    assert val_size == 0.0 and isinstance(val_size, float)
    assert coerce("train.lr", _field(TrainConfig, "lr"), "auto") == "auto"

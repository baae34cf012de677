"""One config value at a time: converted to the field's type, or refused naming the key and what is valid."""

from __future__ import annotations

import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError


def test_set_list_becomes_tuple_and_full_batch_allowed():
    cfg = load_config(sets=["model.hidden=[128,64]", "train.batch_size=full", "train.lr=1"])
    assert cfg.model.hidden == (128, 64)
    assert cfg.train.batch_size == "full"
    assert cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float)


@pytest.mark.parametrize("assignment, fragment", [
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
])
def test_bad_values_name_the_key_and_the_valid_choices(assignment, fragment):
    with pytest.raises(ConfigError) as info:
        load_config(sets=[assignment])
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)

"""Every command's --help: a one-paragraph description, examples, and only the options that apply."""

from __future__ import annotations

import re

import pytest

from pipeline.config import key_doc

from pipeline.cli import _command_modules
from pipeline.registry import stage_names

COMMANDS = sorted(_command_modules())


@pytest.mark.parametrize("name", COMMANDS)
def test_help_has_a_description_and_an_example(cli, name):
    result = cli(name, "--help")
    assert result.code == 0
    usage, description, *rest = result.out.split("\n\n")
    assert len(" ".join(description.split())) > 80  # a paragraph, not a word
    examples = result.out.split("examples:\n", 1)[1]
    assert re.search(rf"^  python -m pipeline {re.escape(name)}\b", examples, flags=re.MULTILINE), result.out


def test_predict_help_lists_only_options_that_apply(cli):
    text = cli("predict", "--help").out
    for option in ("--set", "--preset", "--config", "--cache-dir"):
        assert option not in text
    assert "-p no:NAME" in text and "--limit" in text
    refused = cli("predict", "m", "x", "--set", "train.lr=1")
    assert refused.code == 2 and "unrecognized arguments: --set" in refused.err


def test_cache_help_says_what_info_and_clear_do(cli):
    text = " ".join(cli("cache", "--help").out.split())
    assert "`cache info` prints" in text and "`cache clear` deletes every entry" in text
    assert "info: entries and sizes per stage" in text and "clear: delete entries" in text


def test_shared_options_before_the_command(cli, fast_sets):
    lr = [line for line in cli("--set", "train.lr=0.05", "config").out.splitlines() if line.startswith("lr =")]
    assert lr == [f"lr = 0.05  # {key_doc('train.lr')}"]
    both = cli("--set", "train.lr=0.05", "config", "--set", "train.lr=0.07").out  # command-line order
    assert "lr = 0.07" in both
    blocked = cli("-p", "no:plugins.optimizers", "plugins").out
    assert "plugins.optimizers" not in blocked and "plugins.activations" in blocked
    ran = cli("-q", *fast_sets, "--set", "train.lr=0.05", "run", "--out", "out")
    assert ran.code == 0 and ran.out == ""
    assert cli("status", *fast_sets, "--set", "train.lr=0.05").out.count("cached") == len(stage_names())
    wrong = cli("--set", "train.lr=0.05", "plugins")
    assert wrong.code == 2 and wrong.err.count("\n") == 1 and "--set does not apply to `plugins`" in wrong.err

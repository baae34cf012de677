"""Grid parsing: values parsed as --set parses them, the product, seeds, random search, and one-line errors."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.sweep import grid as g
from pipeline.toml_io import parse_value


def _members(*grids: str, seeds=None, samples=None, yes=False, file_values=None, sets=()):
    grid = g.Grid()
    rest = g.take_sweep_table(file_values or {}, grid, "pipeline.toml")
    g.parse_grids(list(grids), grid)
    g.add_seeds(grid, seeds, 42)
    return g.members(grid, None, rest, list(sets), samples, 0, yes)


@pytest.mark.parametrize("text, values", [
    ("0.05,0.1,0.2", ["0.05", "0.1", "0.2"]),
    ("[64],[128]", ["[64]", "[128]"]),
    ("[128,64],[64]", ["[128,64]", "[64]"]),
    ('{nesterov = true},{}', ["{nesterov = true}", "{}"]),
    ('"a,b",c', ['"a,b"', "c"]),
])
def test_values_split_at_top_level_commas_only(text, values):
    assert g.split_values(text) == values


def test_each_value_is_parsed_as_set_parses_it_and_the_sweep_is_the_product():
    members = _members("train.lr=0.05,0.1", "model.hidden=[64],[128, 32]", "train.optimizer=sgd,momentum")
    assert len(members) == 8
    first = members[0]
    assert first.overrides == {"train.lr": 0.05, "model.hidden": [64], "train.optimizer": "sgd"}
    assert first.config.model.hidden == (64,) and first.config.train.optimizer == "sgd"
    assert members[3].config.model.hidden == (128, 32)
    # a bare word is a string, exactly as --set
    assert parse_value("sgd") == "sgd" and members[1].config.train.optimizer == "momentum"
    assert [m.index for m in members] == list(range(8))


def test_seeds_repeat_every_point_from_the_base_seed():
    members = _members("train.lr=0.05,0.1", seeds=3)
    assert [(m.config.train.lr, m.config.train.seed) for m in members] == [
        (0.05, 42), (0.05, 43), (0.05, 44), (0.1, 42), (0.1, 43), (0.1, 44)]


def test_the_config_files_sweep_table_adds_swept_keys():
    members = _members(file_values={"sweep.train.lr": [0.05, 0.1], "train.epochs": 2})
    assert [m.config.train.lr for m in members] == [0.05, 0.1]
    assert {m.config.train.epochs for m in members} == {2}


def test_run_ignores_the_sweep_table(tmp_path):
    from pipeline.config import load_config

    (tmp_path / "c.toml").write_text('[train]\nepochs = 2\n[sweep]\n"train.lr" = [0.05, 0.1]\n')
    config = load_config(tmp_path / "c.toml")
    assert config.train.epochs == 2 and config.train.lr == "auto"


def test_random_search_draws_log_uniform_within_the_range_and_rounds_integer_keys():
    members = _members("train.lr=0.001..0.5:log", "train.epochs=2..9", "model.hidden=[8],[16]", samples=40, seeds=2, yes=True)
    assert len(members) == 80
    lrs = [m.config.train.lr for m in members]
    assert all(0.001 <= lr <= 0.5 for lr in lrs)
    # log-uniform: about half the draws below the geometric mean (0.0224), far more than uniform's 4 %
    below = sum(lr < (0.001 * 0.5) ** 0.5 for lr in lrs[::2])
    assert 10 <= below <= 30
    assert all(isinstance(m.config.train.epochs, int) and 2 <= m.config.train.epochs <= 9 for m in members)
    assert [m.config.train.seed for m in members[:4]] == [42, 43, 42, 43]
    again = _members("train.lr=0.001..0.5:log", "train.epochs=2..9", "model.hidden=[8],[16]", samples=40, seeds=2, yes=True)
    assert [m.overrides for m in again] == [m.overrides for m in members]  # seeded


@pytest.mark.parametrize("grids, kwargs, words", [
    (["train.lrr=0.1,0.2"], {}, ["train.lrr", "did you mean 'train.lr'"]),
    (["train.lr=0.1,fast"], {}, ["train.lr=\"fast\"", "must be float"]),
    (["train.lr=0.1,-1"], {}, ["train.lr=-1", "greater than 0"]),
    (["train.lr="], {}, ["train.lr has no values"]),
    (["train.lr=0.1,,0.2"], {}, ["empty value"]),
    (["train.lr"], {}, ["KEY=V1,V2"]),
    (["train.lr=0.1,0.2", "train.lr=0.3"], {}, ["train.lr is swept twice"]),
    (["train.lr=0.1,0.1"], {}, ["lists the value 0.1 twice"]),
    (["train.seed=1,2"], {"seeds": 2}, ["train.seed is swept twice (--grid and --seeds)"]),
    (["train.lr=0.1"], {"file_values": {"sweep.train.lr": [0.2, 0.3]}}, ["train.lr is swept twice"]),
    (["train.lr=0.01..1"], {}, ["range", "--samples"]),
    (["train.lr=1..0.1"], {"samples": 3}, ["LOW < HIGH"]),
    (["train.lr=0.01..1,0.5"], {"samples": 3}, ["mixes a range"]),
    (["train.lr=" + ",".join(str(i / 100) for i in range(1, 14)), "model.hidden=[8],[16],[32],[64],[128]"], {},
     ["65 members", "--yes"]),
])
def test_bad_sweeps_are_one_line_config_errors(grids, kwargs, words):
    with pytest.raises(ConfigError) as info:
        _members(*grids, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_yes_allows_a_large_sweep():
    many = ",".join(str(i / 100) for i in range(1, 14))
    assert len(_members(f"train.lr={many}", "model.hidden=[8],[16],[32],[64],[128]", yes=True)) == 65


def test_a_sweep_table_value_must_be_a_list():
    with pytest.raises(ConfigError, match=r'\[sweep\]: "train.lr" must be a list'):
        _members(file_values={"sweep.train.lr": 0.1})


def test_the_command_line_reports_a_bad_grid_in_one_line_with_exit_2_before_anything_runs(cli, fast_sets, tmp_path):
    result = cli("sweep", *fast_sets, "--grid", "train.lr=0.1,abc", "--out", str(tmp_path / "s"))
    assert result.code == 2
    assert result.err.count("\n") == 1 and result.err.startswith("error: --grid train.lr=\"abc\"")
    assert not (tmp_path / "s").exists() and not (tmp_path / "cache" / "fetch").exists()
    nothing = cli("sweep", *fast_sets)
    assert nothing.code == 2 and "nothing to sweep" in nothing.err

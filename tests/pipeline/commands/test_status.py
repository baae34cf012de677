"""``status``: what a stale stage is compared with, and a cached stage whose input is gone."""

from __future__ import annotations


def _rows(text: str) -> dict[str, str]:
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 4 and cells[0]:
            rows[cells[0]] = line
    return rows


def test_a_stale_stage_says_which_entry_it_is_compared_with(cli, fast_sets):
    assert cli("run", "-q", *fast_sets, "--out", "out").code == 0
    rows = _rows(cli("status", *fast_sets, "--set", "train.lr=0.05").out)
    assert "stale" in rows["train"] and "vs the entry used last (" in rows["train"]
    assert "train.lr auto -> 0.05" in rows["train"]


def test_a_cached_stage_whose_input_was_cleared_says_the_input_is_recomputed_first(cli, fast_sets):
    assert cli("run", "-q", *fast_sets, "--out", "out").code == 0
    assert cli("cache", "clear", "evaluate").code == 0
    rows = _rows(cli("status", *fast_sets).out)
    assert "missing" in rows["evaluate"] and "cleared" in rows["evaluate"]
    assert "cached" in rows["export"] and "input evaluate is not cached" in rows["export"]
    assert "input" not in rows["train"]  # its inputs are all there

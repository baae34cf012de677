"""Output into a pipe or a CI log (no terminal): plain lines, no bars, in a real process."""

from __future__ import annotations

import re

from tests.conftest import FAST
from tests.pipeline.processes import run


def _args(idx_dir, *extra: str) -> list[str]:
    args = ["run", "--set", f"data.source=idx:{idx_dir}"]
    for item in FAST:
        args += ["--set", item]
    return args + list(extra)


def test_a_pipe_gets_one_plain_line_per_epoch_and_no_bars(tmp_path, idx_dir):
    result = run(tmp_path / "cache", _args(idx_dir, "--set", "train.epochs=3", "--out", "out"))
    assert result.returncode == 0, result.stderr
    train = [line for line in result.stdout.splitlines() if line.startswith("  train ")]
    assert [line.split()[1] for line in train] == ["1/3", "2/3", "3/3"]
    assert all(re.search(r"loss \d\.\d{4}  acc", line) for line in train)
    assert "\x1b[" not in result.stdout and "\r" not in result.stdout  # no redraws, no colours
    assert "…" not in result.stdout and "0:0" not in result.stdout
    assert result.stderr == ""


def test_many_epochs_are_at_most_twenty_lines_ending_with_the_last(tmp_path, idx_dir):
    result = run(tmp_path / "cache", _args(idx_dir, "--set", "train.epochs=100", "--out", "out"))
    assert result.returncode == 0, result.stderr
    steps = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("  train ")]
    assert 5 <= len(steps) <= 21 and steps[0] == "1/100" and steps[-1] == "100/100"


def test_a_download_bar_given_up_for_the_fallback_is_removed_not_left_frozen():
    import io

    from rich.console import Console

    from pipeline.ui.progress import RichProgress

    warnings = []
    progress = RichProgress(Console(file=io.StringIO(), force_terminal=True), "fetch", warnings.append)
    progress.update("download openml:mnist_784", 0, None)
    progress.update("load", 1, 2)
    progress.update("done", 2, 2)
    progress.warn("offline: using the digits")
    assert warnings == ["offline: using the digits"]
    assert [task.description for task in progress._bar.tasks] == ["fetch: done"]  # unfinished ones are gone
    progress.close()

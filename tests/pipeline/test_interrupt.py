"""Ctrl-C and SIGTERM with real processes: exit 130 or 143, one line, no traceback, finished
stages cached, the live display closed, and a re-run that ends with the metrics of an
uninterrupted run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from pipeline.cache.store import Cache
from tests.conftest import FAST
from tests.pipeline.processes import INTERRUPTED, assert_only_complete_entries, cli_args, debris, env, metrics, run


def _interrupt_when(process: subprocess.Popen, marker: str, sig=signal.SIGINT, timeout: float = 30) -> str:
    seen, deadline = "", time.monotonic() + timeout
    while marker not in seen:
        line = process.stdout.readline()
        assert line or process.poll() is None, f"ended before {marker!r}: {seen}"
        seen += line
        assert time.monotonic() < deadline, f"no {marker!r} within {timeout} s"
    process.send_signal(sig)
    return seen


@pytest.mark.parametrize("sig, code, message", [
    (signal.SIGINT, 130, INTERRUPTED), (signal.SIGTERM, 143, INTERRUPTED.replace("interrupted", "terminated (SIGTERM)"))])
def test_ctrl_c_or_sigterm_during_training_stops_cleanly_and_finished_stages_stay_cached(
        tmp_path, idx_dir, reference, sig, code, message):
    cache_dir = tmp_path / "cache"
    long = cli_args(idx_dir, tmp_path / "out", "--set", "train.epochs=100000")
    long.remove("-q")  # show the stage lines and the live progress bar
    process = subprocess.Popen([sys.executable, "-m", "pipeline", *long], env=env(cache_dir), cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _interrupt_when(process, "train running", sig=sig)
    err = process.stderr.read()
    assert process.wait(timeout=30) == code
    assert err.strip().splitlines() == [message], err
    assert not debris(cache_dir) and not (tmp_path / "out" / "run.json").exists()
    assert not list((cache_dir / "train").glob("*/entry.json"))
    assert assert_only_complete_entries(cache_dir) == 5  # fetch .. init
    again = run(cache_dir, cli_args(idx_dir, tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    record = json.loads((tmp_path / "again" / "run.json").read_text())
    assert [s["status"] for s in record["stages"]] == ["cached"] * 5 + ["ran"] * 4
    assert metrics(tmp_path / "again") == reference


def test_ctrl_c_stops_the_live_display(idx_dir, cache_dir):
    """The runner closes the display (rich's live progress bar, which hides the cursor) on Ctrl-C."""
    from pipeline.api import Progress
    from pipeline.config import load_config
    from pipeline.hooks.manager import load_plugins
    from pipeline.ui.base import Display
    from pipeline.runner import Runner

    class Interrupting(Progress):
        def update(self, task, completed, total=None, **info):
            if task == "train" and completed == 2:
                raise KeyboardInterrupt

    class Recording(Display):
        closed = False

        def progress(self, stage):
            return Interrupting()

        def close(self):
            Recording.closed = True

    config = load_config(sets=[f"data.source=idx:{idx_dir}", *FAST])
    runner = Runner(config, Cache(cache_dir), load_plugins(autoload=False), Recording())
    with pytest.raises(KeyboardInterrupt):
        runner.run()
    assert Recording.closed and not debris(cache_dir)
    assert assert_only_complete_entries(cache_dir) == 5

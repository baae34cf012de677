"""A full disk and a read-only cache, on a real tmpfs: one line, exit 1, nothing half-written.

A cache or run-directory write that meets a full disk ends with one line that says the disk is
full and where, exit 1; no temporary file is left, the entries written before are intact and a
later run reuses them, and once there is room the same run succeeds. A read-only mount (root
ignores permission bits, a read-only file system stops everybody) is one line with the
``--cache-dir`` hint.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.registry import stage_names
from tests.pipeline.mounts import fill, remount, tmpfs
from tests.pipeline.processes import assert_only_complete_entries, debris

BIG = ["--set", "model.hidden=[20000]"]  # init's weights alone are larger than the 1 MB disk


def _statuses(out: Path) -> set[str]:
    return {s["status"] for s in json.loads((out / "run.json").read_text())["stages"]}


def test_a_full_disk_under_the_cache_is_one_line_and_keeps_earlier_entries(cli, fast_sets, tmp_path):
    with tmpfs(tmp_path / "disk", "1m") as disk:
        cache = ["--cache-dir", str(disk / "cache")]
        assert cli("run", "-q", *fast_sets, *cache, "--out", "first").code == 0
        full = cli("run", "-q", *fast_sets, *BIG, *cache, "--out", "big")
        assert full.code == 1, full.err
        assert full.err.count("\n") == 1 and full.err.startswith("error: disk full: ")
        assert f"{disk / 'cache' / 'init'}" in full.err and "--cache-dir" in full.err
        assert not debris(disk / "cache")
        assert assert_only_complete_entries(disk / "cache") == len(stage_names())  # the first run's
        fill(disk)  # not one byte left: the entries are still usable
        again = cli("run", "-q", *fast_sets, *cache, "--out", "again")
        assert again.code == 0 and _statuses(Path("again")) == {"cached"}
        assert json.loads(Path("again/run.json").read_text())["metrics"] == \
            json.loads(Path("first/run.json").read_text())["metrics"]
        lr = cli("run", "-q", *fast_sets, "--set", "train.lr=0.3", *cache, "--out", "lr")
        assert lr.code == 1 and lr.err.startswith("error: disk full: cannot write the cache entry of stage 'train'")
        (disk / "filler").unlink()
        remount(disk, "size=64m")  # room again: the same run now succeeds
        assert cli("run", "-q", *fast_sets, *BIG, *cache, "--out", "big").code == 0


def test_a_full_disk_under_the_run_directory_is_one_line_with_the_out_hint(cli, fast_sets, tmp_path):
    with tmpfs(tmp_path / "disk", "256k") as disk:
        fill(disk)
        result = cli("run", "-q", *fast_sets, "--out", str(disk / "out"))
        assert result.code == 1 and result.err.count("\n") == 1, result.err
        assert result.err.startswith("error: disk full: ") and str(disk / "out") in result.err
        assert "--out DIR" in result.err
        assert not debris(disk) and not (disk / "out" / "run.json").exists()
    assert cli("run", "-q", *fast_sets, "--out", "elsewhere").code == 0  # the cache was not harmed
    assert _statuses(Path("elsewhere")) == {"cached"}


def test_a_read_only_cache_is_one_line_with_the_cache_dir_hint(cli, fast_sets, tmp_path):
    with tmpfs(tmp_path / "disk", "8m") as disk:
        cache = ["--cache-dir", str(disk / "cache")]
        assert cli("run", "-q", *fast_sets, *cache, "--out", "first").code == 0
        remount(disk, "ro")
        result = cli("run", "-q", *fast_sets, "--set", "train.lr=0.3", *cache, "--out", "second")
        assert result.code == 1 and result.err.count("\n") == 1, result.err
        assert result.err.startswith(f"error: read-only file system: cannot write cache directory {disk / 'cache'}")
        assert "--cache-dir" in result.err
        assert cli("status", *fast_sets, *cache).code == 0  # reading it still works

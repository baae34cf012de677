"""Damaged cache entries, debris of killed writers, and the cache directory's permissions.

A damaged entry (truncated, overwritten, one flipped byte, a missing file, a
broken ``entry.json``) is reported in one warning line and recomputed, on a
fully cached run too, where only the small outputs of fetch, evaluate and
export are read; the run still ends with the metrics of an undamaged cache.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pipeline.cache.entry
from pipeline.cache.atomic import is_abandoned, sweep, tmp_prefix
from pipeline.cache.store import Cache
from pipeline.registry import stage_names

WARNING = "warning: cache entry of stage '{}' is damaged ("


def _outputs_file(cache_dir: Path, stage: str, output: str) -> Path:
    entry = Cache(cache_dir).latest(stage)
    return entry.path / entry.meta["outputs"][output]["file"]


def _damage(cache_dir: Path, stage: str, output: str, how: str) -> None:
    path = _outputs_file(cache_dir, stage, output)
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif how == "flip-one-byte":  # same size, still unpickles: only the checksum can tell
        data[-len(data) // 3] ^= 0x01
        path.write_bytes(bytes(data))
    elif how == "delete":
        path.unlink()
    elif how == "entry-json-garbage":
        (path.parent / "entry.json").write_text("{not json")
    elif how == "entry-json-missing":
        (path.parent / "entry.json").unlink()
    elif how == "entry-json-other-size":
        meta = json.loads((path.parent / "entry.json").read_text())
        meta["outputs"][output]["size"] += 1
        (path.parent / "entry.json").write_text(json.dumps(meta))


def _statuses(out: Path) -> dict[str, str]:
    return {s["name"]: s["status"] for s in json.loads((out / "run.json").read_text())["stages"]}


def _metrics(out: Path) -> bytes:
    return (out / "metrics.json").read_bytes()


HOWS = ["truncate", "garbage", "flip-one-byte", "delete", "entry-json-garbage", "entry-json-missing",
        "entry-json-other-size"]


@pytest.mark.parametrize("when", ["on-hit", "on-load"])
@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("stage, output", [("evaluate", "metrics"), ("export", "model.npz"),
                                           ("fetch", "dataset")])
def test_damaged_entry_on_a_cached_run_is_one_warning_and_recomputed(cli, fast_sets, cache_dir, monkeypatch,
                                                                     stage, output, how, when):
    assert cli("run", "-q", *fast_sets, "--out", "good").code == 0
    _damage(cache_dir, stage, output, how)
    if when == "on-load":  # no file counts as small: the checksum is checked when the output is loaded
        monkeypatch.setattr(pipeline.cache.entry, "SMALL_FILE", 0)
    result = cli("run", "-q", *fast_sets, "--out", "again")
    assert result.code == 0, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(WARNING.format(stage)) and "recomputing it" in lines[0], lines
    assert _metrics(Path("again")) == _metrics(Path("good"))
    assert (Path("again") / "model.npz").read_bytes() == (Path("good") / "model.npz").read_bytes()
    assert _statuses(Path("again"))[stage] == "ran"
    assert [s for s, v in _statuses(Path("again")).items() if v == "ran"] == [stage]
    final = cli("run", "-q", *fast_sets, "--out", "third")
    assert final.code == 0 and final.err == "" and set(_statuses(Path("third")).values()) == {"cached"}


def test_a_damaged_large_input_is_caught_when_a_later_stage_loads_it(cli, fast_sets, cache_dir, tmp_path):
    """Large files are only size-checked on a hit; their checksum is checked when they are loaded."""
    assert cli("run", "-q", *fast_sets).code == 0
    path = _outputs_file(cache_dir, "fetch", "x_raw")       # the pixels: train and evaluate read them
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF  # a pixel of one of the last training rows
    path.write_bytes(bytes(data))
    result = cli("run", "-q", *fast_sets, "--set", "train.lr=0.02", "--out", "damaged")
    assert result.code == 0, result.err
    assert result.err.startswith(WARNING.format("fetch")) and "checksum mismatch" in result.err
    clean = cli("run", "-q", *fast_sets, "--set", "train.lr=0.02", "--out", "clean",
                "--cache-dir", str(tmp_path / "clean-cache"))
    assert clean.code == 0 and _metrics(Path("damaged")) == _metrics(Path("clean"))


def test_a_fully_cached_run_reads_only_the_outputs_it_reports(cli, fast_sets, cache_dir, monkeypatch):
    """No array is read back on a fully cached run: only the record's small outputs are checksummed."""
    assert cli("run", "-q", *fast_sets).code == 0
    read = []
    original = pipeline.cache.entry.file_crc
    monkeypatch.setattr(pipeline.cache.entry, "file_crc", lambda path: read.append(path) or original(path))
    monkeypatch.setattr(pipeline.cache.entry, "SMALL_FILE", 0)  # nothing is checked on a hit but sizes
    assert cli("run", "-q", *fast_sets).code == 0
    outputs = {}
    for path in read:
        meta = json.loads((path.parent / "entry.json").read_text())
        outputs.update({f"{meta['stage']}.{n}": path for n, info in meta["outputs"].items()
                        if info["file"] == path.name})
    assert sorted(outputs) == ["evaluate.metrics", "evaluate.metrics.json", "export.model.json",
                               "export.model.npz", "export.model.onnx", "fetch.dataset", "report.confusion.png",
                               "report.curves.png", "report.mistakes.png", "report.per_class.png",
                               "report.report_body", "report.weights.png"]


# --- debris of killed writers -------------------------------------------------------------------

def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_abandoned_temporaries_are_recognised_without_touching_live_ones(tmp_path):
    host = tmp_prefix("x").split("~")[2]
    cases = {
        f".k~{_dead_pid()}~{host}~abc.tmp": True,        # its writer is gone
        f"{tmp_prefix('k')}abc.tmp": False,              # this process: alive
        f".k~{os.getppid()}~{host}~abc.tmp": False,      # another live process
        f".k~{_dead_pid()}~elsewhere~abc.tmp": False,    # another host: its pids mean nothing here
        ".k.abc.tmp": False, "k": False, ".k~1~h~x": False,  # not our temporary names
    }
    for name in cases:
        (tmp_path / name).mkdir()
    assert {name: is_abandoned(tmp_path / name) for name in cases} == cases
    old = tmp_path / f".k~{os.getppid()}~elsewhere~old.tmp"
    old.write_bytes(b"")
    os.utime(old, (time.time() - 2 * 86400,) * 2)  # older than a day: abandoned, whoever wrote it
    assert is_abandoned(old)
    assert sweep(tmp_path) == 2 and not old.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n for n, gone in cases.items() if not gone)


def test_a_run_sweeps_what_a_killed_writer_left(cli, fast_sets, cache_dir):
    assert cli("run", "-q", *fast_sets).code == 0
    host = tmp_prefix("x").split("~")[2]
    left = [cache_dir / "train" / f".abc~{_dead_pid()}~{host}~x.tmp",
            cache_dir / "fetch" / f".LATEST~{_dead_pid()}~{host}~y.tmp"]
    left[0].mkdir()
    (left[0] / "0.joblib").write_bytes(b"partial")
    left[1].write_bytes(b"abc")
    assert cli("run", "-q", *fast_sets).code == 0
    assert not any(p.exists() for p in left)


# --- permissions ----------------------------------------------------------------------------------

def test_the_cache_dir_is_created_owner_only(tmp_path):
    previous = os.umask(0)
    try:
        cache = Cache(tmp_path / "a" / "cache")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(cache.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(cache.data_home.stat().st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777])
def test_a_cache_dir_others_can_write_is_refused(cli, fast_sets, cache_dir, mode):
    cache_dir.mkdir()
    os.chmod(cache_dir, mode)
    result = cli("run", *fast_sets)
    assert result.code == 1
    assert result.err.count("\n") == 1 and "refusing to use cache directory" in result.err
    assert f"chmod 700 {cache_dir}" in result.err and "pickles" in result.err
    assert list(cache_dir.iterdir()) == []


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give the directory away")
def test_a_cache_dir_owned_by_someone_else_is_refused(cli, fast_sets, cache_dir):
    cache_dir.mkdir(mode=0o700)
    os.chown(cache_dir, 65534, 65534)
    result = cli("run", *fast_sets)
    assert result.code == 1 and "owned by someone else" in result.err


def test_run_directory_files_are_written_whole_with_ordinary_permissions(cli, fast_sets):
    previous = os.umask(0o022)
    try:
        assert cli("run", "-q", *fast_sets, "--out", "out").code == 0
    finally:
        os.umask(previous)
    names = sorted(p.name for p in Path("out").iterdir())
    assert names == ["confusion.png", "curves.png", "metrics.json", "mistakes.png", "model.json", "model.npz",
                     "model.onnx", "per_class.png", "report.html", "run.json", "weights.png"]  # no temporary left
    assert {stat.S_IMODE((Path("out") / n).stat().st_mode) for n in names} == {0o644}


def test_a_failed_run_leaves_no_empty_run_directory(cli, fast_sets):
    assert cli("run", "-q", *fast_sets, "--set", "train.lr=1e30").code == 1
    assert not Path("runs").exists() or list(Path("runs").iterdir()) == []


def test_every_stage_entry_records_checksums(cli, fast_sets, cache_dir):
    assert cli("run", "-q", *fast_sets).code == 0
    for name in stage_names():
        entry = Cache(cache_dir).latest(name)
        assert all({"file", "size", "crc32"} <= set(info) for info in entry.meta["outputs"].values())
        entry.verify(deep=True)

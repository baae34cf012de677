"""Any damage to any path of a populated cache: the next run still ends well, or says where.

For every file and directory under a real cache (``LATEST`` pointers, stage
directories, entry directories, ``entry.json``, output files, ``locks/`` and its
lock files, ``downloads/``, the cache root itself) and each kind of damage, the
next run (and ``status`` before it) either ends with the undamaged run's metrics (a damaged entry with a
warning naming its stage) or stops with one ``error:`` line naming the path and
exit 1. Never exit 3, never a traceback. Every file damaged at once (how the
garbage ``LATEST`` bug was found) ends with the clean metrics too. Runs are in-process on tiny data; each
case works on its own copy of the cache, and the source cache stays as it was.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.conftest import FAST


def _sets(idx_dir: Path) -> list[str]:
    args = ["--set", f"data.source=idx:{idx_dir}"]
    for item in FAST:
        args += ["--set", item]
    return args


def _args(idx_dir: Path, cache: Path, out: Path) -> list[str]:
    return ["run", "-q", "--cache-dir", str(cache), "--out", str(out), *_sets(idx_dir)]


@pytest.fixture(scope="module")
def populated(tmp_path_factory, idx_dir):
    """A cache after one run, and its metrics."""
    base = tmp_path_factory.mktemp("populated")
    with pytest.MonkeyPatch.context() as mp:  # as the per-test isolation does, which comes later
        mp.setenv("PIPELINE_DISABLE_PLUGIN_AUTOLOAD", "1")
        mp.chdir(base)
        assert main(_args(idx_dir, base / "cache", base / "clean")) == 0
    return base / "cache", json.loads((base / "clean" / "run.json").read_text())["metrics"]


def _paths(root: Path) -> list[Path]:
    return [root, *sorted(root.rglob("*"))]


def _contents(cache: Path) -> dict[Path, bytes]:
    """Every file's bytes but the lock files' (a run writes its pid into those)."""
    return {p.relative_to(cache): p.read_bytes() for p in _paths(cache) if p.is_file() and "locks" not in p.parts}


def _replace_with_file(path: Path, data: bytes) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    path.write_bytes(data)


def _random(path: Path, others: list[Path]) -> None:
    size = path.stat().st_size if path.is_file() else 64
    _replace_with_file(path, os.urandom(max(size, 16)))


def _empty(path: Path, others: list[Path]) -> None:
    if path.is_dir():
        for child in path.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    else:
        _replace_with_file(path, b"")


def _directory(path: Path, others: list[Path]) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    path.mkdir()


def _other_file(path: Path, others: list[Path]) -> None:
    """Replaced by a copy of another file of the same cache (a mix-up: valid bytes, wrong place)."""
    files = [p for p in others if p.is_file() and p != path and path not in p.parents]
    if not files:  # the cache root: every file is inside it
        return _replace_with_file(path, b"[data]\n")
    _replace_with_file(path, files[(others.index(path) * 7) % len(files)].read_bytes())


def _removed(path: Path, others: list[Path]) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()


DAMAGE = {"random bytes": _random, "empty": _empty, "a directory": _directory, "another file": _other_file,
          "removed": _removed}


def _in_a_used_entry(cache: Path, path: Path) -> str | None:
    """The stage whose entry ``path`` is a file of, if the run reads that entry (``LATEST`` names it)."""
    parts = path.relative_to(cache).parts
    if len(parts) != 3 or parts[0] in ("locks", "downloads"):
        return None
    return parts[0] if (cache / parts[0] / "LATEST").read_text() == parts[1] else None


@pytest.mark.parametrize("how", list(DAMAGE))
def test_any_damage_to_any_path_ends_with_the_clean_metrics_or_one_line(how, populated, idx_dir, tmp_path,
                                                                        capsys):
    source, clean = populated
    before = _contents(source)
    failures = []
    for i, original in enumerate(_paths(source)):
        case = tmp_path / str(i)
        # hard links: cheap, and safe because every damage and every cache write replaces a file
        # (a new inode) rather than writing into it; lock files only ever get a pid written
        shutil.copytree(source, case / "cache", symlinks=True, copy_function=os.link)
        copies = _paths(case / "cache")
        path = copies[i]
        assert path.relative_to(case / "cache") == original.relative_to(source)
        stage = _in_a_used_entry(source, original)
        DAMAGE[how](path, copies)
        name = str(original.relative_to(source)) or "<cache root>"
        status = main(["status", "--cache-dir", str(case / "cache"), *_sets(idx_dir)])
        err = capsys.readouterr().err
        if status != 0 and (status != 1 or err.count("\n") != 1 or str(path) not in err):
            failures.append(f"{name}: status exit {status}, stderr {err!r}")
        code = main(_args(idx_dir, case / "cache", case / "out"))
        out, err = capsys.readouterr()
        lines = err.strip().splitlines()
        if code == 0:
            metrics = json.loads((case / "out" / "run.json").read_text())["metrics"]
            if metrics != clean:
                failures.append(f"{name}: metrics {metrics} != {clean}")
            elif stage and how != "removed" and not any(f"stage '{stage}'" in line for line in lines):
                failures.append(f"{name}: damaged entry of {stage} recomputed without a warning: {err!r}")
            elif any(not line.startswith("warning: ") for line in lines):
                failures.append(f"{name}: stray output {err!r}")
        elif code != 1 or len(lines) != 1 or not lines[0].startswith("error: ") or str(path) not in lines[0]:
            failures.append(f"{name}: exit {code}, stderr {err!r}")
        shutil.rmtree(case)
    assert _contents(source) == before, "a case changed the shared source cache"
    assert not failures, f"{len(failures)} of {len(_paths(source))} paths damaged as '{how}':\n" + "\n".join(failures)


@pytest.mark.parametrize("how", list(DAMAGE))
def test_every_file_damaged_at_once_ends_with_the_clean_metrics(how, populated, idx_dir, tmp_path, capsys):
    """As the report that found it: every file overwritten at once, so each stage is recomputed while
    its ``LATEST`` pointer (read to say why) is damaged too."""
    source, clean = populated
    shutil.copytree(source, tmp_path / "cache", symlinks=True, copy_function=os.link)
    copies = _paths(tmp_path / "cache")
    for path in [p for p in copies if p.is_file()]:
        DAMAGE[how](path, copies)
    code = main(_args(idx_dir, tmp_path / "cache", tmp_path / "out"))
    err = capsys.readouterr().err
    assert code == 0, err
    assert all(line.startswith("warning: ") for line in err.splitlines()), err
    assert json.loads((tmp_path / "out" / "run.json").read_text())["metrics"] == clean

"""A corpus of bad inputs through the CLI: one clear line, the right exit code, no traceback, cache intact.

Families: config and command line (exit 2), data files (exit 1), training and
plugins (exit 1, or 2 for a misbehaving plugin), predict's model and input
files (exit 1). Every case starts from a cache filled by a good run and checks
that the failure left every existing file as it was, added no partial entry
and no temporary debris; failures found before any stage runs leave the cache
byte-for-byte unchanged.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cache.store import Cache
from pipeline.cli import main
from tests.conftest import FAST
from tests.pipeline.bad_builders import BadPlugins
from tests.pipeline.bad_inputs import CONFIG, DATA, PREDICT, TRAINING


# --- a filled cache and an exported model, made once ---------------------------------------------

@pytest.fixture(scope="session")
def template(tmp_path_factory, idx_dir):
    """A cache after one good run on the tiny data, and that run's directory (model files)."""
    root = tmp_path_factory.mktemp("template")
    sets = [a for item in [f"data.source=idx:{idx_dir}", *FAST] for a in ("--set", item)]
    code = main(["run", "-q", *sets, "--cache-dir", str(root / "cache"), "--out", str(root / "out")])
    assert code == 0
    return root


@pytest.fixture
def filled(template, cache_dir, tmp_path):
    shutil.copytree(template / "cache", cache_dir)
    shutil.copytree(template / "out", tmp_path / "out")
    return cache_dir


def snapshot(cache_dir: Path) -> dict[str, bytes]:
    """Every cache file but the lock files and the download dir, with its content."""
    return {str(p.relative_to(cache_dir)): p.read_bytes() for p in sorted(cache_dir.rglob("*"))
            if p.is_file() and p.relative_to(cache_dir).parts[0] not in ("locks", "downloads")}


def assert_cache_intact(cache_dir: Path, before: dict[str, bytes], unchanged: bool) -> None:
    after = snapshot(cache_dir)
    assert not [p for p in cache_dir.rglob("*.tmp")], "temporary debris left in the cache"
    assert {k: v for k, v in after.items() if k in before} == before, "an existing cache file changed"
    if unchanged:
        assert after == before, f"new cache files: {sorted(set(after) - set(before))}"
    cache = Cache(cache_dir)
    for entry_json in cache_dir.glob("*/*/entry.json"):
        entry = cache.find(entry_json.parent.parent.name, entry_json.parent.name)
        entry.verify()  # any new entry is complete


@pytest.fixture
def bad_plugins(monkeypatch):
    import pipeline.hooks.manager as pm

    original = pm.load_plugins
    monkeypatch.setattr(pm, "load_plugins", lambda **kw: original(**kw, extra=[(BadPlugins(), "badplugins")]))


def check_message(err: str, fragments: list[str]) -> None:
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert 1 <= len(lines) <= 2, err
    assert lines[0].startswith("error:"), err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"


def _params(cases):
    return [pytest.param(*case[1:], id=case[0]) for case in cases]


@pytest.mark.parametrize("build, fragments", _params(CONFIG))
def test_config_and_command_line_mistakes_exit_2(cli, filled, tmp_path, idx_dir, build, fragments):
    before = snapshot(filled)
    result = cli(*build(tmp_path, idx_dir))
    assert result.code == 2, result.err
    check_message(result.err, fragments)
    assert_cache_intact(filled, before, unchanged=True)


@pytest.mark.parametrize("build, fragments", _params(DATA))
def test_bad_data_exits_1(cli, filled, tmp_path, idx_dir, build, fragments):
    before = snapshot(filled)
    result = cli(*build(tmp_path, idx_dir))
    assert result.code == 1, result.err
    check_message(result.err, fragments)
    assert_cache_intact(filled, before, unchanged=False)
    assert not (filled / "fetch").exists() or len(list((filled / "fetch").glob("*/entry.json"))) <= 2


@pytest.mark.parametrize("code, build, fragments", _params(TRAINING))
def test_training_failures_and_bad_plugins(cli, filled, tmp_path, idx_dir, bad_plugins, code, build, fragments):
    before = snapshot(filled)
    result = cli(*build(tmp_path, idx_dir))
    assert result.code == code, result.err
    check_message(result.err, fragments)
    assert_cache_intact(filled, before, unchanged=code == 2)
    assert len(list((filled / "train").glob("*/entry.json"))) == 1  # only the good run's


@pytest.mark.parametrize("build, fragments", _params(PREDICT))
def test_bad_model_and_input_files_for_predict(cli, filled, tmp_path, build, fragments):
    before = snapshot(filled)
    result = cli(*build(tmp_path))
    assert result.code == 1, result.err
    check_message(result.err, fragments)
    assert_cache_intact(filled, before, unchanged=True)


def test_the_corpus_is_large():
    assert len(CONFIG) + len(DATA) + len(TRAINING) + len(PREDICT) >= 100


@pytest.mark.parametrize("args, code, fragment", [
    (["run", "--set", "train.epochs=-1"], 2, "train.epochs must be greater than 0"),
    (["run", "--set", "data.source=idx:/no/such/dir"], 1, "/no/such/dir: no such directory"),
    (["predict", "nowhere", "x.npy"], 1, "does not exist"),
    (["run", "--bogus"], 2, "unrecognized arguments: --bogus"),
])
def test_a_real_process_prints_one_line_and_no_traceback(tmp_path, args, code, fragment):
    result = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == code
    check_message(result.stderr, [fragment])


def test_debug_shows_the_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pipeline", "run", "--debug", "--set", "train.epochs=-1"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "Traceback" in result.stderr and "ConfigError" in result.stderr


def test_plugins_are_probed_only_before_stages_that_compute(cli, filled, idx_dir, monkeypatch):
    import pipeline.runner

    probed = []
    original = pipeline.runner.probe_plugins
    monkeypatch.setattr(pipeline.runner, "probe_plugins",
                        lambda stage, *a: probed.append(stage.name) or original(stage, *a))
    sets = [a for item in [f"data.source=idx:{idx_dir}", *FAST] for a in ("--set", item)]
    assert cli("run", "-q", *sets).code == 0 and probed == []  # fully cached: no plugin is called
    assert cli("run", "-q", *sets, "--set", "train.lr=0.02").code == 0
    assert sorted(probed) == ["evaluate", "export", "report", "train"]

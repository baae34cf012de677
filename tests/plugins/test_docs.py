"""``docs/plugins.md`` stays true: every hook with its exact signature, and a worked example that works."""

from __future__ import annotations

import inspect
import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from pipeline.hooks import specs as hookspecs
import pipeline.hooks.conformance as conformance
from pipeline.hooks.check import CHECKS
from pipeline.hooks.conformance import LARGE, LEARNING_RATES, STEPS, TOLERANCE
from pipeline.hooks.manager import AUTOLOAD_ENV, ENTRY_POINT_GROUP
from pipeline.hooks.registries import KINDS
from tests.distributions import forget_modules, write_distribution

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
TEXT = DOCS.read_text(encoding="utf-8")


def _specs() -> dict[str, object]:
    marker = f"{ENTRY_POINT_GROUP}_spec"   # set by pluggy's HookspecMarker("pipeline")
    return {name: fn for name, fn in vars(hookspecs).items() if inspect.isfunction(fn) and hasattr(fn, marker)}


def _annotation(annotation: object) -> str:
    # specs.py uses `from __future__ import annotations`: annotations are their source text
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def signature(fn) -> str:
    """``name(param: type, ...) -> return``, as written in specs.py."""
    sig = inspect.signature(fn)
    params = ", ".join(p.name if p.annotation is p.empty else f"{p.name}: {_annotation(p.annotation)}"
                       for p in sig.parameters.values())
    returns = "" if sig.return_annotation is sig.empty else f" -> {_annotation(sig.return_annotation)}"
    return f"{fn.__name__}({params}){returns}"


def test_the_spec_module_has_every_hook():
    assert set(_specs()) >= {*KINDS.values(), "before_pipeline_run", "after_pipeline_run", "on_pipeline_error",
                             "before_stage_run", "after_stage_run", "on_stage_error"}
    assert signature(_specs()["before_stage_run"]) == "before_stage_run(stage: str, key: str, config: Config) -> None"


@pytest.mark.parametrize("name", sorted(_specs()))
def test_every_hook_is_documented_with_its_exact_signature(name):
    expected = f"#### `{signature(_specs()[name])}`"
    assert expected in TEXT, f"docs/plugins.md lacks the heading {expected!r}"


def test_every_documented_hook_exists():
    documented = re.findall(r"^#### `(\w+)\(", TEXT, flags=re.MULTILINE)
    assert sorted(documented) == sorted(_specs())


def test_docs_name_the_real_switches_and_check_parameters():
    for fragment in (f"[project.entry-points.{ENTRY_POINT_GROUP}]", f"{AUTOLOAD_ENV}=1", "-p no:NAME",
                     "--trace-hooks", "check-plugins", "python -m pipeline plugins",
                     f"{STEPS} steps", f"within {TOLERANCE:.0e} relative distance".replace("e-0", "e-"),
                     "lr = " + ", ".join(f"{lr:g}" for lr in LEARNING_RATES),
                     "z = " + ", ".join(f"±{v:g}" for v in LARGE)):
        assert fragment in TEXT, fragment


# -- the worked example, extracted from the page -------------------------------------

def _example_files() -> dict[str, str]:
    """``{path: content}`` of every fenced block preceded by ``<!-- file: PATH -->``."""
    blocks = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)\n```", TEXT, flags=re.DOTALL)
    return {path: body + "\n" for path, body in blocks}


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """The guide's pipeline-demo package, installed from the text of the guide."""
    files = _example_files()
    assert set(files) == {"pyproject.toml", "src/pipeline_demo/__init__.py"}
    project = tomllib.loads(files["pyproject.toml"])["project"]
    site = tmp_path / "site"
    modules = {path.removeprefix("src/"): text for path, text in files.items() if path.endswith(".py")}
    write_distribution(site, project["name"], project["version"], project["entry-points"][ENTRY_POINT_GROUP],
                       modules)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv(AUTOLOAD_ENV)
    forget_modules("pipeline_demo")
    yield project
    forget_modules("pipeline_demo")


def test_worked_example_passes_check_plugins(demo, cli):
    result = cli("check-plugins", "demo")
    assert result.code == 0, result.out
    assert all(name in result.out for name in ("softsign", "lecun_uniform", "adagrad", "warmup_cosine"))
    n = sum(len(CHECKS[kind]) for kind in ("activation", "initializer", "optimizer", "schedule"))
    assert f"{n} of {n} checks passed" in result.out and f"# {n} checks: all must pass" in TEXT


def test_worked_example_trains_end_to_end(demo, cli, fast_sets):
    result = cli("run", "-q", *fast_sets, "--set", "model.activation=softsign", "--set", "model.init=lecun_uniform",
                 "--set", "train.optimizer=adagrad", "--set", "train.schedule=warmup_cosine", "--out", "out")
    assert result.code == 0, result.err
    record = json.loads(Path("out/run.json").read_text())
    assert record["metrics"]["test_accuracy"] >= 0.9
    assert record["lr"] == {"value": 0.05, "why": "train.lr not set: the optimizer 'adagrad' recommends it"}
    assert f"pipeline-demo: test accuracy {record['metrics']['test_accuracy']:.2%}" in result.err


def test_worked_example_implements_every_hook(demo):
    import pipeline_demo

    implemented = {name for name in vars(pipeline_demo) if name in _specs()}
    missing = set(_specs()) - implemented - {"before_pipeline_run", "before_stage_run", "on_stage_error",
                                              "on_pipeline_error", "after_stage_run", "before_epoch"}
    assert missing == set()       # every registration hook, options, and both kinds of logging


def test_worked_example_source_and_epoch_log(demo, cli, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 30)
    pixels = rng.uniform(0, 40, (90, 16)) + 80 * (labels[:, None] == np.arange(16)[None, :] % 3)
    np.savetxt(tmp_path / "tiny.csv", np.column_stack([labels, pixels]), delimiter=",", fmt="%.2f")
    result = cli("run", "-q", "--set", f"demo.epoch_log={tmp_path / 'epochs.csv'}", "--set", f"data.source=csv:{tmp_path / 'tiny.csv'}", "--set", "split.scheme=random",
                 "--set", "train.epochs=4", "--set", "model.hidden=[8]", "--set", "train.batch_size=16",
                 "--set", "train.schedule=warmup_cosine", "--set", "train.schedule_options={warmup = 2}",
                 "--out", "out")
    assert result.code == 0, result.err
    record = json.loads(Path("out/run.json").read_text())
    assert record["data"]["image_shape"] == [4, 4] and record["data"]["n_train"] == 90
    rows = [line.split(",") for line in (tmp_path / "epochs.csv").read_text().splitlines()]
    assert [r[0] for r in rows] == ["1", "2", "3", "4"] and all(r[1] == "4" for r in rows)
    lrs = [float(r[2]) for r in rows]
    assert lrs == pytest.approx([0.2 / 3, 0.2 * 2 / 3, 0.2, 0.1], rel=1e-5)   # momentum's 0.2, warm-up of 2
    shown = cli("config", "--set", "demo.epoch_log=e.csv")
    assert '[demo]\nepoch_log = "e.csv"  # option of plugin \'demo\'' in shown.out
    bad = cli("run", "-q", "--set", "demo.epoch_log=3")
    assert bad.code == 2 and "demo.epoch_log must be str" in bad.err


def test_every_conformance_function_is_documented():
    public = [name for name in conformance.__all__ if callable(getattr(conformance, name))]
    assert len(public) == 13
    for name in public:
        assert f"| `{name}` |" in TEXT, name

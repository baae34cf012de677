"""The closing screen, warnings, and tables at 80 columns."""

from __future__ import annotations

import pytest

from pipeline.data import openml
from tests.pipeline.data.test_openml import offline


def _last_lines(text: str, n: int) -> list[str]:
    return [line for line in text.splitlines() if line.strip()][-n:]


def test_the_run_ends_with_the_headline_and_the_details_come_above_it_with_v(cli, fast_sets, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    plain = cli("run", *fast_sets, "--out", "out")
    assert plain.code == 0
    end = _last_lines(plain.out, 9)  # on a 40-line terminal this is what stays on screen
    assert end[0].startswith("metrics") and "test" in "".join(end) and "%" in end[-4]
    assert end[-2].startswith("outputs in out") and end[-1] == "report: out/report.html"
    assert "per class (" not in plain.out and "confusion matrix (" not in plain.out
    verbose = cli("run", "-v", *fast_sets, "--out", "out2")
    assert verbose.out.index("per class (test)") < verbose.out.index("confusion matrix") \
        < verbose.out.index("metrics") < verbose.out.index("outputs in out2")
    assert _last_lines(verbose.out, 2)[0].startswith("outputs in out2")
    assert _last_lines(verbose.out, 1) == ["report: out2/report.html"]


def test_the_offline_fallback_is_one_unwrapped_warning_on_stderr_per_run(cli, monkeypatch):
    monkeypatch.setattr(openml, "OPENML_DELAY", 0.001)
    monkeypatch.setattr("sklearn.datasets._openml.urlopen", offline)
    monkeypatch.setenv("COLUMNS", "80")
    fast = ["--set", "train.epochs=1", "--set", "model.hidden=[8]"]
    for args in (["run", *fast], ["run", *fast], ["run", "-q", *fast]):  # computed, cached, quiet
        result = cli(*args)
        assert result.code == 0
        warnings = [line for line in result.err.splitlines() if line]
        assert len(warnings) == 1 and warnings[0].startswith("warning: MNIST could not be downloaded")
        assert warnings[0].endswith("data.source=idx:DIR uses local MNIST files")  # one line, not wrapped
        assert "MNIST could not" not in result.out and "0/?" not in result.out


@pytest.mark.parametrize("command", [["plugins"], ["check-plugins"]])
def test_plugin_tables_are_readable_at_80_columns(cli, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "80")
    result = cli(*command)
    assert result.code == 0
    lines = result.out.splitlines()
    assert "…" not in result.out
    assert all(len(line) <= 80 for line in lines if " from " not in line), max(lines, key=len)
    for name in ("plugins.activations", "plugins.initializers", "plugins.optimizers"):
        assert name in result.out
    if command == ["plugins"]:
        import plugins.activations

        assert plugins.activations.__file__ in result.out  # the location, whole
    else:
        assert "max |error|" in result.out and "checks passed" in result.out

"""Plugin safety and control: bad plugins are named, never silently shadow others; -p, autoload, tracing."""

from __future__ import annotations

import re

import pytest

from pipeline import hookimpl
from pipeline.errors import PluginError
from pipeline.hooks.manager import AUTOLOAD_ENV, load_plugins
from pipeline.registry import STAGES
from plugins.activations import ACTIVATIONS
from tests.distributions import forget_modules_in, write_distribution

LIFECYCLE = """
from pipeline import hookimpl

CALLS = []

@hookimpl
def after_stage_run(stage, status):
    CALLS.append((stage, status))
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    """An empty directory on sys.path to install fake distributions into; autoload on."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv(AUTOLOAD_ENV)
    yield site
    forget_modules_in(site)


def _one_line(result) -> None:
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1, result.err


# -- a plugin that fails to import --------------------------------------------------

@pytest.fixture
def broken_import(site):
    write_distribution(site, "tpm-broken", "1.2", {"tpm-broken": "tpm_broken"},
                       {"tpm_broken.py": "raise ImportError('tpm_broken needs scipy>=99')\n"})


def test_import_failure_names_the_plugin_and_how_to_block_it(broken_import):
    with pytest.raises(PluginError, match=r"plugin 'tpm-broken' from tpm-broken 1\.2 failed to import "
                                          r"\(tpm_broken\): ImportError: tpm_broken needs scipy>=99; "
                                          r"block it with -p no:tpm-broken"):
        load_plugins()


def test_cli_import_failure_is_one_line_exit_2_and_a_traceback_with_debug(broken_import, cli):
    result = cli("plugins")
    assert result.code == 2 and "plugin 'tpm-broken'" in result.err
    _one_line(result)
    with pytest.raises(PluginError, match="tpm-broken"):
        cli("plugins", "--debug")


def test_p_no_name_blocks_one_plugin(broken_import, cli, site):
    write_distribution(site, "tpm-life", "0.3", {"tpm-life": "tpm_life"}, {"tpm_life.py": LIFECYCLE})
    result = cli("plugins", "-p", "no:tpm-broken")
    assert result.code == 0, result.err
    assert "tpm-life" in result.out and "tpm-broken" not in result.out
    assert re.search(r"^  hooks +after_stage_run$", result.out, flags=re.MULTILINE), result.out
    unknown = cli("plugins", "-p", "no:tpm-brokn")           # a typo would block nothing: refused
    assert unknown.code == 2 and "no plugin is named 'tpm-brokn' (did you mean 'tpm-broken'?)" in unknown.err


@pytest.mark.parametrize("value, loads", [("1", False), ("yes", False), ("0", True), ("", True)])
def test_autoload_env_switches_entry_points_off(site, monkeypatch, value, loads):
    write_distribution(site, "tpm-life", "0.3", {"tpm-life": "tpm_life"}, {"tpm_life.py": LIFECYCLE})
    monkeypatch.setenv(AUTOLOAD_ENV, value)
    plugins = load_plugins()
    assert ("tpm-life" in plugins.infos) is loads
    assert "relu" in plugins.registries["activation"]          # built-ins always load


def test_disabled_autoload_skips_a_broken_plugin_in_the_cli(broken_import, cli, monkeypatch):
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    assert cli("plugins").code == 0


def test_entry_point_plugin_reports_its_distribution(site):
    write_distribution(site, "tpm-life", "0.3", {"tpm-life": "tpm_life"}, {"tpm_life.py": LIFECYCLE})
    info = load_plugins().infos["tpm-life"]
    assert (info.dist, info.version, info.builtin) == ("tpm-life", "0.3", False)
    assert info.location.endswith("tpm_life.py")


# -- names already taken ------------------------------------------------------------

class TakesRelu:
    @hookimpl
    def pipeline_register_activations(self):
        return {"relu": ACTIVATIONS["tanh"]}


def test_registering_a_taken_name_names_both_plugins():
    with pytest.raises(PluginError, match="activation 'relu' is registered by both 'plugins.activations' "
                                          "and 'takes-relu'"):
        load_plugins(autoload=False, extra=[(TakesRelu(), "takes-relu")])


def test_a_taken_name_from_an_installed_package_fails_the_cli(site, cli):
    write_distribution(site, "tpm-dup", "1.0", {"tpm-dup": "tpm_dup"}, {"tpm_dup.py": """
        from pipeline import hookimpl
        from plugins.activations import ACTIVATIONS

        @hookimpl
        def pipeline_register_activations():
            return {"relu": ACTIVATIONS["tanh"]}
    """})
    result = cli("run", "--set", "train.epochs=1")
    assert result.code == 2 and "'plugins.activations' and 'tpm-dup'" in result.err
    _one_line(result)


def test_blocking_the_builtin_is_the_explicit_way_to_replace_it():
    plugins = load_plugins(autoload=False, blocked=["plugins.activations"], extra=[(TakesRelu(), "takes-relu")])
    assert plugins.get("activation", "relu").plugin.name == "takes-relu"
    assert "sigmoid" not in plugins.registries["activation"]


def test_two_distributions_with_one_plugin_name_are_an_error(site, tmp_path, monkeypatch):
    other = tmp_path / "site2"
    other.mkdir()
    monkeypatch.syspath_prepend(str(other))
    write_distribution(site, "tpm-one", "1.0", {"tpm-same": "tpm_one"}, {"tpm_one.py": LIFECYCLE})
    write_distribution(other, "tpm-two", "2.0", {"tpm-same": "tpm_two"}, {"tpm_two.py": LIFECYCLE})
    try:
        with pytest.raises(PluginError, match=r"plugin name 'tpm-same' of tpm-(one|two) .* already taken by "
                                              r"tpm-(one|two)"):
            load_plugins()
    finally:
        forget_modules_in(other)


# -- bad hooks (bad registration results: test_registries.py) ------------------------

class Typo:
    @hookimpl
    def before_stage_runs(self, stage):
        pass


class ExtraArgument:
    @hookimpl
    def after_stage_run(self, stage, bogus):
        pass


class Wrapper:
    @hookimpl(hookwrapper=True)
    def before_stage_run(self, stage):
        yield


@pytest.mark.parametrize("plugin, message", [
    (Typo(), "plugin 'bad' implements unknown hook 'before_stage_runs' (did you mean 'before_stage_run'?)"),
    (ExtraArgument(), "plugin 'bad' (pipeline) has an invalid hook: Plugin 'bad' for hook 'after_stage_run' "
                      "hookimpl definition: after_stage_run(stage, bogus) Argument(s) {'bogus'} are declared"),
    (Wrapper(), "plugin 'bad' (pipeline): before_stage_run is declared as a wrapper"),
])
def test_bad_registrations_name_the_plugin(plugin, message):
    with pytest.raises(PluginError) as info:
        load_plugins(autoload=False, extra=[(plugin, "bad")])
    assert message in str(info.value) and "\n" not in str(info.value)


# -- lifecycle hooks and tracing ---------------------------------------------------------

def test_a_raising_lifecycle_hook_is_named_in_one_line(site, cli, fast_sets):
    write_distribution(site, "tpm-raise", "1.0", {"tpm-raise": "tpm_raise"}, {"tpm_raise.py": """
        from pipeline import hookimpl

        @hookimpl
        def before_stage_run(stage):
            if stage == "train":
                raise RuntimeError("disk full")
    """})
    result = cli("run", *fast_sets)
    assert result.code == 2
    assert "plugin 'tpm-raise' raised in before_stage_run: RuntimeError: disk full" in result.err
    _one_line(result)
    assert cli("run", "-q", *fast_sets, "-p", "no:tpm-raise").code == 0


def test_trace_hooks_shows_every_hook_call(site, cli, fast_sets):
    write_distribution(site, "tpm-life", "0.3", {"tpm-life": "tpm_life"}, {"tpm_life.py": LIFECYCLE})
    result = cli("run", "-q", *fast_sets, "--trace-hooks")
    assert result.code == 0, result.err
    lines = [line for line in result.err.splitlines() if line.startswith("hook ")]
    assert "hook pipeline_register_activations() -> plugins.activations" in lines
    assert any(line.startswith("hook before_pipeline_run(config=") and line.endswith("-> no implementation")
               for line in lines)
    after = [line for line in lines if line.startswith("hook after_stage_run(stage='")]
    assert len(after) == len(STAGES) and all(line.endswith("-> tpm-life") for line in after)
    assert any("stage='train'" in line and "status='ran'" in line for line in after)
    assert "--trace-hooks" not in cli("run", "-q", *fast_sets).err and cli("run", "-q", *fast_sets).err == ""


def test_a_kind_whose_only_plugin_is_blocked_says_so_instead_of_an_empty_list(cli):
    plugins = load_plugins(blocked=["plugins.activations"], autoload=False)
    with pytest.raises(PluginError, match=r"model.activation = 'relu': no activation is available at all: "
                                          r"no loaded plugin provides one \(blocked with -p no:NAME\?\)"):
        plugins.get("activation", "relu", "model.activation")
    result = cli("-p", "no:plugins.activations", "status")
    assert result.code == 2 and "available: " not in result.err and "no activation is available" in result.err

"""The README's commands are the ones CI runs and the CLI accepts."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def _quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    install_run, install_test = _quick_start()
    assert install_run.startswith("pip install -e .") and "python -m pipeline run" in install_run
    assert "pytest" in install_test
    assert install_test in (ROOT / ".ci" / "run").read_text()


def test_every_command_in_the_readme_parses():
    text = (ROOT / "README.md").read_text()
    parser = build_parser()
    commands = re.findall(r"^python -m pipeline (.+?)(?:\s+#.*)?$", text, flags=re.MULTILINE)
    assert len(commands) >= 10
    for command in commands:
        args = command.replace("[STAGE]", "").replace("[NAME ...]", "").replace("info | cache clear", "info")
        parser.parse_args(args.split())


def test_config_table_lists_every_key_with_its_default():
    from pipeline.config import Config, all_keys
    from pipeline.toml_io import parse_value

    text = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| `([^`]*)` \|", text, flags=re.MULTILINE))
    defaults = Config().flat()
    documented = {key for key in all_keys() if key in rows or f"| `{key}` |" in text}
    assert documented == set(all_keys()) - {"train.step_size", "train.gamma"}  # described with train.schedule
    for key, value in rows.items():
        assert parse_value(value) == defaults[key], key


def test_ci_installs_the_browser_the_readme_says_the_tests_need():
    text = (ROOT / "README.md").read_text()
    tests = text.split("## Tests", 1)[1]
    install = tests.split("```bash", 2)[2].split("```", 1)[0].strip()
    assert "apt-get install -y chromium" in install and install.startswith("command -v chromium")
    ci = (ROOT / ".ci" / "run").read_text()
    assert install in ci and "PIPELINE_REQUIRE_BROWSER=1" in ci
    assert ci.index(install) < ci.index(_quick_start()[1])   # installed before the tests run

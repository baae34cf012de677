"""``pipeline config``: the effective config as TOML; with ``--preset NAME``, what the preset sets first.

The output stays a valid TOML file (the preset's part is comments), so
``pipeline config --preset wide > pipeline.toml`` gives a config file to edit.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

NAME = "config"
SHARED = ("config", "output")
DESCRIPTION = ("Print the effective config (defaults, --preset, pipeline.toml or --config, then each --set) "
               "as TOML, every key with a comment. `init` writes the same into pipeline.toml.")
EXAMPLES = ("python -m pipeline config --preset seed", "python -m pipeline config > experiment.toml")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    return sub.add_parser(NAME, parents=[common], help="print the effective config as TOML "
                          "(with --preset NAME: what the preset sets; --preset alone: list the presets)")


def run(s: Any) -> int:
    from pipeline.config import to_toml

    config = s.config()
    if s.args.preset:
        sys.stdout.write(preset_header(s.args.preset, config))
    sys.stdout.write(to_toml(config))
    return 0


def preset_header(name: str, config: Any) -> str:
    """TOML comments: the preset's summary and each key it sets, flagged where overridden.

    Parameters
    ----------
    name : str
        A name in :data:`pipeline.presets.PRESETS`.
    config : Config
        The effective config (defaults < preset < config file < ``--set``).
    """
    from pipeline.config import build_config
    from pipeline.presets import PRESETS
    from pipeline.toml_io import toml_value

    preset = PRESETS[name]
    own, effective = build_config(preset=name).flat(), config.flat()
    width = max(len(f"{key} = {toml_value(own[key])}") for key in preset.settings)
    lines = [f"# preset '{name}': {preset.summary}",
             f"# it sets these {len(preset.settings)} keys (the config file and --set override them):"]
    for key in preset.settings:
        line = f"{key} = {toml_value(own[key])}"
        note = "" if effective[key] == own[key] else f"  (overridden: {toml_value(effective[key])})"
        lines.append(f"#   {line:<{width}}{note}".rstrip())
    lines += ["#", "# the effective config:", ""]
    return "\n".join(lines) + "\n"

"""``pipeline config``: the effective config as TOML."""

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
    return sub.add_parser(NAME, parents=[common], help="print the effective config as TOML")


def run(s: Any) -> int:
    from pipeline.config import to_toml

    sys.stdout.write(to_toml(s.config()))
    return 0

"""``pipeline init [--set ...]``: write the effective config into ``./pipeline.toml``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

NAME = "init"
SHARED = ("config", "output")
DESCRIPTION = ("Write the effective config (defaults, --preset, an existing pipeline.toml or --config, then "
               "each --set) into ./pipeline.toml (or the --config FILE), every key with a comment and the data "
               "source first. Every later command in this directory reads it, so a project keeps its settings "
               "there instead of repeating --set. An existing pipeline.toml is rewritten with its values kept "
               "(its own comments are not).")
EXAMPLES = ("python -m pipeline init --set data.source=idx:path/to/mnist",
            "python -m pipeline init --set train.epochs=5 --set model.hidden=[128]")

FILE = "pipeline.toml"
HEADER = """\
# Settings of this project, read by every `python -m pipeline` command run in this directory.
# Precedence: built-in defaults < --preset < this file < each --set on the command line.
# Written by `python -m pipeline init`; edit it, or re-run init with --set to change a value.
# `python -m pipeline config` prints the effective config with every key explained.

"""


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    return sub.add_parser(NAME, parents=[common], help="write the effective config into ./pipeline.toml")


def render(config: Any) -> str:
    """``pipeline.toml`` for ``config``: a header, then the ``[data]`` section first, every key commented."""
    from pipeline.config import to_toml

    sections = to_toml(config).strip().split("\n\n")
    sections.sort(key=lambda text: not text.startswith("[data]"))  # the data source first (stable otherwise)
    return HEADER + "\n\n".join(sections) + "\n"


def run(s: Any) -> int:
    from pipeline.cache.atomic import atomic_write

    config = s.config()
    path = Path(s.args.config) if s.args.config else Path(FILE)
    existed = path.exists()
    atomic_write(path.absolute(), render(config).encode(), mode=0o644)
    s.console.print(f"{'rewrote' if existed else 'wrote'} {path} (data.source = {config.data.source!r}); "
                    f"every command in this directory now uses it", highlight=False, soft_wrap=True)
    return 0

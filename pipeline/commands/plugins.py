"""``pipeline plugins``: every plugin, its distribution, and what it provides."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "plugins"


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    return sub.add_parser(NAME, parents=[common], help="list plugins and what each provides")


def run(s: Any) -> int:
    from rich.table import Table

    from pipeline.hooks.manager import KINDS

    plugins = s.plugins()
    table = Table(title="plugins", title_justify="left")
    for column in ("plugin", "distribution", "provides", "location"):
        table.add_column(column)
    for name, info in plugins.infos.items():
        provides = [f"{kind} {impl.name}" for kind, reg in plugins.registries.items()
                    for impl in reg.values() if impl.plugin.name == name]
        # every hook it implements besides the registration hooks behind "provides"
        lifecycle = [caller.name for caller in plugins.pm.get_hookcallers(plugins.pm.get_plugin(name)) or []
                     if caller.name not in KINDS.values()]
        table.add_row(name, f"{info.dist} {info.version}" + (" (built-in)" if info.builtin else ""),
                      "\n".join(provides + [f"hook {h}" for h in lifecycle]) or "-", info.location)
    s.console.print(table)
    return 0

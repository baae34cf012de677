"""``pipeline plugins``: every plugin, its distribution, and what it provides."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "plugins"
SHARED = ("plugins", "output")
DESCRIPTION = ("List every loaded plugin: the distribution and version it comes from, the file it is "
               "loaded from, and what it provides (activations, initializers, optimizers, hooks). Plugins "
               "are code that runs inside pipeline: block one with -p no:NAME.")
EXAMPLES = ("python -m pipeline plugins", "python -m pipeline plugins -p no:pipeline_extras")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    return sub.add_parser(NAME, parents=[common], help="list plugins and what each provides")


def run(s: Any) -> int:
    from pipeline.hooks.registries import KINDS
    from pipeline.ui.blocks import field, heading

    plugins = s.plugins()
    for name, info in plugins.infos.items():
        heading(s.console, [name, f"{info.dist} {info.version}" + (" (built-in)" if info.builtin else "")])
        field(s.console, "from", str(info.location))
        for kind, reg in plugins.registries.items():
            provided = [impl.name for impl in reg.values() if impl.plugin.name == name]
            if provided:
                field(s.console, kind, ", ".join(provided))
        # every hook it implements besides the registration hooks behind what it provides
        lifecycle = [caller.name for caller in plugins.pm.get_hookcallers(plugins.pm.get_plugin(name)) or []
                     if caller.name not in KINDS.values()]
        if lifecycle:
            field(s.console, "hooks", ", ".join(lifecycle))
    return 0

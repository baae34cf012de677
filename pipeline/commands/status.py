"""``pipeline status``: per stage, cached, stale or missing, and why."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "status"
DESCRIPTION = ("For each stage, whether the effective config's key is in the cache: cached, stale (an entry "
               "exists for other inputs; the reasons compare with the entry that stage used last), missing, "
               "damaged, or being computed by a run that is going on now. Nothing is computed.")
EXAMPLES = ("python -m pipeline status", "python -m pipeline status --set train.lr=0.05")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    return sub.add_parser(NAME, parents=[common], help="per stage: cached, stale or missing, and why")


def run(s: Any) -> int:
    from rich.table import Table

    from pipeline.cache.status import stage_status
    from pipeline.runner import Runner
    from pipeline.ui.terminal import styled

    runner = Runner(s.config(), s.cache(), s.plugins())
    table = Table(title=f"status (cache {runner.cache.root})", title_justify="left")
    for column in ("stage", "state", "key", "why"):
        table.add_column(column)
    for st in stage_status(runner.make_plan(), runner.cache):
        table.add_row(st.name, styled(st.state), st.key[:12], "; ".join(st.reasons))
    s.console.print(table)
    return 0

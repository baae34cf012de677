"""``pipeline report RUN [RUN ...] [--out FILE]``: rebuild a run's report, or compare several runs."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "report"


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    report = sub.add_parser(NAME, parents=[common], help="rebuild a run's report.html, or compare runs in one page")
    report.add_argument("runs", nargs="+", metavar="RUN", help="run directories (e.g. runs/latest)")
    report.add_argument("--out", metavar="FILE", help="the page to write (default: RUN/report.html for one run, "
                        "compare.html for several)")
    return report


def run(s: Any) -> int:
    from pipeline.report.compare import comparison, rebuild

    if len(s.args.runs) == 1:
        page = rebuild(s.args.runs[0], s.args.out)
    else:
        page = comparison(s.args.runs, s.args.out or "compare.html")
    s.console.print(f"wrote {page}", highlight=False, soft_wrap=True)
    return 0

"""``pipeline report RUN [RUN ...] [--out FILE]``: rebuild a run's report, or compare several runs."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "report"
SHARED = ("output",)  # reads run directories only: no config, cache option or plugin applies
DESCRIPTION = ("Rebuild the report of a finished run: report.html and its pictures drawn again from the run's "
               "files (the gallery from the run's cache entries while the cache holds them). Given several "
               "runs, write one page comparing them: validation curves overlaid, and a table of the config "
               "keys and metrics that differ. Pages are self-contained: they open offline and print.")
EXAMPLES = ("python -m pipeline report runs/latest",
            "python -m pipeline report runs/A runs/B runs/C --out compare.html")


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

"""The benchmark's tables: every figure with its reference from the same run, the ratio, the target."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table


@dataclass
class Row:
    """One line of the results table.

    ``met`` is True/False for a target, None for a figure shown for information.
    """

    figure: str
    measured: str
    reference: str
    ratio: str
    target: str
    met: bool | None


def secs(value: float) -> str:
    """Seconds with a unit that keeps three significant digits."""
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def results_table(rows: list[Row], title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for column, justify in (("figure", "left"), ("measured", "right"), ("reference (same run)", "left"),
                            ("ratio", "right"), ("target", "left"), ("", "left")):
        table.add_column(column, justify=justify)
    for row in rows:
        verdict = "" if row.met is None else ("[green]met[/]" if row.met else "[red]NOT MET[/]")
        table.add_row(row.figure, row.measured, row.reference, row.ratio, row.target, verdict)
    return table


def scaling_table(rows: list[dict], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("hidden", "batch", "stage s/epoch", "faster hand loop s/epoch", "stage / hand", "stage GFLOP/s",
                   "stage BLAS threads"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(str(r["hidden"]), str(r["batch"]), secs(r["stage"]), secs(r["hand"]),
                      f"{r['stage'] / r['hand']:.2f}×", f"{r['gflops']:.0f}", str(r["threads"]))
    return table


def print_all(console: Console, rows: list[Row], scaling: list[dict], notes: list[str], title: str) -> None:
    console.print(results_table(rows, title))
    if scaling:
        console.print(scaling_table(scaling, "scaling: epoch time against the hand-written loop"))
    for note in notes:
        console.print(note, highlight=False)
    targets = [r for r in rows if r.met is not None]
    failed = [r.figure for r in targets if not r.met]
    console.print(f"{len(targets) - len(failed)} of {len(targets)} targets met"
                  + (f"; not met: {'; '.join(failed)}" if failed else ""), highlight=False)

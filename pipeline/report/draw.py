"""matplotlib, the Agg way: a figure without pyplot (no global figure registry, ~0.3 s less to
import), the report's look, and PNG bytes.

matplotlib is imported inside these functions: importing :mod:`pipeline.report` costs nothing,
so a cached run, which never draws, never loads it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Pixels per inch of every picture: about 1000 pixels across the page's widest figures.
DPI = 100

#: The series colours, picked for colour-blind readers (Okabe-Ito) and for print.
TRAIN, VAL, LR, BEST, STOP = "#0072B2", "#D55E00", "#7f7f7f", "#009E73", "#CC79A7"
#: Colours of several runs or sweep members, in order (then repeated).
SERIES = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

_LOOK = {
    "font.size": 9, "axes.titlesize": 10, "axes.titleweight": "bold", "axes.labelsize": 9,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.color": "#e5e5e5",
    "grid.linewidth": 0.6, "axes.edgecolor": "#8c8c8c", "legend.frameon": False, "legend.fontsize": 8,
    "xtick.color": "#444444", "ytick.color": "#444444", "svg.fonttype": "none",
}


@contextmanager
def figure(width: float, height: float, **kwargs: Any) -> Iterator[Any]:
    """A new ``matplotlib.figure.Figure`` of ``width`` x ``height`` inches in the report's look.

    Keyword arguments go to ``Figure`` (e.g. ``layout="constrained"``).
    """
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_LOOK):
        yield Figure(figsize=(width, height), dpi=DPI, **kwargs)


def png(fig: Any) -> bytes:
    """The figure as PNG bytes (Agg), with no timestamp in them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white", metadata={"Software": None},
                pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def margins(fig: Any, left: float, right: float, bottom: float, top: float, **space: float) -> None:
    """Room around the axes, in inches (fixed margins: a layout engine would double the drawing time).

    ``space`` (``wspace``, ``hspace``) goes to ``subplots_adjust`` as is.
    """
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, **space)

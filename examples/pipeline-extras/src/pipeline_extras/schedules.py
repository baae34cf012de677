"""Schedule ``one_cycle`` (Smith & Topin 2018), set before every step.

The rate climbs from ``lr / div_factor`` to ``lr`` along half a cosine over
the first ``pct_start`` of training, then falls along half a cosine to
``lr / final_div``.
"""

from __future__ import annotations

import math


def _cosine(start: float, end: float, fraction: float) -> float:
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * fraction))


def one_cycle(epoch: float, epochs: int, lr: float, pct_start: float = 0.3, div_factor: float = 25.0,
              final_div: float = 1e4) -> float:
    """The learning rate at (fractional, 0-based) ``epoch`` of ``epochs``; options from
    ``train.schedule_options``."""
    progress = min(max(epoch / epochs, 0.0), 1.0)
    if progress < pct_start:
        return _cosine(lr / div_factor, lr, progress / pct_start)
    return _cosine(lr, lr / final_div, (progress - pct_start) / (1.0 - pct_start))


one_cycle.per_step = True

"""Built-in learning-rate schedules: ``constant``, ``step`` and ``cosine``, per epoch.

A schedule is ``schedule(epoch, epochs, lr, **options) -> float``: the
learning rate of 0-based ``epoch`` of ``epochs`` given the base rate ``lr``
(``train.lr``, or the optimizer's recommended one); options come from
``train.schedule_options``. They register through the same hook as a
third-party schedule (see :mod:`pipeline.hooks.specs`).
"""

from __future__ import annotations

import math

from pipeline import hookimpl


def constant(epoch: float, epochs: int, lr: float) -> float:
    """``lr`` throughout."""
    return lr


def step(epoch: float, epochs: int, lr: float, step_size: int = 10, gamma: float = 0.1) -> float:
    """``lr * gamma ** (epoch // step_size)``: decay by ``gamma`` every ``step_size`` epochs."""
    return lr * gamma ** (int(epoch) // step_size)


def cosine(epoch: float, epochs: int, lr: float) -> float:
    """``lr * (1 + cos(pi * epoch / epochs)) / 2``: from ``lr`` towards 0 along half a cosine."""
    return lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


#: Name -> schedule, as registered.
SCHEDULES = {"constant": constant, "step": step, "cosine": cosine}


@hookimpl
def pipeline_register_schedules() -> dict:
    """Register the built-in schedules."""
    return dict(SCHEDULES)

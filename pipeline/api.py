"""Small public types shared by the core, the built-in plugins and plugin authors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Activation:
    """An elementwise activation function and its derivative.

    Attributes
    ----------
    forward : callable
        ``forward(z) -> a``: ``z`` is float32 of shape ``(n_rows, width)``;
        returns a new array of the same shape and dtype. Must not modify ``z``.
    derivative : callable
        ``derivative(z, a) -> d``: ``d[i, j] = f'(z[i, j])``, given the
        pre-activation ``z`` and ``a = forward(z)`` (use whichever is cheaper);
        same shape and dtype as ``z``.
    """

    forward: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]


class Progress:
    """What a stage may report while it runs; the default reports nothing.

    The runner passes a subclass that draws rich progress bars; stages called
    directly (tests, notebooks) get this silent one.
    """

    def update(self, task: str, completed: float, total: float | None = None, **info: object) -> None:
        """Report that ``completed`` of ``total`` units of ``task`` are done.

        ``info`` holds live figures to show, e.g. ``loss=0.31, val_acc=0.95``.
        """

    def warn(self, message: str) -> None:
        """Show one visible warning line."""


#: The silent default for stages called outside the runner.
SILENT = Progress()

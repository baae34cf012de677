"""Stage ``init``: the initial weights ``params0`` of the MLP."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pipeline.errors import PluginError


def run(cfg, *, x_raw: np.ndarray, y_all: np.ndarray,
        initializer: Callable[[int, int, np.random.RandomState], np.ndarray]) -> dict:
    """Draw the starting parameters.

    Reads ``model.hidden`` and ``train.seed``; ``model.init`` picks ``initializer``.

    Parameters
    ----------
    cfg : Config
        The configuration.
    x_raw : ndarray, shape (n, d)
        The source's pixels; only the width ``d`` is used (the input layer size).
    y_all : ndarray, shape (n, k)
        One-hot labels; only the width ``k`` is used (the output layer size).
    initializer : callable
        ``initializer(fan_in, fan_out, rng) -> (fan_in, fan_out)`` array.

    Returns
    -------
    dict
        ``{"params0": [W1, b1, ..., WL, bL]}``, float32; ``W`` (fan_in, fan_out)
        from the initializer, ``b`` (fan_out,) zeros.
    """
    sizes = [x_raw.shape[1], *cfg.model.hidden, y_all.shape[1]]
    # The legacy RandomState on purpose: drawing the layers in order from
    # RandomState(seed) gives the same numbers as the tutorial's
    # np.random.seed(seed); np.random.randn(...), which Generator cannot.
    rng = np.random.RandomState(cfg.train.seed)
    params0: list[np.ndarray] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = np.asarray(initializer(fan_in, fan_out, rng))
        if w.shape != (fan_in, fan_out) or not np.all(np.isfinite(w)):
            raise PluginError(f"the initializer '{cfg.model.init}' returned an array of shape "
                              f"{w.shape} (expected finite values of shape {(fan_in, fan_out)})")
        params0 += [w.astype(np.float32), np.zeros(fan_out, dtype=np.float32)]
    return {"params0": params0}

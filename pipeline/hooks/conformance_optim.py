"""The optimizer checks of ``check-plugins`` (re-exported by :mod:`pipeline.hooks.conformance`).

Each takes an optimizer factory ``make(params)`` and returns ``(passed, detail)``
with what was expected and what was measured.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np



def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"{x.shape} {x.dtype}"
    return f"a {type(x).__name__}, not an ndarray"


# -- optimizers ------------------------------------------------------------------

#: Learning rates tried, in order, on the convex problem (the first that converges wins).
LEARNING_RATES = (0.1, 0.03, 0.3, 0.01, 1.0, 0.003, 0.001)
#: Steps per try; the rate decays along a cosine, as ``train.schedule = "cosine"`` does.
STEPS = 1000
#: Relative distance to the minimizer that counts as converged.
TOLERANCE = 1e-4
#: Or: the loss left above the minimum, relative to the start's. A regularising default (AdamW's
#: decoupled weight decay 0.01 stops at 6e-7 on this problem) passes; an update that stalls does not.
LOSS_TOLERANCE = 1e-5


def optimizer_in_place(make: Any) -> tuple[bool, str]:
    """``step`` writes into the very arrays it was given, keeps shapes and dtypes, and descends."""
    rng = np.random.RandomState(0)
    params = [rng.standard_normal((4, 3)).astype(np.float32), np.zeros(3, np.float32)]
    arrays, before = list(params), [p.copy() for p in params]
    grads = [rng.standard_normal(p.shape).astype(np.float32) for p in params]
    opt = make(params)
    opt.step(grads, 0.01)
    for i, (p, old) in enumerate(zip(arrays, before)):
        if p.shape != old.shape or p.dtype != old.dtype:
            return False, f"params[{i}]: expected {_describe(old)}, measured {_describe(p)}"
        if np.array_equal(p, old):
            return False, (f"params[{i}] {_describe(old)}: expected updated in place, measured unchanged "
                           f"(write into the array, p -= ..., instead of rebinding p = p - ...)")
    slope = sum(float(np.sum(g.astype(np.float64) * (p - old))) for g, p, old in zip(grads, arrays, before))
    if not slope < 0:
        return False, f"expected a step against the gradient (sum g*(p_new - p_old) < 0), measured {slope:+.3g}"
    return True, f"[(4, 3), (3,)] float32 updated in place; sum g*dp = {slope:+.3g}"


def _least_squares(seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """``X`` (50, 6), targets ``Y = X W* + b*`` and the minimizer ``[W*, b*]``."""
    rng = np.random.RandomState(seed)
    x = rng.standard_normal((50, 6))
    star = [rng.standard_normal((6, 3)), rng.standard_normal(3)]
    return x, x @ star[0] + star[1], star


def _descend(make: Any, lr: float, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Minimise ``0.5 / n * ||x W + b - y||**2`` from zeros; returns ``[W, b]``."""
    w, b = np.zeros((x.shape[1], y.shape[1])), np.zeros(y.shape[1])
    opt = make([w, b])  # read back through w and b: the contract is "in place"
    for t in range(STEPS):
        residual = x @ w + b - y
        opt.step([x.T @ residual / len(x), residual.mean(axis=0)], lr * 0.5 * (1 + math.cos(math.pi * t / STEPS)))
        if not np.all(np.isfinite(w)):
            break  # diverged: no need to go on
    return [w, b]


def optimizer_converges(make: Any) -> tuple[bool, str]:
    """Drives a convex least-squares problem (params ``[W (6, 3), b (3,)]``) to its minimum.

    Tries the rates in :data:`LEARNING_RATES` until one reaches, in
    :data:`STEPS` steps, a relative distance to the minimizer of at most
    :data:`TOLERANCE`, or a loss within :data:`LOSS_TOLERANCE` of the minimum
    (relative to the loss at the start), which a regularising default such as
    a small decoupled weight decay reaches while a wrong update does not.
    """
    x, y, star = _least_squares()
    norm = math.sqrt(sum(float(np.sum(s * s)) for s in star))
    start_loss = _loss([np.zeros_like(s) for s in star], x, y)
    best: tuple[float, float, float] = (math.inf, math.inf, 0.0)
    diverged = 0
    with np.errstate(all="ignore"):  # a diverging optimizer is reported below, not warned about
        for lr in LEARNING_RATES:
            params = _descend(make, lr, x, y)
            distance = math.sqrt(sum(float(np.sum((p - s) ** 2)) for p, s in zip(params, star))) / norm
            excess = _loss(params, x, y) / start_loss      # the minimum loss is 0: y = X W* + b*
            if distance <= TOLERANCE:
                return True, f"relative distance to the minimum {distance:.1e} at lr={lr} after {STEPS} steps"
            if excess <= LOSS_TOLERANCE:
                return True, (f"loss {excess:.1e} of the start's above the minimum at lr={lr} after {STEPS} steps "
                              f"(relative distance {distance:.1e}: a regularised optimum)")
            if math.isfinite(distance) and distance < best[0]:
                best = (distance, excess, lr)
            diverged += not math.isfinite(distance)
    tried = ", ".join(map(str, LEARNING_RATES))
    measured = (f"at best {best[0]:.3g} (loss {best[1]:.3g} of the start's; lr={best[2]}; 1 at the start)"
                if math.isfinite(best[0]) else "")
    if diverged:
        measured += f"{'; ' if measured else ''}diverged to inf/NaN at {diverged} of {len(LEARNING_RATES)} rates"
    return False, (f"expected relative distance to the minimum <= {TOLERANCE:g} (or loss <= {LOSS_TOLERANCE:g} of "
                   f"the start's) after {STEPS} steps at one of lr = {tried}; measured {measured}")


def _loss(params: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    residual = x @ params[0] + params[1] - y
    return float(0.5 * np.mean(np.sum(residual * residual, axis=1)))


def _first_step(make: Any, lr: float) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Fresh ``[W (4, 3), b (3,)]`` float32, one step with ``lr``; returns (before, after, grads)."""
    rng = np.random.RandomState(3)
    params = [rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)]
    before = [p.copy() for p in params]
    grads = [rng.standard_normal(p.shape).astype(np.float32) for p in params]
    make(params).step(grads, lr)
    return before, params, grads


def optimizer_uses_lr(make: Any) -> tuple[bool, str]:
    """A first step with ``2 lr`` moves the parameters twice as far as one with ``lr``.

    True of every usual rule's first step (SGD, momentum, Adam, RMSprop, and
    decoupled weight decay, which is scaled by ``lr`` too); an optimizer with its
    own fixed rate fails.
    """
    moves = []
    for lr in (1e-3, 2e-3):
        before, after, _ = _first_step(make, lr)
        moves.append(math.sqrt(sum(float(np.sum((a.astype(np.float64) - b) ** 2)) for a, b in zip(after, before))))
    ratio = moves[1] / moves[0] if moves[0] else math.inf
    if not math.isclose(ratio, 2.0, rel_tol=1e-2):
        return False, (f"expected the first step at lr=0.002 twice as long as at lr=0.001, measured "
                       f"{moves[0]:.3g} and {moves[1]:.3g} (ratio {ratio:.3g}): is lr ignored?")
    return True, f"first step scales with lr (ratio {ratio:.4f} for 2x lr)"


def optimizer_leaves_grads(make: Any) -> tuple[bool, str]:
    """``step`` neither writes into ``grads`` nor reads them after it returned.

    The training loop reuses the gradient buffers: one step is taken with
    gradients that are then overwritten with garbage, and the next step must
    give the same parameters as when they were not.
    """
    rng = np.random.RandomState(4)
    shapes = ((4, 3), (3,))
    start = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    g1 = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    g2 = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    results = []
    for scribble in (False, True):
        params = [p.copy() for p in start]
        opt = make(params)
        first = [g.copy() for g in g1]
        opt.step(first, 0.01)
        if not all(np.array_equal(a, b) for a, b in zip(first, g1)):
            return False, "expected grads unchanged by step, measured: step wrote into grads"
        if scribble:
            for g in first:
                g[...] = 1e6
        opt.step([g.copy() for g in g2], 0.01)
        results.append(params)
    if not all(np.array_equal(a, b) for a, b in zip(*results)):
        return False, ("expected step 2 independent of step 1's grads buffers once step 1 returned, measured "
                       "different parameters after those buffers were reused: keep copies, not references")
    return True, "grads unchanged; no reference kept between steps"

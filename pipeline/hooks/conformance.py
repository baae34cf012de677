"""The conformance checks behind ``check-plugins``, one plain function per property.

Each takes the registered object (an activation, an initializer, an
optimizer factory) and returns ``(passed, detail)``, where ``detail`` says
what was expected and what was measured; they raise whatever the plugin's
code raises. The interfaces checked are the ones ``docs/plugins.md``
documents. :mod:`pipeline.hooks.check` runs them and prints the table.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# the optimizer checks live in their own module; they are part of this one's interface
from pipeline.hooks.conformance_optim import (LEARNING_RATES, LOSS_TOLERANCE, STEPS, TOLERANCE, _describe,
                                              optimizer_converges, optimizer_in_place, optimizer_leaves_grads,
                                              optimizer_uses_lr)

#: |z| of the "large input" activation check.
LARGE = (1e4, 1e3, 100.0, 88.8, 20.0)


def _sample_z(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """float64 values in ±[0.05, 4]: away from 0, where common activations have their kink."""
    rng = np.random.RandomState(seed)
    return rng.uniform(0.05, 4.0, shape) * rng.choice([-1.0, 1.0], shape)


# -- activations ----------------------------------------------------------------

def activation_shape_dtype(act: Any) -> tuple[bool, str]:
    """``forward`` and ``derivative`` keep the shape and dtype of a float32 ``(n, width)`` input."""
    z = _sample_z((7, 5)).astype(np.float32)
    a = act.forward(z)
    d = act.derivative(z, a)
    for what, out in (("forward", a), ("derivative", d)):
        if not isinstance(out, np.ndarray) or out.shape != z.shape or out.dtype != z.dtype:
            return False, f"{what}: expected {_describe(z)}, measured {_describe(out)}"
    return True, f"{_describe(z)} in, {_describe(a)} out"


def activation_pure(act: Any) -> tuple[bool, str]:
    """Neither function modifies its inputs, and ``forward`` returns a new array."""
    z = _sample_z((6, 4), seed=1).astype(np.float32)
    z_before = z.copy()
    a = act.forward(z)
    if not np.array_equal(z, z_before):
        return False, "forward: expected z unchanged, measured: z was modified in place"
    if isinstance(a, np.ndarray) and np.shares_memory(a, z):
        return False, "forward: expected a new array, measured: z itself or a view of it"
    a_before = np.array(a, copy=True)
    act.derivative(z, a)
    if not (np.array_equal(z, z_before) and np.array_equal(a, a_before)):
        return False, "derivative: expected z and a unchanged, measured: modified in place"
    return True, "inputs unchanged, new output array"


#: |z| bands where the derivative is checked, with the number of columns of 20 points each.
DERIVATIVE_BANDS = ((0.05, 4.0, 10), (1e-3, 0.05, 2), (4.0, 12.0, 2))


def _banded_z(seed: int) -> np.ndarray:
    rng = np.random.RandomState(seed)
    columns = [rng.uniform(lo, hi, (20, n)) * rng.choice([-1.0, 1.0], (20, n)) for lo, hi, n in DERIVATIVE_BANDS]
    return np.hstack(columns)


def activation_derivative(act: Any) -> tuple[bool, str]:
    """``derivative(z, forward(z))`` matches a central finite difference of ``forward``.

    Evaluated in float64 at random points with |z| in each band of
    :data:`DERIVATIVE_BANDS` (the usual ±[0.05, 4], plus near zero and out to
    ±12, where a derivative wrong only there would otherwise pass); a point
    where the one-sided differences disagree lies next to a kink and is skipped.
    """
    z = _banded_z(seed=2)
    f0 = np.asarray(act.forward(z))
    # a forward that computes in float32 whatever it is given needs a larger step
    low = f0.dtype != np.float64
    h, rtol, atol = (1e-2, 1e-3, 1e-3) if low else (1e-6, 1e-4, 1e-5)
    fp, fm = np.asarray(act.forward(z + h), np.float64), np.asarray(act.forward(z - h), np.float64)
    expected = (fp - fm) / (2 * h)
    measured = np.asarray(act.derivative(z, f0), np.float64)
    if measured.shape != z.shape:
        return False, f"derivative: expected shape {z.shape}, measured {measured.shape}"
    tol = atol + rtol * np.abs(expected)
    kink = np.abs((fp - f0) - (f0 - fm)) / h > 100 * tol
    if kink.mean() > 0.5:
        return False, f"expected forward differentiable almost everywhere, measured kinks at {kink.sum()} " \
                      f"of {z.size} points"
    error = np.where(kink, 0.0, np.abs(measured - expected))
    bad = error > tol
    checked = f"{z.size - kink.sum()} points with |z| in [0.001, 12]" + (f", {kink.sum()} near a kink skipped"
                                                               if kink.any() else "")
    if bad.any() or not np.all(np.isfinite(measured)):
        i = np.unravel_index(np.nanargmax(np.where(np.isfinite(error), error, np.inf)), z.shape)
        return False, (f"f'({z[i]:.4g}): expected {expected[i]:.6g} (central difference), measured "
                       f"{measured[i]:.6g}; {bad.sum()} of {checked} off")
    return True, f"max |error| {error.max():.2g} over {checked}"


def activation_large_inputs(act: Any) -> tuple[bool, str]:
    """Finite outputs and derivatives (float32) for ``|z|`` up to 1e4."""
    z = np.array([[s * v for v in LARGE for s in (-1, 1)] + [0.0]], dtype=np.float32)
    with np.errstate(all="ignore"):
        a = np.asarray(act.forward(z))
        d = np.asarray(act.derivative(z, a))
    for what, out in (("forward", a), ("derivative", d)):
        if out.shape != z.shape:
            return False, f"{what}: expected shape {z.shape}, measured {out.shape}"
        if not np.all(np.isfinite(out)):
            bad = ", ".join(f"{v:g}" for v in z[~np.isfinite(out)])
            return False, f"{what}: expected finite values for |z| up to {max(LARGE):g}, " \
                          f"measured inf/NaN at z = {bad}"
    note = ""
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        try:
            act.derivative(z, act.forward(z))
        except FloatingPointError as exc:  # finite in the end, but the author may want to know
            note = f" (numpy reports '{exc}' on the way, harmless but avoidable)"
    return True, f"finite for |z| up to {max(LARGE):g}{note}"


# -- initializers ----------------------------------------------------------------

def initializer_shape(init: Any) -> tuple[bool, str]:
    """``init(fan_in, fan_out, rng)`` returns a finite float ``(fan_in, fan_out)`` ndarray."""
    for fan_in, fan_out in ((784, 64), (64, 10), (1, 1)):
        w = init(fan_in, fan_out, np.random.RandomState(0))
        ok = isinstance(w, np.ndarray) and w.shape == (fan_in, fan_out) and np.issubdtype(w.dtype, np.floating)
        if not ok:
            return False, f"init({fan_in}, {fan_out}, rng): expected a float array of shape " \
                          f"{(fan_in, fan_out)}, measured {_describe(w)}"
        if not np.all(np.isfinite(w)):
            return False, f"init({fan_in}, {fan_out}, rng): expected finite values, measured " \
                          f"{np.size(w) - np.isfinite(w).sum()} non-finite"
    return True, "(784, 64), (64, 10), (1, 1): right shapes, float, finite"


def initializer_deterministic(init: Any) -> tuple[bool, str]:
    """Equal seeds give equal arrays, and the global NumPy RNG is neither used nor changed."""
    saved = np.random.get_state()
    try:
        np.random.seed(1)
        first = np.array(init(32, 16, np.random.RandomState(7)))
        touched = _global_rng_moved(1)
        np.random.seed(2)
        second = np.array(init(32, 16, np.random.RandomState(7)))
    finally:
        np.random.set_state(saved)
    if touched:
        return False, "expected only the rng argument to be used, measured: the global np.random state changed"
    if not np.array_equal(first, second):
        return False, "expected equal arrays for equal rng seeds, measured different arrays"
    return True, "same seed, same array; global RNG untouched"


def _global_rng_moved(seed: int) -> bool:
    reference = np.random.RandomState(seed).get_state()
    current = np.random.get_state()
    return not (np.array_equal(reference[1], current[1]) and reference[2] == current[2])


def initializer_scale(init: Any) -> tuple[bool, str]:
    """Report the measured scale next to the common ones; fail only for constant weights."""
    fan_in, fan_out = 400, 200
    w = np.asarray(init(fan_in, fan_out, np.random.RandomState(0)), np.float64)
    std, mean = float(w.std()), float(w.mean())
    refs = (f"sqrt(1/fan_in) {math.sqrt(1 / fan_in):.4f}, sqrt(2/fan_in) {math.sqrt(2 / fan_in):.4f}, "
            f"sqrt(2/(fan_in+fan_out)) {math.sqrt(2 / (fan_in + fan_out)):.4f}")
    measured = f"std {std:.4f}, mean {mean:+.4f} at ({fan_in}, {fan_out})"
    if not std > 0:
        return False, f"expected std > 0 (equal weights keep hidden units identical), measured {measured}"
    return True, f"{measured}; for reference: {refs}"


# -- schedules -------------------------------------------------------------------

def schedule_values(schedule: Any) -> tuple[bool, str]:
    """``schedule(epoch, 20, 0.1)`` is a finite float >= 0 at every epoch (and every step when per-step)."""
    per_step = bool(getattr(schedule, "per_step", False))
    points = [e + i / 4 for e in range(20) for i in range(4 if per_step else 1)]
    for epoch in points:
        value = schedule(epoch, 20, 0.1)
        if not isinstance(value, (int, float, np.floating)) or not math.isfinite(value) or value < 0:
            return False, f"schedule({epoch:g}, 20, 0.1): expected a finite float >= 0, measured {value!r}"
    return True, f"finite and >= 0 at {len(points)} {'steps' if per_step else 'epochs'} of 20 epochs"


def schedule_scales_with_lr(schedule: Any) -> tuple[bool, str]:
    """Proportional to the base rate: ``schedule(e, n, 2 lr) == 2 schedule(e, n, lr)``, and
    deterministic."""
    for epoch in (0, 3, 7.5, 19):
        one, two, again = schedule(epoch, 20, 0.1), schedule(epoch, 20, 0.2), schedule(epoch, 20, 0.1)
        if one != again:
            return False, f"schedule({epoch:g}, 20, 0.1): expected equal values on equal calls, measured " \
                          f"{one!r} then {again!r}"
        if not math.isclose(two, 2 * one, rel_tol=1e-9, abs_tol=1e-12):
            return False, f"schedule({epoch:g}, 20, lr): expected 2x the rate for 2x lr, measured " \
                          f"{one!r} at lr=0.1, {two!r} at lr=0.2 (the lr argument is ignored?)"
    return True, "proportional to lr, deterministic"



__all__ = ["LARGE", "LEARNING_RATES", "LOSS_TOLERANCE", "STEPS", "TOLERANCE", "DERIVATIVE_BANDS",
           "activation_shape_dtype", "activation_pure", "activation_derivative", "activation_large_inputs",
           "initializer_shape", "initializer_deterministic", "initializer_scale", "optimizer_in_place",
           "optimizer_uses_lr", "optimizer_leaves_grads", "optimizer_converges", "schedule_values",
           "schedule_scales_with_lr"]

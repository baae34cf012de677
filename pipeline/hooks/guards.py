"""Cheap checks around a computed stage: probe its plugins before, check its outputs after.

A plugin that returns the wrong shape or dtype would otherwise fail deep
inside the training loop with a NumPy message that names nobody. Before a
stage that uses plugins is computed, each plugin is called on tiny inputs (an
activation goes through the same shape, dtype and purity checks as
``check-plugins``, :mod:`pipeline.hooks.conformance`); after it ran, the outputs are
checked for the right names and, for the model stages, for shapes, dtype and
finiteness. Nothing here touches a cached stage, and nothing costs more than a
pass over the weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from pipeline.errors import ConfigError, PipelineError, PluginError, TrainingError
from pipeline.hooks.registries import Implementation
from pipeline.registry import Stage


def _who(impl: Implementation) -> str:
    return f"{impl.kind} '{impl.name}' (plugin '{impl.plugin.name}')"


def _array_problem(value: Any, shape: tuple[int, ...], dtype: np.dtype | None) -> str | None:
    """What is wrong with ``value`` as an array of ``shape`` and ``dtype`` (any float when None)."""
    if not isinstance(value, np.ndarray):
        return f"returned {type(value).__name__}, not a NumPy array"
    if value.shape != shape:
        return f"returned shape {value.shape} for {shape}"
    if dtype is not None and value.dtype != dtype:
        return f"returned dtype {value.dtype} for {dtype} (it must keep the input's dtype)"
    if value.dtype.kind != "f":
        return f"returned dtype {value.dtype}, not floating point"
    if not np.isfinite(value).all():
        return "returned NaN or infinite values on ordinary input"
    return None


def _call(impl: Implementation, what: str, function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except Exception as exc:  # foreign code: name it
        raise PluginError(f"{_who(impl)} raised in {what}: {type(exc).__name__}: {exc}") from exc


def _probe_activation(impl: Implementation, config: Any) -> None:
    """The shape, dtype and purity checks of ``check-plugins`` (:mod:`pipeline.hooks.conformance`), then
    finite values on ordinary input."""
    from pipeline.hooks import conformance

    for check in (conformance.activation_shape_dtype, conformance.activation_pure):
        passed, detail = _call(impl, "forward(z) or derivative(z, a)", check, impl.obj)
        if not passed:
            raise PluginError(f"{_who(impl)}: {detail}")
    z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(4, 3)
    a = _call(impl, "forward(z)", impl.obj.forward, z)
    for what, out in (("forward", a), ("derivative", _call(impl, "derivative(z, a)", impl.obj.derivative, z, a))):
        if not np.isfinite(out).all():
            raise PluginError(f"{_who(impl)}: {what} returned NaN or infinite values for z in [-3, 3]")


def _probe_initializer(impl: Implementation, config: Any) -> None:
    w = _call(impl, "init(5, 3, rng)", impl.obj, 5, 3, np.random.RandomState(0))
    problem = _array_problem(np.asarray(w) if isinstance(w, (list, tuple)) else w, (5, 3), None)
    if problem:
        raise PluginError(f"{_who(impl)}: init(fan_in=5, fan_out=3, rng) {problem}")


def _probe_optimizer(impl: Implementation, config: Any) -> None:
    options = config.train.optimizer_options
    params = [np.full((3, 2), 0.5, np.float32), np.zeros(2, np.float32)]
    try:
        optimizer = impl.obj(params, **options)
    except (TypeError, ValueError) as exc:
        if options:  # almost always an option the optimizer does not take, or a bad value
            raise ConfigError(f"train.optimizer_options = {dict(options)}: not accepted by {_who(impl)}: "
                              f"{exc}") from None
        raise PluginError(f"{_who(impl)} raised when created: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # foreign code: name it
        raise PluginError(f"{_who(impl)} raised when created: {type(exc).__name__}: {exc}") from exc
    if not callable(getattr(optimizer, "step", None)):
        raise PluginError(f"{_who(impl)}: factory(params) returned {type(optimizer).__name__}, "
                          f"which has no step(grads, lr) method")
    grads = [np.full((3, 2), 0.1, np.float32), np.full(2, 0.1, np.float32)]
    try:
        optimizer.step(grads, 0.01)
    except (TypeError, ValueError) as exc:
        if options:  # e.g. momentum = "high"
            raise ConfigError(f"train.optimizer_options = {dict(options)}: {_who(impl)} fails with them: "
                              f"{type(exc).__name__}: {exc}") from None
        raise PluginError(f"{_who(impl)} raised in step(grads, lr): {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # foreign code: name it
        raise PluginError(f"{_who(impl)} raised in step(grads, lr): {type(exc).__name__}: {exc}") from exc
    for i, (p, shape) in enumerate(zip(params, ((3, 2), (2,)))):
        problem = _array_problem(p, shape, np.dtype(np.float32))
        if problem:
            problem = problem.replace("returned", "has")
            raise PluginError(f"{_who(impl)}: after step(grads, lr), parameter {i} {problem}")


def _probe_onnx_activation(impl: Implementation, config: Any) -> None:
    """An activation's ONNX form must give a well-formed chain of nodes (none given is fine)."""
    from pipeline.nn.onnx import FormError, activation_nodes

    if impl.obj is not None:
        try:
            activation_nodes(impl.obj, "x", "y")
        except FormError as exc:
            raise PluginError(f"{_who(impl)}: {exc}") from None


def _probe_schedule(impl: Implementation, config: Any) -> None:
    """The rate of the first and the last epoch: finite, >= 0, options accepted."""
    from pipeline.hooks import rates

    t = config.train
    rate = rates.rate_function(t, impl.obj, 0.1)
    for epoch in (0, t.epochs - 1):
        try:
            rate(epoch)
        except PipelineError:  # options it does not take, a negative rate: said in the config's terms
            raise
        except Exception as exc:  # foreign code: name it
            raise PluginError(f"{_who(impl)} raised in schedule({epoch}, {t.epochs}, lr): "
                              f"{type(exc).__name__}: {exc}") from exc


def _probe_source(impl: Implementation, config: Any) -> None:
    """Nothing to do: the source's identity was computed for the key, its output is checked by fetch."""


#: Plugin kind -> its probe, called as ``probe(implementation, config)``.
PROBES = {"activation": _probe_activation, "initializer": _probe_initializer, "optimizer": _probe_optimizer,
          "onnx_activation": _probe_onnx_activation, "schedule": _probe_schedule, "source": _probe_source}


def probe_plugins(stage: Stage, implementations: Mapping[str, Implementation], config: Any) -> None:
    """Call each plugin ``stage`` uses once on a tiny input; a misbehaving one is named.

    Raises
    ------
    PluginError
        The plugin raised, or returned the wrong type, shape or dtype, or non-finite values.
    ConfigError
        The optimizer refuses ``train.optimizer_options``.
    """
    for kind, impl in implementations.items():
        PROBES[kind](impl, config)


def _check_params(stage: Stage, params: Any, name: str, implementations: Mapping[str, Implementation]) -> None:
    """``[W1, b1, ...]`` float32, chained shapes, finite values."""
    used = ", ".join(_who(i) for i in implementations.values()) or "no plugin"
    where = f"stage '{stage.name}' (using {used})"
    if not isinstance(params, (list, tuple)) or not params or len(params) % 2:
        raise PluginError(f"{where}: '{name}' must be a list [W1, b1, ...], got {type(params).__name__}")
    previous = None
    for i, p in enumerate(params):
        label = f"{'W' if i % 2 == 0 else 'b'}{i // 2 + 1}"
        if not isinstance(p, np.ndarray) or p.dtype != np.float32:
            got = p.dtype if isinstance(p, np.ndarray) else type(p).__name__
            raise PluginError(f"{where}: {name} {label} is {got}, expected a float32 array")
        ok = p.ndim == 2 and (previous is None or p.shape[0] == previous) if i % 2 == 0 \
            else p.shape == (params[i - 1].shape[1],)
        if not ok:
            raise PluginError(f"{where}: {name} {label} has shape {p.shape}, which does not fit the layers")
        previous = p.shape[1] if i % 2 == 0 else previous
        if not np.isfinite(p).all():
            raise TrainingError(f"{where}: {name} {label} holds NaN or infinite values; "
                                f"lower train.lr or check the plugins")


def check_outputs(stage: Stage, outputs: Any, implementations: Mapping[str, Implementation]) -> None:
    """Check what a stage returned before it is cached.

    Raises
    ------
    TypeError
        The stage broke its contract (wrong keys, a file output that is not bytes): a bug.
    PluginError, TrainingError
        Model weights of the wrong shape or dtype (naming the plugins used), or not finite.
    """
    if not isinstance(outputs, Mapping) or set(outputs) != set(stage.writes):
        got = sorted(outputs) if isinstance(outputs, Mapping) else type(outputs).__name__
        raise TypeError(f"stage '{stage.name}' must return a dict with keys {sorted(stage.writes)}, got {got}")
    for name in stage.writes:
        if "." in name and not isinstance(outputs[name], bytes) and outputs[name] is not None:
            raise TypeError(f"stage '{stage.name}': file output '{name}' must be bytes (or None: not written)")
    for name in ("params0", "params"):
        if name in outputs:
            _check_params(stage, outputs[name], name, implementations)

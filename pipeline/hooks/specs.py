"""Every hook a plugin can implement, in one place.

Plugins implement these with ``from pipeline import hookimpl``. Built-in
activations, initializers and optimizers (the top-level ``plugins`` package)
register through exactly these hooks, like third-party packages, which are
loaded from the ``pipeline`` entry-point group. ``docs/plugins.md`` documents
each hook; a test keeps the two in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # type-only imports keep importing this module cheap
    from collections.abc import Mapping

    from pipeline.config import Config

hookspec = pluggy.HookspecMarker("pipeline")


# -- registration hooks ------------------------------------------------------

@hookspec
def pipeline_register_activations() -> Mapping[str, Any]:
    """Register activation functions for the hidden layers.

    Called once, when the plugin manager builds the activation registry. Every
    plugin's result is merged; a name registered twice is an error that names
    both plugins.

    Returns
    -------
    dict of str to Activation
        ``{name: activation}``. An activation is an object with
        ``forward(z) -> a`` and ``derivative(z, a) -> f'(z)``, both
        elementwise on float32 arrays of shape ``(n_rows, width)`` and
        returning a new array of the same shape and dtype
        (see ``pipeline.api.Activation``).
    """


@hookspec
def pipeline_register_initializers() -> Mapping[str, Any]:
    """Register weight initializers.

    Called once, when the plugin manager builds the initializer registry.
    Every plugin's result is merged; duplicate names are an error.

    Returns
    -------
    dict of str to callable
        ``{name: initializer}`` where ``initializer(fan_in, fan_out, rng)``
        returns a finite array of shape ``(fan_in, fan_out)``; ``rng`` is a
        ``numpy.random.RandomState`` and must be the only source of randomness.
    """


@hookspec
def pipeline_register_optimizers() -> Mapping[str, Any]:
    """Register optimizers.

    Called once, when the plugin manager builds the optimizer registry.
    Every plugin's result is merged; duplicate names are an error.

    Returns
    -------
    dict of str to callable
        ``{name: factory}`` where ``factory(params, **options)`` returns an
        object whose ``step(grads, lr)`` updates every array of ``params``
        in place; ``options`` come from ``train.optimizer_options``.
    """


# -- lifecycle hooks -----------------------------------------------------------

@hookspec
def before_pipeline_run(config: Config, stages: list[str]) -> None:
    """Called once before the first stage, after the config and stage graph are validated.

    Parameters
    ----------
    config : Config
        The effective, validated configuration.
    stages : list of str
        Names of the stages this run will visit, in order.
    """


@hookspec
def after_pipeline_run(record: Mapping[str, Any]) -> None:
    """Called once after the last stage succeeded, before ``run.json`` is written.

    Parameters
    ----------
    record : mapping
        The run record: ``stages`` (name, status, seconds, key), ``metrics``,
        ``data`` and ``config``, as written to ``run.json``.
    """


@hookspec
def on_pipeline_error(error: BaseException, config: Config) -> None:
    """Called once when the run stops on an error, before the error propagates.

    Parameters
    ----------
    error : BaseException
        The exception that stopped the run (it is re-raised afterwards).
    config : Config
        The effective configuration.
    """


@hookspec
def before_stage_run(stage: str, key: str, config: Config) -> None:
    """Called just before a stage computes (not for cache hits).

    Parameters
    ----------
    stage : str
        Stage name, e.g. ``"train"``.
    key : str
        The stage's cache key for this run.
    config : Config
        The effective configuration.
    """


@hookspec
def after_stage_run(stage: str, key: str, status: str, seconds: float,
                    outputs: Mapping[str, Any]) -> None:
    """Called after every stage of the run, whether it ran or came from the cache.

    Parameters
    ----------
    stage : str
        Stage name.
    key : str
        The stage's cache key.
    status : str
        ``"ran"`` or ``"cached"``.
    seconds : float
        Wall time spent on the stage in this run.
    outputs : mapping of str to object
        The stage's outputs by name; for a cached stage each value is loaded
        from the cache on first access.
    """


@hookspec
def on_stage_error(stage: str, key: str, error: BaseException) -> None:
    """Called when a stage raises, before the error propagates.

    Parameters
    ----------
    stage : str
        Stage name.
    key : str
        The stage's cache key; nothing is stored under it.
    error : BaseException
        The exception the stage raised (it is re-raised afterwards).
    """


# -- export hooks --------------------------------------------------------------

@hookspec
def pipeline_register_onnx_activations() -> Mapping[str, Any]:
    """Register the ONNX form of activations, so that ``export`` can write ``model.onnx``.

    Optional: an activation without an ONNX form still trains, evaluates and exports
    ``model.npz`` / ``model.json``; export then writes no ``model.onnx`` and says so in
    one line. Called once, when the plugin manager builds its registries (like the other
    registration hooks); every plugin's result is merged and a name given twice is an error.
    Implement it in the plugin that registers the activation.

    Returns
    -------
    dict of str to callable
        ``{activation name: form}``. ``form(x, y)`` is given the names of the input
        tensor ``x`` and the output tensor ``y`` (both float32, shape ``(n_rows, width)``)
        and returns the ONNX nodes computing ``y = f(x)`` elementwise, as plain tuples
        ``(op_type, [input names], [output names], {attribute: value})`` of standard ONNX
        operators (opset 17), in order. Intermediate tensors must be named
        ``y + "/..."``; the last node must produce ``y``. For example
        ``lambda x, y: [("Relu", [x], [y], {})]``, or for swish
        ``lambda x, y: [("Sigmoid", [x], [y + "/s"], {}), ("Mul", [x, y + "/s"], [y], {})]``.
        Export checks the graph with ``onnx.checker`` and evaluates the form against the
        activation's ``forward`` on ``z`` in [-6, 6] (within 1e-5); a failure names the activation.
    """

"""Every hook a plugin can implement, in one place (``from pipeline import hookimpl``).

The built-ins (the top-level ``plugins`` package) register through exactly these hooks, like
third-party packages. None is ``firstresult``: registration results are merged, lifecycle
return values ignored. ``docs/plugins.md`` section 3 documents each hook; a test keeps them in step.
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


@hookspec
def pipeline_register_schedules() -> Mapping[str, Any]:
    """Register learning-rate schedules (``train.schedule``).

    Called once, when the plugin manager builds the schedule registry. Every
    plugin's result is merged; duplicate names are an error. The built-in
    ``constant``, ``step`` and ``cosine`` register through this hook.

    Returns
    -------
    dict of str to callable
        ``{name: schedule}`` where ``schedule(epoch, epochs, lr, **options)``
        returns the learning rate (a finite float >= 0) for the 0-based
        ``epoch`` of ``epochs``, given the base rate ``lr`` (``train.lr`` or
        the optimizer's recommended one); ``options`` come from
        ``train.schedule_options`` (and ``train.step_size``/``train.gamma``
        when the schedule takes parameters of those names). Called once per
        epoch with a whole ``epoch``; a schedule with the attribute
        ``per_step = True`` is called before every step with the fractional
        epoch ``e + i / steps_per_epoch``. It must depend on nothing else.
    """


@hookspec
def pipeline_register_data_sources() -> Mapping[str, Any]:
    """Register data sources: a ``data.source`` scheme mapped to a loader and an identity.

    Called once, when the plugin manager builds the source registry. Every
    plugin's result is merged; duplicate schemes are an error. The built-in
    ``auto``, ``openml``, ``idx``, ``npz`` and ``digits`` register through this hook.

    Returns
    -------
    dict of str to Source
        ``{scheme: pipeline.data.sources.Source(form, takes_argument, load, identity)}``.
        ``form`` is the usage shown in messages (``"csv:FILE"``);
        ``takes_argument`` whether ``scheme:ARG`` needs the part after the colon;
        ``load(arg, data_home, progress)`` returns a
        ``pipeline.data.rawdata.RawData`` (build it with
        ``pipeline.data.rawdata.assemble``); ``identity(arg, data_home)``
        returns a small JSON-able dict that changes whenever the data change
        (files' sizes and mtimes, or a version), cheaply: it is computed on
        every run and is part of fetch's cache key.
    """


@hookspec
def pipeline_register_options() -> Mapping[str, Any]:
    """Declare the plugin's own config section, named after the plugin, with defaults and types.

    Called once, when plugins are loaded, before the configuration is read.
    The section ``[PLUGIN_NAME]`` (the entry-point name) then takes these keys,
    in the config file and as ``--set PLUGIN_NAME.KEY=VALUE``; each value is
    validated against its default's type like a built-in key, ``config``
    prints the section, and its values are part of the cache key of every stage
    that uses one of the plugin's implementations. The values reach the
    plugin's code through ``config.get("PLUGIN_NAME.KEY")`` (or
    ``config.plugin_options[PLUGIN_NAME]``) in the lifecycle hooks.

    Returns
    -------
    dict of str to object
        ``{key: default}``; defaults are bool, int, float, str, list or dict.
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
def before_epoch(epoch: int, epochs: int, lr: float, config: Config) -> None:
    """Called while ``train`` runs, before each epoch (not when train comes from the cache).

    Observes only: the training results must not depend on it, so it is in no
    cache key. An exception stops the run with an error naming the plugin.

    Parameters
    ----------
    epoch : int
        The 1-based epoch about to start.
    epochs : int
        ``train.epochs``.
    lr : float
        The learning rate of the epoch's first step.
    config : Config
        The effective configuration (a plugin's own section included).
    """


@hookspec
def after_epoch(epoch: int, epochs: int, lr: float, loss: float, acc: float,
                val_loss: float | None, val_acc: float | None, config: Config) -> None:
    """Called while ``train`` runs, after each epoch, with its figures (a live logger's hook).

    Observes only (in no cache key); an exception stops the run naming the plugin.

    Parameters
    ----------
    epoch, epochs : int
        The 1-based epoch just finished, and ``train.epochs``.
    lr : float
        The learning rate of the epoch's first step.
    loss, acc : float
        Mean cross-entropy and accuracy over the epoch's mini-batches.
    val_loss, val_acc : float or None
        On the validation rows after the epoch; None without validation rows.
    config : Config
        The effective configuration (a plugin's own section included).
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
        ``y + "/..."``; the last node must produce ``y`` (docs/plugins.md shows swish's form).
        Export checks the graph with ``onnx.checker`` and evaluates the form against the
        activation's ``forward`` on ``z`` in [-6, 6] (within 1e-5); a failure names the activation.
    """

"""The stage registry: which stages exist, what each reads, writes and depends on.

Stage modules are named here as strings and imported only when a stage has to
run, so a fully cached run never imports them (nor scikit-learn).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.errors import ConfigError


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline.

    Attributes
    ----------
    name : str
        Stage name used on the command line and in the cache.
    module : str
        Module that defines ``run(cfg, **inputs) -> dict``.
    config : tuple of str
        Config sections (``"train"``) or keys (``"model.activation"``) the stage
        reads; ``"*"`` means the whole config. Part of the cache key.
    reads : tuple of str
        Upstream outputs passed to ``run`` as keyword arguments.
    writes : tuple of str
        Outputs ``run`` returns. A name with a dot (``"model.npz"``) is a file
        (bytes) that the runner also writes into the run directory, or None for
        no such file in this run (e.g. a picture the data has nothing to show for).
    plugins : dict of str to str
        Plugin kind -> config key naming the implementation; the
        implementation is passed to ``run`` as a keyword argument named by kind.
    context : tuple of str
        Keywords the runner supplies that cannot change the outputs:
        ``"progress"`` (a :class:`pipeline.api.Progress`), ``"data_home"``
        (a directory for downloads, inside the cache dir), ``"events"``
        (``events(hook_name, **kwargs)`` calls an observe-only lifecycle hook) and ``"builtin"``
        (the plugin kinds whose implementation is a built-in one, checked by the project's tests).
    libraries : tuple of str
        Optional modules (named as their distribution) whose version, or absence, changes
        the outputs; part of the cache key (numpy's and scikit-learn's always are).
    """

    name: str
    module: str
    config: tuple[str, ...]
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    plugins: dict[str, str] = field(default_factory=dict)
    context: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()

    def function(self) -> Callable[..., dict]:
        """Import the stage module and return its ``run`` function."""
        return importlib.import_module(self.module).run


#: The pipeline, in execution order.
STAGES: tuple[Stage, ...] = (
    Stage("fetch", "stages.fetch", ("data",), (),
          ("x_raw", "y_raw", "x_raw_test", "y_raw_test", "dataset"), plugins={"source": "data.source"},
          context=("progress", "data_home")),
    Stage("normalize", "stages.normalize", ("normalize",), ("x_raw", "dataset"), ("preprocessing",)),
    Stage("encode", "stages.encode", (), ("y_raw", "y_raw_test"),
          ("y_all", "y_all_test", "classes")),
    Stage("split", "stages.split", ("split",), ("y_all", "y_all_test"), ("train_rows", "val_rows", "test_rows")),
    Stage("init", "stages.init", ("model.hidden", "model.init", "train.seed"), ("x_raw", "y_all"),
          ("params0",), plugins={"initializer": "model.init"}),
    Stage("train", "stages.train", ("train",),
          ("params0", "x_raw", "x_raw_test", "y_all", "y_all_test", "preprocessing", "train_rows", "val_rows"),
          ("params", "history"), plugins={"activation": "model.activation", "optimizer": "train.optimizer",
                                          "schedule": "train.schedule"},
          context=("progress", "events")),
    Stage("evaluate", "stages.evaluate", ("evaluate",),
          ("params", "x_raw", "x_raw_test", "y_all", "y_all_test", "preprocessing", "val_rows", "test_rows",
           "classes"),
          ("metrics", "metrics.json", "probabilities"), plugins={"activation": "model.activation"}),
    Stage("export", "stages.export", ("*",),
          ("params", "history", "metrics", "classes", "preprocessing", "dataset"),
          ("model.npz", "model.json", "model.onnx"), plugins={"activation": "model.activation",
                                                                "onnx_activation": "model.activation"},
          context=("progress", "builtin"), libraries=("onnx",)),
    Stage("report", "stages.report", ("report",),
          ("params", "history", "metrics", "probabilities", "x_raw", "x_raw_test", "y_all", "y_all_test",
           "preprocessing", "val_rows", "test_rows", "classes", "dataset"),
          ("report_body", "curves.png", "confusion.png", "per_class.png", "mistakes.png", "weights.png")),
)


def stage_names(stages: tuple[Stage, ...] = STAGES) -> list[str]:
    """Names of ``stages`` in order."""
    return [s.name for s in stages]


def get_stage(name: str, stages: tuple[Stage, ...] = STAGES) -> Stage:
    """The stage called ``name``; an unknown name lists the valid ones."""
    for stage in stages:
        if stage.name == name:
            return stage
    raise ConfigError(f"unknown stage '{name}'; stages are: {', '.join(stage_names(stages))}")


def producers(stages: tuple[Stage, ...] = STAGES) -> dict[str, str]:
    """Output name -> name of the stage that writes it."""
    return {out: s.name for s in stages for out in s.writes}


def upstream(stage: Stage, stages: tuple[Stage, ...] = STAGES) -> list[str]:
    """Names of the stages whose outputs ``stage`` reads, in pipeline order."""
    made_by = producers(stages)
    needed = {made_by[r] for r in stage.reads}
    return [s.name for s in stages if s.name in needed]


def downstream(name: str, stages: tuple[Stage, ...] = STAGES) -> list[str]:
    """``name`` and every stage that depends on it, directly or not, in order."""
    hit = {name}
    for stage in stages:
        if set(upstream(stage, stages)) & hit:
            hit.add(stage.name)
    return [s.name for s in stages if s.name in hit]


def ancestors(name: str, stages: tuple[Stage, ...] = STAGES) -> list[str]:
    """Every stage ``name`` depends on, directly or not, in order (``name`` excluded)."""
    found: set[str] = set()
    todo = upstream(get_stage(name, stages), stages)
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += upstream(get_stage(current, stages), stages)
    return [s.name for s in stages if s.name in found]


def validate(stages: tuple[Stage, ...] = STAGES) -> None:
    """Check the stage graph: unique names and outputs, every read made by an earlier stage.

    Raises
    ------
    ValueError
        Naming the stage and the output at fault.
    """
    seen_outputs: dict[str, str] = {}
    names: set[str] = set()
    for stage in stages:
        if stage.name in names:
            raise ValueError(f"stage '{stage.name}' is registered twice")
        names.add(stage.name)
        for read in stage.reads:
            if read not in seen_outputs:
                raise ValueError(f"stage '{stage.name}' reads '{read}', which no earlier stage writes")
        for out in stage.writes:
            if out in seen_outputs:
                raise ValueError(f"output '{out}' is written by both '{seen_outputs[out]}' and '{stage.name}'")
            seen_outputs[out] = stage.name


@dataclass(frozen=True)
class Selection:
    """Which stages to visit and which to recompute even when cached.

    Attributes
    ----------
    only : str, optional
        Re-run this stage on cached inputs (missing ones are computed first);
        stages after it are skipped.
    start : str, optional
        ``--from``: re-run this stage and everything after it.
    stop : str, optional
        ``--to``: stop after this stage.
    force : str, optional
        ``"*"`` to ignore every hit, or a stage name: that stage and what depends on it.
    """

    only: str | None = None
    start: str | None = None
    stop: str | None = None
    force: str | None = None

    def resolve(self, stages: tuple[Stage, ...] = STAGES) -> tuple[list[str], set[str]]:
        """``(stages to visit in order, stages to recompute)``; unknown names raise ConfigError."""
        for name in (self.only, self.start, self.stop, None if self.force == "*" else self.force):
            if name is not None:
                get_stage(name, stages)
        if self.only and (self.start or self.stop):
            raise ConfigError("--only cannot be combined with --from or --to")
        names = [s.name for s in stages]
        if self.only:
            return ancestors(self.only, stages) + [self.only], {self.only}
        visit = ancestors(self.stop, stages) + [self.stop] if self.stop else names
        if self.start and self.start not in visit:
            raise ConfigError(f"--from {self.start} comes after --to {self.stop}; nothing to run")
        forced: set[str] = set()
        if self.start:
            forced |= set(downstream(self.start, stages))
        if self.force == "*":
            forced |= set(names)
        elif self.force:
            forced |= set(downstream(self.force, stages))
        return visit, forced & set(visit)

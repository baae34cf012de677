"""The runner: validate, plan keys, visit stages in order, cache, call hooks, write the run record.

The runner owns ordering, caching, hooks, timing and display; stages own
nothing but their computation. It works with no third-party plugin at all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeline.cache.recheck import mismatch
from pipeline import outdir
from pipeline.cache.store import Cache, CorruptEntry, Entry
from pipeline.config import Config
from pipeline.errors import CacheError, PipelineError
from pipeline.hooks.contracts import enforce as enforce_contracts
from pipeline.hooks.guards import check_outputs, probe_plugins
from pipeline.hooks.rates import lr_choice
from pipeline.cache.keys import Plan, plan, stage_config
from pipeline.hooks.manager import Plugins
from pipeline.registry import STAGES, Selection, Stage, get_stage, producers, upstream, validate
from pipeline.ui.base import Display, StageResult


@dataclass
class Runner:
    """Runs the stages of one config against one cache.

    Parameters
    ----------
    config : Config
        Validated configuration.
    cache : Cache
        Where stage outputs live.
    plugins : Plugins
        Loaded plugins (built-ins at least).
    display : Display
        Output to the user.
    """

    config: Config
    cache: Cache
    plugins: Plugins
    display: Display = field(default_factory=Display)
    stages: tuple[Stage, ...] = STAGES
    #: Run the conformance checks on third-party plugins before first use (pipeline.hooks.contracts).
    check_contracts: bool = True
    #: Stages another process computed for this very run (a sweep's worker, which leaves the
    #: report to the client): found cached under the same key, they are recorded as it ran them.
    ran_elsewhere: dict[str, StageResult] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate(self.stages)
        self._made_by = producers(self.stages)
        self._entries: dict[str, Entry] = {}
        self._results: dict[str, StageResult] = {}
        self._probed: set[str] = set()
        self._forced: set[str] = set()
        self._reused: dict[str, int | None] = {}  # stage -> pid of the run whose result it waited for
        self.mismatches: list[dict[str, Any]] = []   # recomputed entries that differ from the old ones
        self._differs: set[str] = set()
        self.plan: Plan | None = None

    def make_plan(self) -> Plan:
        """Every stage's key for this config (cheap: stats files, hashes small things)."""
        from pipeline.data.sources import source_identity

        sources = {scheme: impl.obj for scheme, impl in self.plugins.registries["source"].items()}
        identity = source_identity(self.config.data.source, self.cache.data_home, sources)
        return plan(self.config, self.plugins, identity, self.stages)

    def run(self, selection: Selection = Selection(), out_dir: Path | None = None) -> dict[str, Any]:
        """Visit the selected stages, write artifacts and ``run.json`` into ``out_dir``.

        The cache is held in use throughout (:meth:`Cache.in_use`): ``cache clear`` refuses to
        delete entries while a run may be reading them.

        Returns
        -------
        dict
            The run record (also written to ``out_dir/run.json``).
        """
        with self.cache.in_use():
            return self._run(selection, out_dir)

    def _run(self, selection: Selection, out_dir: Path | None) -> dict[str, Any]:
        visit, self._forced = selection.resolve(self.stages)
        self.plan = self.make_plan()
        self._lr = lr_choice(self.config, self.plan.implementations) if "train" in visit else None
        if self._lr and self._lr["why"] != "train.lr":
            self.display.note(f"learning rate {self._lr['value']:g}: {self._lr['why']}")
        if selection.only:
            missing = [n for n in visit[:-1] if not self.cache.has(n, self.plan.keys[n])]
            if missing:
                self.display.note(f"--only {selection.only}: computing missing inputs first: {', '.join(missing)}")
        for stage in self.stages:  # a broken plugin or option fails before any stage runs
            if stage.name in visit and (stage.name in self._forced
                                        or not self.cache.has(stage.name, self.plan.keys[stage.name])):
                self._probe(stage)
        self.plugins.call("before_pipeline_run", config=self.config, stages=visit)
        try:
            results = [self._visit(stage) if stage.name in visit else StageResult(stage.name, "skipped")
                       for stage in self.stages]
            record = self._record(results, visit, out_dir)
            self.plugins.call("after_pipeline_run", record=record)
        except BaseException as exc:
            self.display.close()
            self._notify_error("on_pipeline_error", exc, config=self.config)
            raise
        if out_dir is not None:
            if "report" in visit:  # the page: cached pictures + this run's record
                outdir.write_page(Path(out_dir), record, self._output("report", "report_body"), self.cache)
            outdir.write_record(Path(out_dir), record)
        for pid in dict.fromkeys(self._reused.values()):
            names = ", ".join(name for name, p in self._reused.items() if p == pid)
            self.display.note(f"reused the result of another run{f' (pid {pid})' if pid else ''} for: {names}")
        self.display.summary(record, self._output("evaluate", "metrics") if "evaluate" in visit else None)
        return record

    def _probe(self, stage: Stage) -> None:
        """Call the stage's plugins once on tiny inputs (see :mod:`pipeline.hooks.guards`), before computing it."""
        if stage.name not in self._probed:
            probe_plugins(stage, self.plan.implementations[stage.name], self.config)
            if self.check_contracts:
                enforce_contracts(self.plan.implementations[stage.name], self.config, self.cache.root,
                                  self.display.note)
            self._probed.add(stage.name)

    def _notify_error(self, hook: str, exc: BaseException, **kwargs: Any) -> None:
        try:
            self.plugins.call(hook, error=exc, **kwargs)
        except PipelineError as hook_exc:
            self.display.warn(str(hook_exc))  # keep the original error; report the hook's

    def _hit(self, stage: Stage, deep: bool = False) -> Entry | None:
        """The stage's entry for this plan, checked (cheaply, or every byte when ``deep``), or None.

        Raises
        ------
        CorruptEntry
            The entry exists but is damaged.
        """
        entry = self.cache.find(stage.name, self.plan.keys[stage.name])
        if entry is not None:
            entry.verify(deep)
        return entry

    def _visit(self, stage: Stage) -> StageResult:
        key = self.plan.keys[stage.name]
        started = time.perf_counter()
        entry = None
        if stage.name not in self._forced:
            try:
                entry = self._hit(stage)
            except CorruptEntry:
                entry = None  # judged again under the lock, where nobody is replacing it
        status = "cached"
        if entry is None:
            entry, status = self._compute(stage)
        self._entries[stage.name] = entry
        self.cache.sweep(stage.name)  # a listing: debris of killed writers, never a live one's files
        self.cache.mark_latest(stage.name, key)
        self.cache.record_use(stage.name, key)  # for `cache gc`: least recently used first
        result = StageResult(stage.name, status, time.perf_counter() - started, key)
        self._results[stage.name] = result
        self.plugins.call("after_stage_run", stage=stage.name, key=key, status=status,
                          seconds=result.seconds, outputs=entry.outputs())
        self.display.stage_done(result)
        elsewhere = self.ran_elsewhere.get(stage.name)
        return elsewhere if status == "cached" and elsewhere is not None and elsewhere.key == key else result

    def _why(self, stage: Stage) -> str:
        from pipeline.cache.keys import explain

        if stage.name in self._forced:
            return "forced"
        latest = self.cache.latest(stage.name)
        if latest is None:
            return "not cached yet"
        return ", ".join(explain(latest.inputs, self.plan.inputs[stage.name])[:3]) or "entry missing"

    def _compute(self, stage: Stage, failed: Entry | None = None) -> tuple[Entry, str]:
        """Compute and store the stage's entry, unless (under its lock) a good one is found.

        ``failed`` is an entry of this stage that could not be loaded: the one found now
        is then checked byte by byte, and is damaged if it is that same entry.
        """
        key = self.plan.keys[stage.name]
        waited: list[int | None] = []

        def waiting(pid: int | None) -> None:
            waited.append(pid)
            self.display.note(f"waiting for another run computing '{stage.name}'"
                              + (f" (pid {pid})" if pid else "") + "…")

        with self.cache.lock(stage.name, key, on_wait=waiting):
            previous = self.cache.lookup(stage.name, key)  # its record survives damage to its files
            if stage.name not in self._forced:
                try:
                    entry = self._hit(stage, deep=failed is not None)
                    if entry is not None and failed is not None and entry.meta == failed.meta:
                        raise CorruptEntry(failed.problem or f"{entry.path}: unreadable")
                except CorruptEntry as exc:
                    self.display.warn(f"cache entry of stage '{stage.name}' is damaged ({exc}); recomputing it")
                    self.cache.discard(stage.name, key)
                    entry = None
                if entry is not None:  # another process computed (or replaced) it while we waited
                    if waited:
                        self._reused[stage.name] = waited[0]
                    return entry, "cached"
            self._probe(stage)
            self.display.stage_started(stage.name, self._why(stage))
            kwargs = {name: self._output(self._made_by[name], name) for name in stage.reads}
            implementations = self.plan.implementations[stage.name]
            kwargs.update({kind: impl.obj for kind, impl in implementations.items()})
            context = {"progress": self.display.progress(stage.name), "data_home": str(self.cache.data_home),
                       "events": lambda hook, **figures: self.plugins.call(hook, config=self.config, **figures),
                       "builtin": frozenset(kind for kind, impl in implementations.items() if impl.plugin.builtin)}
            kwargs.update({name: context[name] for name in stage.context})
            self.plugins.call("before_stage_run", stage=stage.name, key=key, config=self.config)
            started = time.perf_counter()
            try:
                outputs = stage.function()(stage_config(stage, self.config), **kwargs)
                check_outputs(stage, outputs, self.plan.implementations[stage.name])
            except BaseException as exc:
                self._notify_error("on_stage_error", exc, stage=stage.name, key=key)
                raise
            seconds = time.perf_counter() - started
            del kwargs
            entry = self.cache.store(stage.name, key, self.plan.inputs[stage.name], outputs, seconds)
            if previous is not None and (found := mismatch(stage.name, key, previous, entry)):
                self._report_mismatch(stage, found)
        self._forced.discard(stage.name)  # recomputed once; later reads use this entry
        return entry, "ran"

    def _report_mismatch(self, stage: Stage, found: dict[str, Any]) -> None:
        """Warn once, for the first stage that differs; its downstream stages differ because of it."""
        self._differs.add(stage.name)
        if self._differs & set(upstream(stage, self.stages)):
            return
        self.display.warn(found.pop("message"))
        self.mismatches.append(found)

    def _output(self, stage_name: str, name: str) -> Any:
        """Load one output of a visited stage; a damaged entry is reported and recomputed."""
        stage = get_stage(stage_name, self.stages)
        entry = self._entries.get(stage_name) or self.cache.lookup(stage_name, self.plan.keys[stage_name])
        if entry is None:
            entry, _ = self._compute(stage)
        try:
            return entry.outputs()[name]
        except CorruptEntry as exc:
            entry.problem = str(exc)
        entry, status = self._compute(stage, failed=entry)
        self._entries[stage_name] = entry
        if stage_name in self._results and status == "ran":
            self._results[stage_name].status = status
        try:
            return entry.outputs()[name]
        except CorruptEntry as exc:  # damaged again at once: the disk, not a race
            raise CacheError(f"cache entry of stage '{stage_name}' cannot be read back ({exc}); "
                             f"check the disk, or use another --cache-dir") from None

    def _record(self, results: list[StageResult], visit: list[str], out_dir: Path | None) -> dict[str, Any]:
        metrics = self._output("evaluate", "metrics") if "evaluate" in visit else {}
        dataset = self._output("fetch", "dataset") if "fetch" in visit else {}
        if out_dir is not None:
            outdir.write_files(Path(out_dir), self.stages, visit, self._output)
        headline = ("val_loss", "val_accuracy", "test_loss", "test_accuracy")
        return {
            "pipeline_version": __import__("pipeline").__version__,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "stages": [vars(r) for r in results],
            "metrics": {k: metrics.get(k) for k in headline if k in metrics},
            "data": dict(dataset),
            "config": self.config.to_dict(),
            "recomputed_differently": self.mismatches,
            "lr": self._lr,
            "cache_dir": str(self.cache.root),
            "out_dir": str(out_dir) if out_dir is not None else None,
        }


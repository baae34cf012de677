"""The command line: ``python -m pipeline run | status | config | cache | plugins | predict | check-plugins``.

User mistakes (:class:`PipelineError`) end with one line and exit 2 (command
line, config, plugin names) or 1 (data, model files, the run itself); other
exceptions are bugs: a short line, or the traceback with ``--debug``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError, Terminated, sigterm_stops_cleanly


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error instead of the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {self.prog}: {message} (see `{self.prog} --help`)\n")


def _common_options() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    group = common.add_argument_group("configuration")
    group.add_argument("--config", metavar="FILE", help="TOML config file (default: ./pipeline.toml if present)")
    group.add_argument("--preset", metavar="NAME", help="named settings applied under the config file (e.g. seed)")
    group.add_argument("--set", dest="sets", metavar="KEY=VALUE", action="append", default=[],
                       help="override one key, value parsed as TOML (repeatable), e.g. --set train.lr=0.05")
    group.add_argument("--cache-dir", metavar="DIR", help="cache directory (default: $PIPELINE_CACHE_DIR "
                       "or ~/.cache/pipeline)")
    group.add_argument("-p", dest="plugin_opts", metavar="no:NAME", action="append", default=[],
                       help="block a plugin by name (-p no:NAME), as pytest does")
    group.add_argument("--trace-hooks", action="store_true", help="print every hook call")
    group.add_argument("-q", "--quiet", action="store_true", help="print only warnings and errors")
    group.add_argument("--debug", action="store_true", help="show tracebacks")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    common = _common_options()
    parser = _Parser(prog="pipeline", description="Train a NumPy MLP on MNIST "
                     "through cached, pluggable stages.")
    parser.add_argument("--version", action="version", version=f"pipeline {__import__('pipeline').__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", parents=[common], help="run the stages (cached ones are reused)")
    run.add_argument("--only", metavar="STAGE", help="re-run one stage on cached inputs, skip the ones after it")
    run.add_argument("--from", dest="start", metavar="STAGE", help="re-run this stage and every stage after it")
    run.add_argument("--to", dest="stop", metavar="STAGE", help="stop after this stage")
    run.add_argument("--force", nargs="?", const="*", metavar="STAGE",
                     help="ignore cache hits: all stages, or STAGE and what depends on it")
    run.add_argument("--out", metavar="DIR", help="output directory (default: runs/<time>, with runs/latest)")
    sub.add_parser("status", parents=[common], help="per stage: cached, stale or missing, and why")
    sub.add_parser("config", parents=[common], help="print the effective config as TOML")
    cache = sub.add_parser("cache", parents=[common], help="inspect or clear the cache")
    cache.add_argument("action", choices=("info", "clear"))
    cache.add_argument("stage", nargs="?", help="clear only this stage")
    sub.add_parser("plugins", parents=[common], help="list plugins and what each provides")
    predict = sub.add_parser("predict", parents=[common], help="classify images with an exported model")
    predict.add_argument("model", help="model.npz, or a run directory holding model.npz and model.json")
    predict.add_argument("input", help="images: IDX file (.gz ok), .npz (x_test or the only array) or .npy")
    predict.add_argument("--limit", type=int, default=20, help="rows to print (default 20; 0 = all)")
    check = sub.add_parser("check-plugins", parents=[common], help="verify registered plugins numerically")
    check.add_argument("names", nargs="*", metavar="NAME", help="only these implementations")
    return parser


class Session:
    """What every command needs, built lazily from the parsed options."""

    def __init__(self, args: argparse.Namespace):
        from rich.console import Console

        self.args = args
        self.console = Console(quiet=args.quiet)
        self.err = Console(stderr=True)

    def config(self) -> Any:
        from pipeline.config import load_config

        return load_config(self.args.config, self.args.preset, self.args.sets)

    def cache(self) -> Any:
        from pipeline.cache.store import Cache, default_cache_dir

        return Cache(Path(self.args.cache_dir) if self.args.cache_dir else default_cache_dir())

    def plugins(self) -> Any:
        from rich.markup import escape

        from pipeline.errors import ConfigError
        from pipeline.hooks.manager import load_plugins

        blocked = []
        for opt in self.args.plugin_opts:
            if not opt.startswith("no:") or len(opt) == 3:
                raise ConfigError(f"-p expects no:NAME to block a plugin, got '{opt}'")
            blocked.append(opt[3:])
        # one unwrapped line per call, not parsed as markup (arguments may contain "[...]")
        trace = (lambda line: self.err.print("[dim]hook[/] " + escape(line), highlight=False, soft_wrap=True)) \
            if self.args.trace_hooks else None
        return load_plugins(blocked=blocked, trace=trace)


def _out_dir(requested: str | None) -> tuple[Path, Path | None]:
    """The run's output directory and, for the default, the ``runs/latest`` link to update.

    The default ``runs/<time>[-n]`` is created here with an exclusive ``mkdir``, so two
    runs started in the same second never share a directory.
    """
    if requested:
        return Path(requested), None
    runs = Path("runs")
    runs.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 10_000):
        candidate = runs / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate, runs / "latest"
    raise PipelineError(f"cannot create a new run directory in '{runs}'; use --out DIR")


def _point_latest(link: Path, target: Path) -> None:
    tmp = link.with_name(f".latest.{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.name)
    os.replace(tmp, link)


def cmd_run(s: Session) -> int:
    from pipeline.ui.terminal import RichDisplay
    from pipeline.registry import Selection
    from pipeline.ui.base import QuietDisplay
    from pipeline.runner import Runner

    config, cache, plugins = s.config(), s.cache(), s.plugins()
    selection = Selection(s.args.only, s.args.start, s.args.stop, s.args.force)
    selection.resolve()  # unknown stage names fail before anything runs
    display = QuietDisplay() if s.args.quiet else RichDisplay(s.console)
    out_dir, latest = _out_dir(s.args.out)
    runner = Runner(config, cache, plugins, display)
    try:
        runner.run(selection, out_dir)
    except BaseException:
        if latest is not None and not any(out_dir.iterdir()):
            out_dir.rmdir()  # the run directory made for this run: leave no empty one behind
        raise
    if latest is not None:
        _point_latest(latest, out_dir)
    return 0


def cmd_status(s: Session) -> int:
    from rich.table import Table

    from pipeline.ui.terminal import styled
    from pipeline.runner import Runner
    from pipeline.cache.status import stage_status

    runner = Runner(s.config(), s.cache(), s.plugins())
    table = Table(title=f"status (cache {runner.cache.root})", title_justify="left")
    for column in ("stage", "state", "key", "why"):
        table.add_column(column)
    for st in stage_status(runner.make_plan(), runner.cache):
        table.add_row(st.name, styled(st.state), st.key[:12], "; ".join(st.reasons))
    s.console.print(table)
    return 0


def cmd_config(s: Session) -> int:
    from pipeline.config import to_toml

    sys.stdout.write(to_toml(s.config()))
    return 0


def cmd_cache(s: Session) -> int:
    from rich.table import Table

    from pipeline.registry import STAGES, get_stage

    cache = s.cache()
    if s.args.action == "clear":
        if s.args.stage:
            get_stage(s.args.stage)
        removed = cache.clear(s.args.stage)
        s.console.print(f"removed {removed} entr{'y' if removed == 1 else 'ies'} from {cache.root}")
        return 0
    table = Table(title=f"cache {cache.root}", title_justify="left")
    for column in ("stage", "entries", "MB", "latest key"):
        table.add_column(column, justify="right" if column in ("entries", "MB") else "left")
    total = 0
    for stage in STAGES:
        entries = cache.entries(stage.name)
        size = sum(cache.size_of(e) for e in entries)
        total += size
        latest = cache.latest(stage.name)
        table.add_row(stage.name, str(len(entries)), f"{size / 1e6:.1f}", latest.key[:12] if latest else "")
    s.console.print(table)
    s.console.print(f"total {total / 1e6:.1f} MB")
    return 0


def cmd_plugins(s: Session) -> int:
    from rich.table import Table

    from pipeline.hooks.manager import KINDS

    plugins = s.plugins()
    table = Table(title="plugins", title_justify="left")
    for column in ("plugin", "distribution", "provides", "location"):
        table.add_column(column)
    for name, info in plugins.infos.items():
        provides = [f"{kind} {impl.name}" for kind, reg in plugins.registries.items()
                    for impl in reg.values() if impl.plugin.name == name]
        # every hook it implements besides the registration hooks behind "provides"
        lifecycle = [caller.name for caller in plugins.pm.get_hookcallers(plugins.pm.get_plugin(name)) or []
                     if caller.name not in KINDS.values()]
        table.add_row(name, f"{info.dist} {info.version}" + (" (built-in)" if info.builtin else ""),
                      "\n".join(provides + [f"hook {h}" for h in lifecycle]) or "-", info.location)
    s.console.print(table)
    return 0


def cmd_predict(s: Session) -> int:
    from pipeline.predict import run_predict

    return run_predict(s.args.model, s.args.input, s.args.limit, s.console, s.plugins())


def cmd_check_plugins(s: Session) -> int:
    from pipeline.hooks.check import run_checks

    return run_checks(s.plugins(), s.args.names, s.console)


COMMANDS = {"run": cmd_run, "status": cmd_status, "config": cmd_config, "cache": cmd_cache,
            "plugins": cmd_plugins, "predict": cmd_predict, "check-plugins": cmd_check_plugins}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed on one line
        return exc.code if isinstance(exc.code, int) else 2
    try:
        session = Session(args)
        with warnings.catch_warnings(), sigterm_stops_cleanly():
            warnings.showwarning = _show_warning
            return COMMANDS[args.command](session)
    except PipelineError as exc:
        if args.debug:
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated)
        if args.debug:
            raise
        how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        print(f"{how}: stopped cleanly; completed stages stay cached, re-run to continue", file=sys.stderr)
        return getattr(exc, "exit_code", 130)
    except Exception as exc:  # a bug: keep it short unless asked
        if args.debug:
            raise
        print(f"internal error: {type(exc).__name__}: {_one_line(exc)} (re-run with --debug for the traceback)",
              file=sys.stderr)
        return 3


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """A library warning as one line on stderr, without the source line Python adds."""
    print(f"warning: {category.__name__}: {_one_line(message)}", file=sys.stderr)


def _one_line(exc: BaseException | Warning | str) -> str:
    """The message of ``exc`` on one line (messages of wrapped libraries may hold newlines)."""
    return " ".join(str(exc).split())

"""The command line: the shared options, the session, and ``main``; each command is a module of
:mod:`pipeline.commands`.

User mistakes (:class:`PipelineError`) end with one line and exit 2 (command
line, config, plugin names) or 1 (data, model files, the run itself); other
exceptions are bugs: a short line, or the traceback with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
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


def _command_modules() -> dict[str, Any]:
    """``{command name: module}`` of :data:`pipeline.commands.COMMANDS`."""
    from pipeline.commands import COMMANDS

    modules = [importlib.import_module(f"pipeline.commands.{name}") for name in COMMANDS]
    return {module.NAME: module for module in modules}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    common = _common_options()
    parser = _Parser(prog="pipeline", description="Train a NumPy MLP on MNIST "
                     "through cached, pluggable stages.")
    parser.add_argument("--version", action="version", version=f"pipeline {__import__('pipeline').__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _command_modules().values():
        module.add_parser(sub, common)
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
            return _command_modules()[args.command].run(session)
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

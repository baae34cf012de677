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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError, Terminated, sigterm_stops_cleanly


#: The value of ``--preset`` given without a name: list the presets.
LIST_PRESETS = ""


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error instead of the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {self.prog}: {message} (see `{self.prog} --help`)\n")


class _HelpFormatter(argparse.HelpFormatter):
    """Descriptions wrapped as usual; an epilog of examples kept line for line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


@dataclass(frozen=True)
class _Shared:
    """One option every command may take, on either side of the command name."""

    flags: tuple[str, ...]
    dest: str
    group: str
    kwargs: dict[str, Any]

    @property
    def action(self) -> str:
        return self.kwargs.get("action", "store")


#: The shared options, by group; a command takes the groups named in its ``SHARED`` (default: all).
SHARED = (
    _Shared(("--config",), "config", "config", dict(metavar="FILE", help="TOML config file "
            "(default: ./pipeline.toml if present; `pipeline init` writes one)")),
    _Shared(("--preset",), "preset", "config", dict(metavar="NAME", nargs="?", const=LIST_PRESETS,
            help="named settings applied under the config file (e.g. seed, wide); alone: list them")),
    _Shared(("--set",), "sets", "config", dict(metavar="KEY=VALUE", action="append", help="override one key, "
            "value parsed as TOML (repeatable), e.g. --set train.lr=0.05")),
    _Shared(("--cache-dir",), "cache_dir", "cache", dict(metavar="DIR", help="cache directory (default: "
            "$PIPELINE_CACHE_DIR or ~/.cache/pipeline)")),
    _Shared(("-p",), "plugin_opts", "plugins", dict(metavar="no:NAME", action="append",
            help="block a plugin by name (-p no:NAME), as pytest does")),
    _Shared(("--trace-hooks",), "trace_hooks", "plugins", dict(action="store_true", help="print every hook call")),
    _Shared(("-q", "--quiet"), "quiet", "output", dict(action="store_true", help="print only warnings and errors")),
    _Shared(("--debug",), "debug", "output", dict(action="store_true", help="show tracebacks")),
)
_GROUP_TITLES = {"config": "configuration", "cache": "cache", "plugins": "plugins", "output": "output"}
_TOP = "_top_"  # dest prefix of a shared option given before the command


def _common_options(groups: Sequence[str] = tuple(_GROUP_TITLES), top: bool = False) -> argparse.ArgumentParser:
    """A parent parser with the shared options of ``groups`` (``top``: before the command, no defaults)."""
    common = _Parser(add_help=False)
    sections = {g: common.add_argument_group(_GROUP_TITLES[g]) for g in _GROUP_TITLES if g in groups}
    for opt in SHARED:
        if opt.group in sections:
            default = None if top else ([] if opt.action == "append" else
                                        False if opt.action == "store_true" else None)
            # before the command an option always takes its value: the next word may be the command
            kwargs = {k: v for k, v in opt.kwargs.items() if not (top and k in ("nargs", "const"))}
            sections[opt.group].add_argument(*opt.flags, dest=(_TOP if top else "") + opt.dest, default=default,
                                             **kwargs)
    return common


class _TopParser(_Parser):
    """The ``pipeline`` parser: shared options given before the command count as if given after it."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> tuple[argparse.Namespace, list[str]]:
        ns, rest = super().parse_known_args(args, namespace)
        for opt in SHARED:
            before = vars(ns).pop(_TOP + opt.dest, None)
            if not hasattr(ns, opt.dest):  # the command does not take it
                if before not in (None, False):
                    self.error(f"{opt.flags[-1]} does not apply to `{ns.command}`")
                setattr(ns, opt.dest, [] if opt.action == "append" else False if opt.action == "store_true"
                        else None)
            elif before not in (None, False):
                after = getattr(ns, opt.dest)
                merged = {"append": lambda: before + after, "store_true": lambda: True}.get(
                    opt.action, lambda: after if after is not None else before)()
                setattr(ns, opt.dest, merged)  # before the command first: later --set wins
        return ns, rest


def _command_modules() -> dict[str, Any]:
    """``{command name: module}`` of :data:`pipeline.commands.COMMANDS`."""
    from pipeline.commands import COMMANDS

    modules = [importlib.import_module(f"pipeline.commands.{name}") for name in COMMANDS]
    return {module.NAME: module for module in modules}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command; shared options go on either side of the command."""
    parser = _TopParser(prog="pipeline", parents=[_common_options(top=True)], formatter_class=_HelpFormatter,
                        description="Train a NumPy MLP on MNIST through cached, pluggable stages. "
                        "The shared options may come before or after the command.",
                        epilog="examples:\n  python -m pipeline run\n"
                        "  python -m pipeline --set train.lr=0.05 run\n  python -m pipeline run --help")
    parser.add_argument("--version", action="version", version=f"pipeline {__import__('pipeline').__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for module in _command_modules().values():
        command = module.add_parser(sub, _common_options(getattr(module, "SHARED", tuple(_GROUP_TITLES))))
        command.formatter_class = _HelpFormatter
        if getattr(module, "DESCRIPTION", None):
            command.description = module.DESCRIPTION
        if getattr(module, "EXAMPLES", None):
            command.epilog = "examples:\n" + "".join(f"  {line}\n" for line in module.EXAMPLES)
    return parser


class Session:
    """What every command needs, built lazily from the parsed options."""

    def __init__(self, args: argparse.Namespace):
        from rich.console import Console

        self.args = args
        self.console = Console(quiet=args.quiet)
        self.err = Console(stderr=True)
        self._plugins: Any = None

    def config(self) -> Any:
        from pipeline.config import load_config

        # plugins may declare config sections of their own
        return load_config(self.args.config, self.args.preset, self.args.sets,
                           plugin_sections=self.plugins().sections)

    def cache(self) -> Any:
        from pipeline.cache.store import Cache, default_cache_dir

        return Cache(Path(self.args.cache_dir) if self.args.cache_dir else default_cache_dir())

    def plugins(self) -> Any:
        """The loaded plugins (loaded once per command)."""
        if self._plugins is None:
            self._plugins = self._load_plugins()
        return self._plugins

    def _load_plugins(self) -> Any:
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
            if args.preset is not None and _list_presets(args.preset):
                return 0
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
    except OSError as exc:  # a full or read-only disk where no writer said where: the file the OS names
        from pipeline.cache.atomic import disk_error

        error = disk_error(exc, exc.filename)
        if args.debug or error is None:
            return _internal_error(args, exc)
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except Exception as exc:  # a bug: keep it short unless asked
        return _internal_error(args, exc)


def _internal_error(args: argparse.Namespace, exc: Exception) -> int:
    """A bug: one short line, or the traceback with ``--debug``."""
    if args.debug:
        raise exc
    print(f"internal error: {type(exc).__name__}: {_one_line(exc)} (re-run with --debug for the traceback)",
          file=sys.stderr)
    return 3


def _list_presets(name: str) -> bool:
    """For ``--preset`` alone, list the presets and return True (the command does not run).

    An unknown name lists them too, then raises the one-line ConfigError (exit 2).
    """
    from pipeline.config import build_config
    from pipeline.presets import PRESETS, preset_listing

    if name in PRESETS:
        return False
    sys.stdout.write(preset_listing())
    build_config(preset=name or None)  # raises for an unknown name, naming the close match
    return True


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """A library warning as one line on stderr, without the source line Python adds."""
    print(f"warning: {category.__name__}: {_one_line(message)}", file=sys.stderr)


def _one_line(exc: BaseException | Warning | str) -> str:
    """The message of ``exc`` on one line (messages of wrapped libraries may hold newlines)."""
    return " ".join(str(exc).split())

"""One module per command, as DVC's ``dvc/commands/``.

Each module defines ``NAME``, ``add_parser(subparsers, common)`` (its options,
with the shared ``common`` ones as a parent) and ``run(session) -> int`` (its
exit status). Heavy imports happen inside ``run``, so ``--help`` and a fully
cached ``run`` stay fast. :data:`COMMANDS` is the order ``--help`` lists them in.
"""

#: Module names under ``pipeline.commands``, in the order ``--help`` lists them.
COMMANDS = ("run", "status", "config", "init", "cache", "plugins", "predict", "report", "check_plugins", "sweep",
            "runs")

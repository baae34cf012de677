"""``pipeline check-plugins [NAME ...]``: verify registered plugins numerically."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "check-plugins"
SHARED = ("config", "plugins", "output")  # config: --set train.optimizer_options / schedule_options
DESCRIPTION = ("Run numerical conformance checks on the registered activations (shape and dtype, inputs "
               "untouched, derivative against finite differences, large inputs), initializers (shape, "
               "determinism, scale), optimizers (update in place, lr used, grads untouched, convergence) and "
               "schedules (values, proportional to lr), or only on the implementations or plugins named, "
               "with the options of --set train.optimizer_options / train.schedule_options, and print what "
               "was expected and measured. Exit 1 when any check fails.")
EXAMPLES = ("python -m pipeline check-plugins", "python -m pipeline check-plugins swish rmsprop",
            "python -m pipeline check-plugins momentum --set 'train.optimizer_options={nesterov = true}'")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    check = sub.add_parser(NAME, parents=[common], help="verify registered plugins numerically")
    check.add_argument("names", nargs="*", metavar="NAME", help="only these implementations")
    return check


def run(s: Any) -> int:
    from pipeline.hooks.check import run_checks

    # the options of --set / the config file: train.optimizer_options, train.schedule_options
    return run_checks(s.plugins(), s.args.names, s.console, s.config())

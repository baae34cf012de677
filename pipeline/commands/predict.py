"""``pipeline predict MODEL INPUT``: classify images with an exported model."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "predict"
SHARED = ("plugins", "output")  # a model file carries its own config and needs no cache
DESCRIPTION = ("Classify images with an exported model (model.npz and model.json, as written by `run`): "
               "prints the predicted class and its probability per image. The images must have the "
               "model's size.")
EXAMPLES = ("python -m pipeline predict runs/latest images.idx3-ubyte",
            "python -m pipeline predict runs/latest digits.npy --limit 0")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    predict = sub.add_parser(NAME, parents=[common], help="classify images with an exported model")
    predict.add_argument("model", help="model.npz, or a run directory holding model.npz and model.json")
    predict.add_argument("input", help="images: IDX file (.gz ok), .npz (x_test or the only array) or .npy")
    predict.add_argument("--limit", type=int, default=20, help="rows to print (default 20; 0 = all)")
    return predict


def run(s: Any) -> int:
    from pipeline.predict import run_predict

    return run_predict(s.args.model, s.args.input, s.args.limit, s.console, s.plugins())

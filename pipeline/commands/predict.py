"""``pipeline predict MODEL INPUT``: classify images with an exported model."""

from __future__ import annotations

import argparse
from typing import Any

NAME = "predict"
#: --format choices.
FORMATS = ("table", "csv", "json")
SHARED = ("plugins", "output")  # a model file carries its own config and needs no cache
DESCRIPTION = ("Classify images with an exported model: a run directory (runs/latest is the newest run "
               "that wrote a model), its model.npz, or a model.onnx. Reads IDX, .npy, .npz, PNG/JPEG files, "
               "a directory or a glob of them; converts only what is unambiguous (saying each step) and "
               "refuses the rest in one line. --labels adds accuracy and the confusion matrix.")
EXAMPLES = ("python -m pipeline predict runs/latest images.idx3-ubyte",
            "python -m pipeline predict runs/latest 'drawings/*.png' --format json",
            "python -m pipeline predict runs/latest t10k-images-idx3-ubyte.gz --labels t10k-labels-idx1-ubyte.gz")


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    predict = sub.add_parser(NAME, parents=[common], help="classify images with an exported model")
    predict.add_argument("model", help="a run directory (e.g. runs/latest), its model.npz, or a model.onnx")
    predict.add_argument("input", help="images: IDX file (.gz ok), .npy (a stack or one 2-D image), .npz "
                         "(x_test or the only array), a PNG/JPEG file, a directory of them, or a quoted glob")
    predict.add_argument("--labels", metavar="FILE", help="true labels (IDX or .npy): print accuracy and "
                         "the confusion matrix")
    predict.add_argument("--format", dest="fmt", choices=FORMATS, default="table",
                         help="table (default), csv or json (a list of objects with label and probability)")
    predict.add_argument("--limit", type=int, default=20, help="table rows to print (default 20; 0 = all)")
    return predict


def run(s: Any) -> int:
    from pipeline.predict.command import run_predict

    a = s.args
    plugins = None if a.model.endswith(".onnx") else s.plugins()
    return run_predict(a.model, a.input, console=s.console, err=s.err, plugins=plugins, limit=a.limit,
                       labels=a.labels, fmt=a.fmt, quiet=a.quiet)

"""Lifecycle plugin ``pipeline-extras-epochs``: a live CSV log of training, one row per epoch.

Rows are appended, while ``train`` runs, to the file named by the environment
variable ``PIPELINE_EXTRAS_EPOCH_CSV`` (nothing is written when it is unset)::

    epoch,epochs,lr,loss,acc,val_loss,val_acc
    1,20,0.2,0.3121,0.9102,0.1803,0.9465

It only observes, so it is in no cache key: a cached ``train`` writes no rows.
"""

from __future__ import annotations

import os

from pipeline import hookimpl

#: Environment variable naming the CSV file.
CSV_ENV = "PIPELINE_EXTRAS_EPOCH_CSV"
COLUMNS = ("epoch", "epochs", "lr", "loss", "acc", "val_loss", "val_acc")


@hookimpl
def after_epoch(epoch, epochs, lr, loss, acc, val_loss, val_acc) -> None:
    """Append one row (and the header, to a new file)."""
    path = os.environ.get(CSV_ENV)
    if not path:
        return
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    values = (epoch, epochs, lr, loss, acc, val_loss, val_acc)
    with open(path, "a", encoding="utf-8") as f:
        if new:
            f.write(",".join(COLUMNS) + "\n")
        f.write(",".join("" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)
                         for v in values) + "\n")

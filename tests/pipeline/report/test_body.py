"""Every run writes report.html and its pictures; what the header says; off, non-image inputs, cached runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.report.body import FILES
from tests.datasets import write_npz_dataset
from tests.pipeline.report.pages import assert_complete_run_report, read


def test_a_run_writes_a_report_with_every_section_and_picture(cli, fast_sets):
    result = cli("run", "-q", *fast_sets, "--out", "out")
    assert result.code == 0, result.err
    page = assert_complete_run_report(Path("out"))
    record = json.loads(Path("out/run.json").read_text())
    text = page.text
    m = record["metrics"]
    for value in (f"{100 * m['test_accuracy']:.2f} %", f"{m['test_loss']:.4f}", f"{100 * m['val_accuracy']:.2f} %",
                  f"{m['val_loss']:.4f}"):
        assert value in text
    assert record["data"]["source"] in text and "6×6 pixels" in text and "30 test images" in text
    assert "train.epochs 3 20" in text and "model.hidden [16] [64]" in text   # key, value, default
    assert "train.lr" not in text                                               # a default: not listed
    for stage in record["stages"]:
        assert f"{stage['name']} ran" in text
    assert {"run.json", "metrics.json", "model.json", "model.npz", *FILES} <= set(page.links)
    assert "misclassified" in text and "Each tile is one hidden unit" in text


def test_a_cached_rerun_draws_nothing_and_writes_the_same_pictures(cli, fast_sets):
    assert cli("run", "-q", *fast_sets, "--out", "a").code == 0
    assert cli("run", "-q", *fast_sets, "--out", "b").code == 0
    record = json.loads(Path("b/run.json").read_text())
    assert {s["status"] for s in record["stages"]} == {"cached"}
    assert_complete_run_report(Path("b"))
    for name in FILES:
        assert Path("a", name).read_bytes() == Path("b", name).read_bytes()
    text = read(Path("b/report.html")).text
    assert "train cached" in text and "report cached" in text


def test_report_enabled_false_writes_no_page_and_removes_an_old_one(cli, fast_sets):
    assert cli("run", "-q", *fast_sets, "--out", "out").code == 0
    assert Path("out/report.html").exists()
    assert cli("run", "-q", *fast_sets, "--out", "out", "--set", "report.enabled=false").code == 0
    assert not Path("out/report.html").exists()
    assert not any(Path("out", name).exists() for name in FILES)
    assert Path("out/model.npz").exists() and Path("out/run.json").exists()


def test_inputs_that_are_not_images_get_a_note_instead_of_pictures(cli, tmp_path):
    data = write_npz_dataset(tmp_path / "flat.npz", shape=(1, 12), n_train_per_class=30)
    result = cli("run", "-q", "--set", f"data.source=npz:{data}", "--set", "train.epochs=2", "--set",
                 "model.hidden=[8]", "--out", "out")
    assert result.code == 0, result.err
    page = read(Path("out/report.html"))
    assert "rows of 12 values, not images" in page.text
    assert not Path("out/weights.png").exists() and not Path("out/mistakes.png").exists()
    assert len(page.images) == 3 and Path("out/curves.png").exists()


def test_early_stopping_and_the_best_epoch_are_named(cli, fast_sets):
    result = cli("run", "-q", *fast_sets, "--set", "train.epochs=40", "--set", "train.patience=1",
                 "--set", "train.lr=0.5", "--out", "out")
    assert result.code == 0, result.err
    history = json.loads(Path("out/model.json").read_text())["history"]
    text = read(Path("out/report.html")).text
    assert f"The lowest validation loss was at epoch {history['best_epoch']}." in text
    assert history["stopped_early"] and f"ended training at epoch {history['epoch'][-1]}" in text
    assert np.isfinite(history["val_loss"]).all()

"""The sweep page, built from real tiny runs and a sweep.json in the sweep command's schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import DataError
from pipeline.report.sweep import build_sweep_report
from tests.pipeline.report.pages import read


def make_sweep(cli, fast_sets, root: Path) -> list[dict]:
    """2 learning rates x 2 seeds of real runs, and a member that failed; returns the members written."""
    members = []
    for i, (lr, seed) in enumerate([(0.05, 1), (0.05, 2), (0.3, 1), (0.3, 2)]):
        out = root / f"member-{i}"
        result = cli("run", "-q", *fast_sets, "--set", f"train.lr={lr}", "--set", f"train.seed={seed}",
                     "--out", str(out))
        assert result.code == 0, result.err
        record = json.loads((out / "run.json").read_text())
        members.append({"overrides": {"train.lr": lr, "train.seed": seed}, "status": "ok",
                        "run_dir": out.name, "metrics": record["metrics"], "seconds": 1.5 + i, "error": ""})
    members.append({"overrides": {"train.lr": 1e30, "train.seed": 1}, "status": "failed", "run_dir": "member-4",
                    "metrics": {}, "seconds": 0.2, "error": "the training loss became nan in epoch 1"})
    (root / "sweep.json").write_text(json.dumps({"members": members}))
    return members


def test_the_sweep_page_overlays_curves_plots_each_key_and_links_every_member(cli, fast_sets):
    root = Path("sweep")
    members = make_sweep(cli, fast_sets, root)
    page_path = build_sweep_report(root)
    assert page_path == root / "report.html"
    page = read(page_path)
    assert page.sections == ["curves", "against", "table"]
    assert page.alts == ["validation curves of every member", "validation accuracy against train.lr"]
    assert all(png.startswith(b"\x89PNG") for png in page.images)
    member_links = [link for link in page.links if link.endswith("report.html")]
    assert sorted(member_links) == [f"member-{i}/report.html" for i in range(4)]   # the failed one has none
    assert all((root / link).is_file() for link in member_links)
    text = page.text
    assert "the training loss became nan in epoch 1" in text and "failed" in text
    ok = [m for m in members if m["status"] == "ok"]
    best = max(ok, key=lambda m: m["metrics"]["val_accuracy"])
    assert f"Best: lr={best['overrides']['train.lr']} seed={best['overrides']['train.seed']}." in text
    for lr in (0.05, 0.3):   # mean ± sample std over the two seeds of each point
        values = [100 * m["metrics"]["val_accuracy"] for m in ok if m["overrides"]["train.lr"] == lr]
        mean = sum(values) / 2
        std = (sum((v - mean) ** 2 for v in values)) ** 0.5
        assert f"{lr} {mean:.2f} ± {std:.2f} % 2" in text


def test_a_sweep_of_seeds_only_says_so_and_a_missing_record_is_one_line(tmp_path):
    with pytest.raises(DataError, match="has no sweep.json"):
        build_sweep_report(tmp_path)
    (tmp_path / "sweep.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="is not a sweep record"):
        build_sweep_report(tmp_path)
    members = [{"overrides": {"train.seed": s}, "status": "ok", "run_dir": f"gone-{s}",
                "metrics": {"val_accuracy": 0.5 + s / 100}, "seconds": 1.0, "error": ""} for s in (1, 2)]
    (tmp_path / "sweep.json").write_text(json.dumps({"members": members}))
    page = read(build_sweep_report(tmp_path))
    assert "Only the seed varies" in page.text and "No member has finished with a training history" in page.text
    assert "52.00 %" in page.text and page.images == []

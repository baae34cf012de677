"""``pipeline report RUN [RUN ...]``: a run's report rebuilt from its files, and a page comparing runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.report.body import FILES
from tests.pipeline.report.pages import assert_complete_run_report, read


def test_rebuilding_a_run_draws_the_same_pictures_from_its_files_and_the_cache(cli, fast_sets):
    assert cli("run", "-q", *fast_sets, "--out", "out").code == 0
    drawn = {name: Path("out", name).read_bytes() for name in FILES}
    for name in (*FILES, "report.html"):
        Path("out", name).unlink()
    result = cli("report", "out")
    assert result.code == 0 and result.out.strip() == "wrote out/report.html", result.err
    assert_complete_run_report(Path("out"))
    assert {name: Path("out", name).read_bytes() for name in FILES} == drawn   # the stage's very bytes


def test_rebuilding_elsewhere_writes_only_that_page(cli, fast_sets):
    assert cli("run", "-q", *fast_sets, "--out", "out", "--set", "report.enabled=false").code == 0
    assert cli("report", "out", "--out", "elsewhere.html").code == 0
    assert not any(Path("out", name).exists() for name in FILES)   # the run directory is left alone
    assert len(read(Path("elsewhere.html")).images) == len(FILES)


def test_without_the_cache_the_gallery_is_explained_and_the_rest_drawn(cli, fast_sets, cache_dir):
    assert cli("run", "-q", *fast_sets, "--out", "out").code == 0
    shutil.rmtree(cache_dir)
    assert cli("report", "out").code == 0
    page = read(Path("out/report.html"))
    assert "no longer in the cache" in page.text
    assert len(page.images) == len(FILES) - 1 and not Path("out/mistakes.png").exists()


def test_several_runs_make_one_page_with_what_differs(cli, fast_sets):
    assert cli("run", "-q", *fast_sets, "--out", "runs/a").code == 0
    assert cli("run", "-q", *fast_sets, "--set", "train.lr=0.05", "--out", "runs/b").code == 0
    result = cli("report", "runs/a", "runs/b", "--out", "pages/both.html")
    assert result.code == 0 and "pages/both.html" in result.out, result.err
    page = read(Path("pages/both.html"))
    assert page.sections == ["metrics", "config", "curves"] and len(page.images) == 1
    assert "train.lr \"auto\" 0.05" in page.text and "train.epochs" not in page.text   # only what differs
    assert "../runs/a/report.html" in page.links and "../runs/b/report.html" in page.links
    assert all((Path("pages") / link).resolve().exists() for link in page.links if not link.startswith("#"))


def test_something_that_is_not_a_run_is_named_in_one_line(cli, tmp_path):
    Path("empty").mkdir()
    for args in (["report", "missing"], ["report", "empty"]):
        result = cli(*args)
        assert result.code == 1 and result.err.count("\n") == 1 and f"'{args[1]}'" in result.err, result.err
    assert cli("report").code == 2


def test_a_page_that_cannot_be_written_is_named_in_one_line(cli, fast_sets):
    assert cli("run", "-q", *fast_sets, "--out", "out").code == 0
    Path("blocker").write_text("a file, not a directory")
    result = cli("report", "out", "--out", "blocker/page.html")
    assert result.code == 1 and result.err.startswith("error: cannot write the report 'blocker/page.html'"), result.err

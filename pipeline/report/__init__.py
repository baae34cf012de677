"""Reports: what a run learned, as pictures (matplotlib, Agg) in one self-contained HTML page.

- :mod:`pipeline.report.body` draws a run's sections (used by the ``report`` stage, so the
  pictures are cached like any stage output, and by ``pipeline report RUN``);
- :mod:`pipeline.report.page` wraps them with the run's header (no matplotlib: a cached re-run
  only assembles text);
- :mod:`pipeline.report.compare` and :mod:`pipeline.report.sweep` build the pages of several runs
  and of a sweep directory.

Pages embed their pictures as PNG data URIs and forbid every network fetch with a
Content-Security-Policy, so they open from ``file://`` offline, print, and need no script.
"""

"""The README's screenshot of a run's report, taken with headless Chromium (the browser tests' driver).

    python benchmarks/screenshot.py --data idx:path/to/mnist          # trains, then docs/report.png
    python benchmarks/screenshot.py --run runs/latest                  # an existing run

Checks what the browser tests check (every picture decodes, nothing logged or fetched) before
writing the picture.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.browser import CHECK, Chromium  # noqa: E402


def train(source: str, work: Path) -> Path:
    """A default run on ``source`` in a fresh cache; its run directory."""
    out = work / datetime.now().strftime("%Y%m%d-%H%M%S")   # named as `pipeline run` names a run
    env = {**os.environ, "PIPELINE_CACHE_DIR": str(work / "cache"), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "pipeline", "run", "-q", "--set", f"data.source={source}",
                    "--out", str(out)], env=env, check=True, cwd=ROOT)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data", help="data.source of a fresh default run")
    where.add_argument("--run", type=Path, help="an existing run directory")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    parser.add_argument("--width", type=int, default=1100, help="window width in CSS pixels")
    parser.add_argument("--height", type=int, default=2300, help="how much of the page, from the top")
    args = parser.parse_args(argv)
    run = args.run or train(args.data, Path(tempfile.mkdtemp(prefix="screenshot-")))
    with Chromium() as browser:
        browser.open(run / "report.html", width=args.width, height=args.height)
        seen = browser.evaluate(CHECK)
        broken = [i["alt"] for i in seen["images"] if not (i["complete"] and i["width"] > 0)]
        if broken or browser.problems():
            sys.exit(f"the page did not render cleanly: broken pictures {broken}, problems {browser.problems()}")
        png = browser.screenshot(full_page=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(png)
    print(f"wrote {args.out} ({len(png) // 1024} KB) of {run / 'report.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

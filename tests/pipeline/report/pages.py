"""Reading the report pages back in the tests: sections, embedded pictures, links, text."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from pipeline.report.body import FILES, SECTIONS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Page(HTMLParser):
    """The parts of a page the tests look at."""

    sections: list[str] = field(default_factory=list)
    images: list[bytes] = field(default_factory=list)
    alts: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    other_sources: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "section":
            self.sections.append(attrs["id"])
        elif tag == "img":
            prefix = "data:image/png;base64,"
            if attrs["src"].startswith(prefix):
                self.images.append(base64.b64decode(attrs["src"][len(prefix):]))
                self.alts.append(attrs.get("alt", ""))
            else:
                self.other_sources.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])
        elif tag in ("link", "script", "iframe", "object", "embed"):
            self.other_sources.append(tag)

    def handle_data(self, data):
        self.words.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.words).split())


def read(path: Path) -> Page:
    page = Page()
    page.feed(Path(path).read_text(encoding="utf-8"))
    return page


def assert_complete_run_report(run_dir: Path) -> Page:
    """Every section and picture is there: the PNG files beside the page are the ones it embeds."""
    page = read(run_dir / "report.html")
    assert page.sections == ["config", "stages"] + [anchor for anchor, _ in SECTIONS]
    pngs = [(run_dir / name).read_bytes() for name in FILES]
    assert all(png.startswith(PNG_SIGNATURE) and len(png) > 1000 for png in pngs)
    assert page.images == pngs and all(page.alts)
    assert page.other_sources == []           # nothing fetched: no external image, script or stylesheet
    return page

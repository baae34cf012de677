"""HTML pieces of every report page: escaping, embedded pictures, tables, the page shell and its style.

Plain strings, no template engine: the pages are small and fixed, and this keeps the
cached path free of imports.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape

#: No fetch of any kind: pictures are data URIs, the style is inline, and there is no script.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 18px 0 6px; }
p { margin: 6px 0; }
a { color: var(--accent); }
.muted, figcaption { color: var(--muted); font-size: 0.9rem; }
code { font: 0.88em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--panel);
       padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
nav { margin: 12px 0 4px; display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: 0.92rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: var(--panel); }
.card .label { color: var(--muted); font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; }
.card .value { font-size: 1.5rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 8px 28px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 6px 0; }
th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { font-weight: 600; }
.failed { color: #cf222e; }
figure { margin: 8px 0 20px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
.note { border-left: 4px solid var(--line); background: var(--panel); padding: 8px 12px; margin: 8px 0; }
.bar { display: inline-block; height: 0.7em; background: var(--accent); border-radius: 2px; vertical-align: middle; }
@media (max-width: 600px) { main { padding: 14px 10px 32px; } .card .value { font-size: 1.25rem; } }
@media print {
  body { font-size: 11pt; } main { max-width: none; padding: 0; } nav { display: none; }
  a { color: inherit; text-decoration: none; }
  section, figure, table, .cards { break-inside: avoid; } h2 { break-after: avoid; }
}
"""


def shell(title: str, body: str) -> str:
    """A whole page: ``title`` in the tab, ``body`` (HTML) inside ``<main>``."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")


def data_uri(png: bytes) -> str:
    """``png`` as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def png_size(png: bytes) -> tuple[int, int]:
    """``(width, height)`` in pixels, from the PNG's IHDR chunk."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def figure(png: bytes, alt: str, caption: str = "") -> str:
    """An embedded picture with its alt text and caption (HTML); the size lets the page lay out before decoding."""
    width, height = png_size(png)
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (f"<figure><img src=\"{data_uri(png)}\" alt=\"{escape(alt)}\" width=\"{width}\" "
            f"height=\"{height}\">{cap}</figure>")


def section(anchor: str, title: str, content: str) -> str:
    """A titled section that the page's table of contents links to as ``#anchor``."""
    return f"<section id=\"{anchor}\">\n<h2>{escape(title)}</h2>\n{content}\n</section>\n"


def note(text: str) -> str:
    """A short remark in place of something that cannot be shown (``text`` is HTML)."""
    return f"<p class=\"note\">{text}</p>"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = (),
          row_classes: Sequence[str] | None = None) -> str:
    """A table of already escaped HTML cells; columns in ``numeric`` are right-aligned."""
    numeric = set(numeric)
    right = ' class="num"'

    def cells(tag: str, values: Sequence[str]) -> str:
        return "".join(f"<{tag}{right if i in numeric else ''}>{v}</{tag}>" for i, v in enumerate(values))

    body = []
    for i, row in enumerate(rows):
        cls = f" class=\"{row_classes[i]}\"" if row_classes and row_classes[i] else ""
        body.append(f"<tr{cls}>{cells('td', row)}</tr>")
    return (f"<div class=\"scroll\"><table><thead><tr>{cells('th', header)}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def cards(items: Iterable[tuple[str, str]]) -> str:
    """Headline numbers as ``(label, value)`` cards."""
    inner = "".join(f"<div class=\"card\"><div class=\"label\">{escape(label)}</div>"
                    f"<div class=\"value\">{escape(value)}</div></div>" for label, value in items)
    return f"<div class=\"cards\">{inner}</div>"


def nav(links: Iterable[tuple[str, str]]) -> str:
    """The table of contents: ``(anchor, title)`` pairs."""
    return "<nav>" + "".join(f"<a href=\"#{a}\">{escape(t)}</a>" for a, t in links) + "</nav>"


def percent(value: float | None, digits: int = 2) -> str:
    """``0.9812`` -> ``"98.12 %"``; None -> an em dash."""
    return "—" if value is None else f"{100 * value:.{digits}f} %"


def number(value: float | None, digits: int = 4) -> str:
    """A loss or another float with ``digits`` decimals; None -> an em dash."""
    return "—" if value is None else f"{value:.{digits}f}"


def value_text(value: object) -> str:
    """A config value as the TOML-ish text a user types after ``--set``, escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return escape(f'"{value}"')
    return escape(str(value).replace(" ", "")) if isinstance(value, (list, tuple)) else escape(str(value))

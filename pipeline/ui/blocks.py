"""Plain indented blocks instead of wide tables: readable at 80 columns, in a pipe and in a log.

Long values wrap under their own column (``textwrap``), so no name or path is
ever cut with an ellipsis the way a squeezed table cell is.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

#: Width assumed when the console does not know its own (a pipe).
PLAIN_WIDTH = 80


def field(console: Console, label: str, value: str, indent: int = 2, label_width: int = 12,
          style: str = "") -> None:
    """Print ``label  value``, the value wrapped under itself at the console's width.

    A single word longer than the line (a path) is kept whole rather than broken.
    """
    lead = " " * indent + label.ljust(label_width) + " "
    width = max(console.width or PLAIN_WIDTH, len(lead) + 20)
    lines = textwrap.wrap(value, width=width, initial_indent=lead, subsequent_indent=" " * len(lead),
                          break_long_words=False, break_on_hyphens=False) or [lead.rstrip()]
    for line in lines:
        text = escape(line)
        if style and line.startswith(lead):
            text = " " * indent + f"[{style}]{escape(label.ljust(label_width))}[/] " + escape(line[len(lead):])
        console.print(text, highlight=False, soft_wrap=True)


def heading(console: Console, parts: Sequence[str]) -> None:
    """One bold first word and the rest plain, on one unwrapped line."""
    first, *rest = parts
    console.print(f"[bold]{escape(first)}[/] " + escape(" ".join(rest)), highlight=False, soft_wrap=True)

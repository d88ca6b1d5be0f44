"""Plain text for a terminal or a file: aligned tables, and colour only when asked for.

The audit report of a 1M-line workbook has about 10,000 batteries and half a million text
lines. Drawing them with a layout engine (rich: markup parsing, measuring and wrapping every
line) took about 7 s per 100,000 input lines, several times the audit itself, so the text
reports are written here with string formatting: a line per entry, never wrapped (a terminal
wraps long lines itself, and a file stays greppable), colour as ANSI codes when ``color``.

Every value that comes from the input (names, ids, reasons) goes through :func:`clean`: a
control character in a cell must not move the cursor or recolour the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "magenta": "35"}
# C0 and C1 control characters and DEL, except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

Cell = str | tuple[str, str]  # text, or (text, style)


def clean(text: object) -> str:
    """``text`` with control characters removed (tab and newline are kept)."""
    value = str(text)
    return _CONTROL.sub("", value) if _CONTROL.search(value) else value


class Painter:
    """Wraps text in ANSI styles when colour is on; with colour off it returns the text."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        if not self.color or not style:
            return text
        codes = ";".join(_CODES[s] for s in style.split())
        return f"\x1b[{codes}m{text}\x1b[0m"


def table(paint: Painter, headers: Sequence[str], rows: Sequence[Sequence[Cell]], *,
          right: Sequence[str] = ()) -> list[str]:
    """Lines of a table: a bold header, columns two spaces apart, no borders.

    Columns named in ``right`` are right-aligned. A cell may carry a style, which colours its
    text but not the padding around it.
    """
    texts = [[c if isinstance(c, str) else c[0] for c in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in texts)]) for i, h in enumerate(headers)]
    aligned = [h in right for h in headers]
    last = len(headers) - 1

    def line(cells: Sequence[Cell], styles: Sequence[str]) -> str:
        parts = []
        for i, (cell, style) in enumerate(zip(cells, styles, strict=True)):
            text = cell if isinstance(cell, str) else cell[0]
            pad = " " * (widths[i] - len(text))
            shown = paint(text, style)
            if aligned[i]:
                parts.append(pad + shown)
            else:
                parts.append(shown + (pad if i < last else ""))
        return "  ".join(parts).rstrip(" ")

    out = [line(headers, ["bold"] * len(headers))]
    for row in rows:
        out.append(line(row, ["" if isinstance(c, str) else c[1] for c in row]))
    return out

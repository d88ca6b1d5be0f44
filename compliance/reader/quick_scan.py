"""The sheet scan's fast path: the exact scan's guarantees at a few byte passes per chunk.

:meth:`Package.scan_exact` reads every cell reference of a sheet (tens of millions at 1M
lines) and costs several times what the cell reader needs to load the same sheet. Workbooks
written by Excel or by a library are regular: every row and cell carries its reference, rows
come in order, and no cell lies outside the rows around it. This module checks that
regularity with substring counts and with regular expressions that only match the unusual,
and hands the sheet to the exact scan the moment anything is unusual. It works in three steps
because the cell reader may only load a sheet that is known to be safe:

1. :func:`preflight`, before the load: the part's size, CRC and absence of a DTD (it is
   inflated here for the first time); every cell numbered; the rectangle the cells can span
   (no cell beyond the largest column and row seen so far is missed: the pattern that looks
   for them matches nothing else); and the text the shared-string cells expand to.
2. :func:`findings`, while the reader loads the sheet on the other core (it releases the
   GIL): rows numbered and in order, negative shared-string indexes, error cells, formulas
   without a saved value, struck or percent cells, hidden rows and columns, merged cells, and
   the number of cells whose XML holds a value.
3. :func:`confirm`, after the load: the reader must have returned exactly that many values.
   Fewer means a value was lost (a duplicate cell, an empty ``<v/>``): the exact scan then
   names the cells.
"""

from __future__ import annotations

import re
from functools import lru_cache

from compliance.reader.package import (
    _HIDDEN_ROW,
    _REF,
    _ROW_R,
    _SST_INDEX,
    Package,
    SheetPart,
    SheetScan,
    _as_indexes,
    _hidden_columns,
    rows_out_of_order,
)

# A row tag whose first attribute is not its number (or that has none). Its cells carry their
# own references, which the reader follows, so this only matters for the findings.
_UNNUMBERED_ROW = re.compile(rb'<row(?! r=")[\s/>]')
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def preflight(package: Package, part: SheetPart, *, want_percent: bool) -> SheetScan:
    """Prove the sheet safe to load, or return the exact scan (which raises if it is not).

    The grid the reader will allocate is bounded from above: the first rows' references are
    read exactly; after that, only cells past the largest column so far or with more row digits
    than any row so far are looked for (:func:`_irregular_cells`), and those are read exactly.
    """
    max_col = ""
    max_row = 0  # largest row number seen (row tags and the cells read exactly)
    digits = 1  # cells with fewer row digits than this were not read exactly
    shared = 0
    for index, chunk in enumerate(package.iter_chunks(part)):
        last = chunk.rfind(b"<row ")
        tag = _ROW_R.match(chunk, last) if last >= 0 else None
        if tag:
            max_row = max(max_row, int(tag.group(1)))
        if index == 0:  # seed the bounds from the sheet's first rows, read exactly
            end = chunk.find(b"</row>", _SEED)
            refs = _REF.findall(chunk, 0, end if end >= 0 else len(chunk))
            max_col = max({c.decode() for c, _ in refs}, key=_column_key, default=max_col)
            max_row = max(max_row, *map(int, {r for _, r in refs}), 0)
        digits = max(digits, min(len(str(max_row)) + 1, _GRID_DIGITS))
        irregular, cells = _counts(chunk, max_col, digits)
        shared += cells
        if not irregular:
            continue
        for match in _irregular_cells(max_col, digits).finditer(chunk):
            ref = _REF.match(chunk, match.start() + 3)
            if ref is None:  # a cell without its reference: the reader numbers it itself
                return package.scan_exact(part, want_percent=want_percent)
            max_col = max(max_col, ref.group(1).decode(), key=_column_key)
            max_row = max(max_row, int(ref.group(2)))
    scan = SheetScan()
    if max_col:
        rows = max(max_row, 10 ** (digits - 1) - 1)
        package._check_grid(part, scan, 1, rows, {b"A", max_col.encode()})
    if shared:
        package.check_text_size(part, shared, lambda: _shared_indexes(package, part))
    return scan


def findings(package: Package, part: SheetPart, scan: SheetScan, *, want_percent: bool) -> None:
    """Fill ``scan`` with what the cell reader will not report (see the module docstring)."""
    if scan.complete:
        return
    styled = package.styled_pattern(want_percent=want_percent)
    last_row = 0
    for index, chunk in enumerate(package.iter_chunks(part)):
        if index == 0:
            scan.hidden_columns = _hidden_columns(chunk)
        rows = list(map(int, _ROW_R.findall(chunk)))
        if rows_out_of_order(rows, last_row) or _UNNUMBERED_ROW.search(chunk):
            scan.replace_with(package.scan_exact(part, want_percent=want_percent))
            return
        last_row = rows[-1] if rows else last_row
        if b"<v>-" in chunk and b't="s"' in chunk:
            package._check_negative_refs(part, chunk)
        if b"hidden=" in chunk:
            scan.hidden_rows.extend(map(int, _HIDDEN_ROW.findall(chunk)))
        package.cell_findings(chunk, scan, styled, want_percent=want_percent)
        scan.valued += chunk.count(b"</v>") + chunk.count(b"</is>")


def confirm(package: Package, part: SheetPart, scan: SheetScan, *, want_percent: bool,
            values: int) -> None:
    """Compare the reader's non-empty cells with the XML's; on any difference, scan exactly.

    An error cell holds a value in the XML that the reader returns as empty, so it is
    subtracted.
    """
    if scan.complete or values == scan.valued - len(scan.error_cells):
        return
    scan.replace_with(package.scan_exact(part, want_percent=want_percent))


def explain_failure(package: Package, part: SheetPart, *, want_percent: bool) -> None:
    """The reader failed on a sheet the preflight passed. The exact scan raises when the cause
    is one it refuses with a precise message (a shared-string index past the table, say);
    otherwise the caller reports the reader's own message."""
    package.scan_exact(part, want_percent=want_percent)


def _shared_indexes(package: Package, part: SheetPart):  # type: ignore[no-untyped-def]
    digits: list[bytes] = []
    for chunk in package.iter_chunks(part):
        digits.extend(_SST_INDEX.findall(chunk))
    return _as_indexes(digits)


def _column_key(letters: str) -> tuple[int, str]:
    return len(letters), letters


# Row numbers of seven digits (1,000,000 and up) are always read exactly: Excel's last row,
# 1,048,576, has seven, so no cell beyond the grid can hide among the cells not read.
_GRID_DIGITS = 7
_SEED = 64 << 10  # bytes of the first chunk whose cell references seed the bounds


def _counts(chunk: bytes, max_col: str, digits: int) -> tuple[int, int]:
    """(irregular cells, shared-string cells) in a chunk, counted by polars' regex engine.

    It runs without the GIL, beside the inflate, and needs no backtracking, so a regular sheet
    costs well under half of what Python's ``re`` would. Its pattern matches the same cells as
    :func:`_irregular_cells`, so a chunk it calls regular is regular. Text that is not UTF-8 is
    left to the byte patterns.
    """
    import polars as pl

    try:
        text = pl.Series(_row_pieces(chunk), dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.ComputeError:  # not UTF-8: the byte patterns decide
        return 1, chunk.count(b't="s"')
    row = pl.select(
        pl.lit(text).str.count_matches(_irregular_text(max_col, digits)).sum().alias("irregular"),
        pl.lit(text).str.count_matches('t="s"', literal=True).sum().alias("shared")).row(0)
    return int(row[0]), int(row[1])


_PIECES = 4


def _row_pieces(chunk: bytes) -> list[bytes]:
    """``chunk`` cut after ``</row>`` into about :data:`_PIECES` parts, so that polars spreads
    the pattern over its threads (a cell never spans a row's end, so no match is cut)."""
    step = len(chunk) // _PIECES
    pieces = []
    start = 0
    for _ in range(_PIECES - 1):
        cut = chunk.find(b"</row>", start + step)
        if cut < 0 or cut + len(b"</row>") >= len(chunk):
            break
        cut += len(b"</row>")
        pieces.append(chunk[start:cut])
        start = cut
    pieces.append(chunk[start:])
    return pieces


def _beyond(max_col: str, digits: int, digit: str) -> str:
    """Alternatives for a reference past ``max_col`` or with ``digits`` or more row digits."""
    cols = [f"[A-Z]{{{len(max_col) + 1}}}", *(a + digit for a in _after(max_col, _LETTERS))]
    return "|".join([*cols, f"[A-Z]+{digit}{{{digits}}}"])


@lru_cache(maxsize=64)
def _irregular_cells(max_col: str, digits: int) -> re.Pattern[bytes]:
    """Cell tags whose reference is not the first attribute (or is missing), whose column sorts
    after ``max_col``, or whose row has ``digits`` or more digits."""
    beyond = _beyond(max_col, digits, r"\d")
    return re.compile(rf'<c(?: r="(?:{beyond})|(?! r=")[\s/>])'.encode())


@lru_cache(maxsize=64)
def _irregular_text(max_col: str, digits: int) -> str:
    """:func:`_irregular_cells` for polars' engine, which has no look-around: ``<c`` and any
    other space or end of tag, or one space and anything but ``r="`` and a regular reference."""
    beyond = _beyond(max_col, digits, "[0-9]")
    return rf'<c(?:[>/\t\n\r\x0b\x0c]| (?:[^r]|r[^=]|r=[^"]|r="(?:{beyond})))'


def _after(text: str, alphabet: str) -> list[str]:
    """Patterns for the strings of ``text``'s length that sort after it in ``alphabet``."""
    out = []
    for i, ch in enumerate(text):
        later = alphabet[alphabet.index(ch) + 1:]
        if later:
            rest = len(text) - i - 1
            out.append(re.escape(text[:i]) + f"[{later[0]}-{later[-1]}]"
                       + (f"[{alphabet[0]}-{alphabet[-1]}]{{{rest}}}" if rest else ""))
    return out


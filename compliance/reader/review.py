"""Turn what the package scan saw into findings, and keep misread cells from being used.

The fast cell reader gives one value per cell. What it cannot say (an Excel error, a formula
never calculated, a cell or row stored twice, a hidden or struck-through row, merged cells,
control characters, a total row under the data) is reported here against the sheet, row and
column a person sees. Cells whose true value is unknown are set to empty (unknown), never
guessed, so the rules engine reports them as data gaps instead of computing from them.
"""

from __future__ import annotations

import re

import polars as pl

from compliance import findings as F
from compliance.findings import Finding, Severity, column_index, column_letter
from compliance.reader.limits import Limits
from compliance.reader.package import Package, SheetPart, SheetScan
from compliance.reader.sheets import ROW, RawSheet, has_text

# Control characters a cell may not keep (tab, line feed and carriage return are text). The
# first look for them is polars' contains_any (Aho-Corasick), twice as fast as the class.
_CONTROL_CODES = (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)
_CONTROL_CHARS = [chr(code) for code in _CONTROL_CODES]
_CONTROL = "[" + "".join(f"\\x{code:02x}" for code in _CONTROL_CODES) + "]"
_TOTAL = re.compile(r"^\s*(?:grand\s+|sub-?\s*)?totals?\b|^\s*sum\b|^\s*summe\b|^\s*insgesamt\b",
                    re.IGNORECASE)
_TOTAL_EXACT = re.compile(r"^\s*(?:grand\s+|sub-?\s*)?(?:totals?|sum)\s*:?\s*$", re.IGNORECASE)
_TOTAL_WORDS = r"(?i)total|sum|insgesamt"  # a first cell worth a closer look
_TAIL = 1024  # rows at the end of a sheet looked at first for its last full row
_NOTE_START = re.compile(r"^\s*(?:notes?|nb|n\.b\.|source|sources|comments?|remarks?|prepared|"
                         r"\*|\u2020)\b", re.IGNORECASE)


def workbook_findings(package: Package, out: list[Finding]) -> None:
    if package.macros:
        out.append(Finding.make(
            F.MACRO_WORKBOOK, "the workbook contains macros (VBA); they were not run, and every "
            "cell is read as it was last saved"))


def review_sheet(raw: RawSheet, scan: SheetScan, part: SheetPart, package: Package,
                 out: list[Finding], limits: Limits) -> RawSheet:
    """Report what the scan found in the mapped columns and data rows; null what is misread."""
    sheet = raw.actual_name
    by_letter = {letter: col for col, letter in raw.letters.items()}
    first = raw.header_row + 1
    keys = {c.name for c in raw.spec.columns if c.nonblank} | set(raw.spec.key)
    unknown: dict[int, set[str]] = {}  # row -> columns to read as unknown

    if part.state != "visible":
        out.append(Finding.make(
            F.HIDDEN_CONTENT, f"sheet '{sheet}' is hidden in Excel ({part.state}); it is read "
            "as data all the same", sheet=sheet))

    for letter, row, text in scan.error_cells:
        if letter in by_letter and row >= first:
            out.append(Finding.make(
                F.ERROR_CELL, f"{by_letter[letter]} holds the Excel error {text}; the cell is "
                "read as unknown", sheet=sheet, row=row, column=by_letter[letter],
                letter=letter, value=text))
    for letter, row in scan.formulas_without_value:
        if letter in by_letter and row >= first:
            out.append(Finding.make(
                F.FORMULA_WITHOUT_VALUE,
                f"{by_letter[letter]} holds a formula whose result was never saved (the file "
                "was written by a program that does not calculate); open and save it in Excel, "
                "or type the value", sheet=sheet, row=row,
                column=by_letter[letter], letter=letter))
    duplicated_rows: set[int] = set()
    for previous, row in scan.row_order_problems:
        duplicate = row == previous
        out.append(Finding.make(
            F.ROW_ORDER,
            f"row {row} comes after row {previous} in the file"
            + ("; the sheet holds the same row twice and only one copy can be read, so the "
               "row's values are read as unknown" if duplicate
               else "; rows are read by their numbers"),
            sheet=sheet, row=row, severity=Severity.ERROR if duplicate else Severity.WARNING))
        if duplicate and row >= first:
            duplicated_rows.add(row)
            unknown.setdefault(row, set()).update(c for c in raw.letters if c not in keys)
    for letter, row in scan.duplicate_cells:
        if row in duplicated_rows:
            continue
        column = by_letter.get(letter)
        out.append(Finding.make(
            F.DUPLICATE_CELL,
            f"cell {letter}{row} is stored twice in the file and the copies may differ; "
            + ("its value is read as unknown" if column else "it is not a contract column"),
            sheet=sheet, row=row, column=column, letter=letter))
        if column and row >= first:
            if column in keys:  # which row this is, is itself unknown: its values are too
                unknown.setdefault(row, set()).update(c for c in raw.letters if c not in keys)
            else:
                unknown.setdefault(row, set()).add(column)

    # The data rows as a set only when some row is hidden or struck (a million ints otherwise).
    data_rows = (set(raw.frame.get_column(ROW).to_list())
                 if scan.hidden_rows or scan.struck_cells else set())
    if scan.hidden_rows:
        hidden = sorted(r for r in scan.hidden_rows if r in data_rows)
        if hidden:
            out.append(Finding.make(
                F.HIDDEN_CONTENT, f"{_rows_text(hidden)} hidden in Excel but read as data",
                sheet=sheet, row=hidden[0]))
    for lo, hi in scan.hidden_columns:
        for letter, column in sorted(by_letter.items()):
            if lo <= column_index(letter) <= hi:
                out.append(Finding.make(
                    F.HIDDEN_CONTENT, f"column {letter} ({column}) is hidden in Excel but read "
                    "as data", sheet=sheet, column=column, letter=letter))
    struck: dict[int, list[str]] = {}
    for letter, row in scan.struck_cells:
        if letter in by_letter and row in data_rows:
            struck.setdefault(row, []).append(letter)
    for row in sorted(struck):
        out.append(Finding.make(
            F.STRUCK_THROUGH, f"row {row} is struck through in Excel but is read as data; "
            "delete it if it no longer applies", sheet=sheet, row=row))
    for a, r1, b, r2 in scan.merged:
        c1, c2 = column_index(a), column_index(b)
        touched = [col for letter, col in by_letter.items()
                   if c1 <= column_index(letter) <= c2]
        if touched and r2 >= first and (r1 != r2 or c1 != c2):
            out.append(Finding.make(
                F.MERGED_CELLS, f"cells {a}{r1}:{b}{r2} are merged; only {a}{r1} holds the "
                "value and the other cells are read as empty; unmerge them and fill every "
                "cell", sheet=sheet, row=r1, column=touched[0], letter=a))
    if package.recalc_on_load:
        for letter, (count, row) in sorted(scan.formula_columns.items()):
            if letter in by_letter:
                out.append(Finding.make(
                    F.STALE_FORMULA, f"column {letter} ({by_letter[letter]}) holds {count} "
                    "formula(s) and the workbook asks Excel to recalculate when opened, so "
                    "the saved results read here may be out of date; open and save the file "
                    "in Excel", sheet=sheet, row=row, column=by_letter[letter], letter=letter))

    raw = _null_cells(raw, unknown)
    raw = _clean_text(raw, out, limits)
    return _drop_trailers(raw, out)


def _rows_text(rows: list[int], limit: int = 12) -> str:
    spans: list[str] = []
    start = prev = rows[0]
    for row in [*rows[1:], None]:  # type: ignore[list-item]
        if row is not None and row == prev + 1:
            prev = row
            continue
        spans.append(f"{start}" if start == prev else f"{start}-{prev}")
        if row is not None:
            start = prev = row
    shown = ", ".join(spans[:limit]) + (" \u2026" if len(spans) > limit else "")
    return ("row " if len(rows) == 1 else "rows ") + shown + (" is" if len(rows) == 1 else
                                                              " are")


def _null_cells(raw: RawSheet, unknown: dict[int, set[str]]) -> RawSheet:
    if not unknown:
        return raw
    columns: dict[str, list[int]] = {}
    for row, cols in unknown.items():
        for col in cols:
            columns.setdefault(col, []).append(row)
    raw.frame = raw.frame.with_columns(
        pl.when(pl.col(ROW).is_in(rows)).then(None).otherwise(pl.col(col)).alias(col)
        for col, rows in columns.items() if col in raw.frame.columns)
    return raw


def _clean_text(raw: RawSheet, out: list[Finding], limits: Limits) -> RawSheet:
    """Strip control characters (reported) and read over-long cells as unknown (reported)."""
    mapped = [c for c in raw.letters if c in raw.frame.columns]
    if not mapped or raw.frame.height == 0:
        return raw
    frame = raw.frame
    # One pass decides whether anything needs a closer look. A cell with more characters than
    # the limit has at least as many bytes, and a byte length costs nothing to read.
    suspect = frame.select(pl.any_horizontal(
        (pl.col(c).str.contains_any(_CONTROL_CHARS)
         | (pl.col(c).str.len_bytes() > limits.max_cell_chars))
        .fill_null(False) for c in mapped).any()).item()
    if not suspect:
        return raw
    for col in mapped:
        letter = raw.letters[col]
        bad = frame.filter(pl.col(col).str.contains(_CONTROL).fill_null(False))
        for row, value in bad.select(ROW, col).iter_rows():
            out.append(Finding.make(
                F.CONTROL_CHARACTER, f"{col} holds invisible control characters; they are "
                "removed", sheet=raw.actual_name, row=row, column=col, letter=letter,
                value=value))
        long = frame.filter((pl.col(col).str.len_chars() > limits.max_cell_chars)
                            .fill_null(False))
        for row, value in long.select(ROW, col).iter_rows():
            out.append(Finding.make(
                F.TEXT_TOO_LONG, f"{col} holds {len(value):,} characters, more than the "
                f"{limits.max_cell_chars:,} Excel allows in a cell; it is read as unknown",
                sheet=raw.actual_name, row=row, column=col, letter=letter, value=value))
    raw.frame = frame.with_columns(
        pl.when(pl.col(c).str.len_chars() > limits.max_cell_chars).then(None)
        .otherwise(pl.col(c).str.replace_all(_CONTROL, "")).alias(c) for c in mapped)
    return raw


def _drop_trailers(raw: RawSheet, out: list[Finding]) -> RawSheet:
    """Leave out total rows, and notes written under the data, with a finding for each."""
    mapped = [c.name for c in raw.spec.columns if c.name in raw.letters]
    if not mapped or raw.frame.height == 0:
        return raw
    frame = raw.frame
    filled = pl.sum_horizontal(has_text(c).cast(pl.Int32) for c in mapped)
    keys = [c.name for c in raw.spec.columns if c.nonblank and c.name in mapped]
    complete = pl.all_horizontal(has_text(c) for c in keys) if keys else pl.lit(True)
    last_full = _last_full(frame, filled)
    # Only rows that could be a total or a note are looked at one by one. Their first filled
    # cell is the first column's unless that is blank, so the full per-row picture (every
    # column's pattern) is needed only for rows with a blank first cell, a total-like first
    # cell, or under the last full row: a superset of the candidates, filtered exactly below.
    lead = mapped[0]
    maybe = frame.filter(~has_text(lead) | pl.col(lead).str.contains(_TOTAL_WORDS).fill_null(False)
                         | (pl.col(ROW) > last_full))
    info = maybe.select(ROW, filled.alias("n"), pl.coalesce(
        pl.when(has_text(c)).then(pl.col(c)) for c in mapped)
        .alias("first"), complete.alias("complete"))
    candidates = info.filter(
        pl.col("first").str.contains(_TOTAL_WORDS).fill_null(False)
        | ((pl.col(ROW) > last_full) & (pl.col("n") == 1))).rows()
    drop: list[int] = []
    for row, n, first, whole in candidates:
        if first is None:
            continue
        if (_TOTAL_EXACT.match(first) or (not whole and _TOTAL.search(first))):
            drop.append(row)
            out.append(Finding.make(
                F.TOTAL_ROW, f"row {row} ('{_short(first)}') looks like a total, not a line; "
                "it is left out (the tool adds up the lines itself)", sheet=raw.actual_name,
                row=row, value=first))
        elif row > last_full and n == 1 and (len(first.split()) >= 3 or _NOTE_START.search(
                first)):
            drop.append(row)
            out.append(Finding.make(
                F.NOTE_ROW, f"row {row} under the data holds only a note ('{_short(first)}'); "
                "it is not read as a line", sheet=raw.actual_name, row=row, value=first))
    if drop:
        raw.frame = frame.filter(~pl.col(ROW).is_in(drop))
    return raw


def _last_full(frame: pl.DataFrame, filled: pl.Expr) -> int:
    """The last row with two or more filled cells (0 if none).

    A sheet of data ends with full rows, so its last rows are looked at first; rows are in
    sheet order, so a full row among them is the last one. Otherwise every row is looked at.
    """
    rows = frame.get_column(ROW)
    if frame.height > _TAIL and rows.is_sorted():
        found = frame.tail(_TAIL).filter(filled >= 2).get_column(ROW)
        if found.len():
            return int(found.max())  # type: ignore[arg-type]
    return int(frame.filter(filled >= 2).get_column(ROW).max() or 0)  # type: ignore[arg-type]


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


__all__ = ["column_letter", "review_sheet", "workbook_findings"]

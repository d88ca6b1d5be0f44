"""Find a sheet's header row and map its columns onto the contract."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from compliance import findings as F
from compliance.contract import HeaderIndex, Sheet, normalise_header
from compliance.findings import Finding, column_letter

ROW = "_row"  # Excel row number of each data row
HEADER_SEARCH_ROWS = 30


@dataclass(slots=True)
class RawSheet:
    """A sheet's data rows as text, one column per contract column, plus ``_row``."""

    spec: Sheet
    actual_name: str
    frame: pl.DataFrame
    letters: dict[str, str] = field(default_factory=dict)  # contract column -> Excel letter
    header_row: int = 0


def locate_columns(
    spec: Sheet, actual_name: str, raw: pl.DataFrame, absolute: list[int], out: list[Finding]
) -> RawSheet | None:
    """Map the raw text grid of a sheet (row 1 first) onto the contract's columns.

    ``absolute`` gives each grid column's 0-based sheet column index (the grid may start at a
    later column when the first columns are empty).
    """
    index = HeaderIndex.for_sheet(spec)
    required = [c.name for c in spec.columns if c.required]
    best_row, best_hits = -1, 0
    head = raw.head(HEADER_SEARCH_ROWS)
    for r, values in enumerate(head.iter_rows()):
        hits = sum(1 for v in values if v is not None and _canonical(index, v) is not None)
        if hits > best_hits:
            best_row, best_hits = r, hits
        if hits == len(required):
            break
    if best_row < 0 or best_hits < min(2, len(required)):
        out.append(Finding.make(
            F.HEADER_NOT_FOUND,
            f"no row among the first {HEADER_SEARCH_ROWS} holds the column names of sheet "
            f"'{spec.name}' (expected {', '.join(required)})", sheet=actual_name))
        return None

    header = raw.row(best_row)
    mapping: dict[str, int] = {}
    seen: dict[str, list[int]] = {}
    for pos, text in enumerate(header):
        letter = column_letter(absolute[pos])
        if text is None or not str(text).strip():
            if raw.slice(best_row + 1).get_column(raw.columns[pos]).drop_nulls().len():
                out.append(Finding.make(
                    F.BLANK_HEADER, f"column {letter} has values but no header; it is ignored",
                    sheet=actual_name, row=best_row + 1, letter=letter))
            continue
        canonical = _canonical(index, str(text))
        if canonical is not None and index.canonical(str(text)) is None:
            out.append(Finding.make(
                F.NORMALISED_VALUE,
                f"column {letter} header '{_short(text)}' read as '{canonical}' (it is spelled "
                "with look-alike or invisible characters)", sheet=actual_name,
                row=best_row + 1, column=canonical, letter=letter, value=text))
        if canonical is None:
            out.append(Finding.make(
                F.UNKNOWN_COLUMN,
                f"column {letter} '{_short(text)}' is not part of the contract and is ignored",
                sheet=actual_name, row=best_row + 1, letter=letter, value=text))
            continue
        seen.setdefault(canonical, []).append(pos)
    for canonical, positions in seen.items():
        if len(positions) > 1:
            letters = ", ".join(column_letter(absolute[p]) for p in positions)
            out.append(Finding.make(
                F.DUPLICATE_COLUMN,
                f"column '{canonical}' appears {len(positions)} times (columns {letters}); "
                "keep one and rename or delete the others", sheet=actual_name,
                row=best_row + 1, column=canonical))
            continue
        mapping[canonical] = positions[0]

    for col in spec.columns:
        if col.name in mapping or col.name in seen:
            continue
        if col.required:
            out.append(Finding.make(
                F.MISSING_COLUMN,
                f"sheet '{actual_name}' has no '{col.name}' column ({col.description})",
                sheet=actual_name, row=best_row + 1, column=col.name))
        elif col.default is not None and col.note_if_absent:
            # Only worth a note when the absence means something (recycled read as false).
            out.append(Finding.make(
                F.OPTIONAL_COLUMN_ABSENT,
                f"optional column '{col.name}' is absent"
                + (f"; read as {col.default or 'empty'}" if col.default is not None else ""),
                sheet=actual_name, column=col.name))

    if best_row > 0:
        above = raw.head(best_row)
        filled = [i + 1 for i, values in enumerate(above.iter_rows())
                  if any(v is not None and str(v).strip() for v in values)]
        if filled:
            span = f"row {filled[0]}" if len(filled) == 1 else f"rows {filled[0]}-{filled[-1]}"
            out.append(Finding.make(
                F.IGNORED_ROWS,
                f"{span} above the header (row {best_row + 1}) not read as data",
                sheet=actual_name, row=filled[0]))

    data = raw.slice(best_row + 1)
    names = raw.columns
    columns = [pl.int_range(best_row + 2, best_row + 2 + data.height, eager=True).alias(ROW)]
    for col in spec.columns:
        if col.name in mapping:
            columns.append(data.get_column(names[mapping[col.name]]).alias(col.name))
        else:
            columns.append(pl.repeat(None, data.height, dtype=pl.String, eager=True)
                           .alias(col.name))
    frame = pl.DataFrame(columns)
    used = [c.name for c in spec.columns if c.name in mapping]
    if used:  # drop rows with nothing but spaces in the contract's columns
        frame = _drop_blank_rows(frame, used)
    letters = {c: column_letter(absolute[p]) for c, p in mapping.items()}
    return RawSheet(spec, actual_name, frame, letters, best_row + 1)


def has_text(column: str) -> pl.Expr:
    """Whether a cell holds something other than spaces (false when empty), without building
    the stripped text."""
    return pl.col(column).str.contains(r"\S").fill_null(False)


def _drop_blank_rows(frame: pl.DataFrame, used: list[str]) -> pl.DataFrame:
    """``frame`` without the rows whose ``used`` cells are all empty or spaces.

    Only rows whose first column is blank can be blank, and in a filled sheet they are few, so
    the other columns are looked at for those rows alone (a million rows: one column's pattern
    instead of thirteen).
    """
    maybe = frame.filter(~has_text(used[0]))
    if maybe.height == 0:
        return frame
    blank = maybe.filter(~pl.any_horizontal(has_text(c) for c in used)).get_column(ROW)
    return frame.filter(~pl.col(ROW).is_in(blank.implode())) if blank.len() else frame


def _canonical(index: HeaderIndex, text: str) -> str | None:
    """The contract column a header names, tolerating look-alike and invisible characters."""
    from compliance.reader.lookalike import fold

    return index.canonical(text) or index.canonical(fold(text))


def find_sheet(spec: Sheet, names: list[str]) -> str | None:
    wanted = normalise_header(spec.name)
    for name in names:
        if normalise_header(name) == wanted:
            return name
    return None


def _short(text: object, limit: int = 40) -> str:
    s = str(text).replace("\n", " ")
    return s if len(s) <= limit else s[: limit - 1] + "\u2026"

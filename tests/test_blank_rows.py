"""Rows with nothing but spaces are not data; a row with its first column blank still is."""

from __future__ import annotations

from pathlib import Path

import openpyxl

import compliance
from compliance.findings import MISSING_VALUE

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo.xlsx"


def test_space_only_rows_are_dropped_and_a_row_without_its_first_cell_is_reported(
        tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(DEMO)
    ws = wb["minerals"]
    lines = ws.max_row - 1
    ws.append(["  ", " ", None, "\t", None, " ", None, None, None, None, None, None, None])
    ws.append([None, "M-99", "cobalt", 100, 1, "US", None, "US", None, False, None, None, False])
    ws.append([None] * 13)
    ws.append(["\u00a0"] + [" "] * 12)  # a no-break space is a space too
    path = tmp_path / "blank-rows.xlsx"
    wb.save(path)

    bom = compliance.read_bom(path)
    assert bom.minerals.height == lines  # the new rows are all left out...
    missing = [(f.row, f.column) for f in bom.findings if f.code == MISSING_VALUE]
    assert missing == [(lines + 3, "battery_id")]  # ...and only the M-99 row is reported
    stats = next(s for s in bom.stats if s.sheet == "minerals")
    assert (stats.data_rows, stats.used_rows) == (lines + 1, lines)

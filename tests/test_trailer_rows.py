"""Totals and notes under a long sheet's data are left out and reported, row by row."""

from __future__ import annotations

from pathlib import Path

import openpyxl

import compliance
from compliance.findings import NOTE_ROW, TOTAL_ROW

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo.xlsx"


def test_totals_and_a_note_under_1200_more_lines(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(DEMO)
    ws = wb["minerals"]
    lines = ws.max_row - 1 + 1200
    for i in range(1200):  # long enough that the sheet's last rows are looked at first
        ws.append(["DEMO-PASS", f"X-{i:04}", "lithium", 1, 0.1, "US", None, "US", None, False,
                   None, None, False])
    ws.append(["Total", None, None, 12345])
    ws.append([None, "Subtotal", None, 500])  # the first filled cell is not column A
    ws.append(["Source: supplier declarations, 2025"])
    ws.append(["DEMO-PASS", "X-LAST", "nickel", 2, 0.2, "US", None, "US", None, False])
    path = tmp_path / "trailers.xlsx"
    wb.save(path)

    bom = compliance.read_bom(path)
    first_extra = lines + 2  # the header is row 1
    found = [(f.code, f.row) for f in bom.findings if f.code in (TOTAL_ROW, NOTE_ROW)]
    # The note is above a full row, so it is data with a missing key, not a trailing note.
    assert found == [(TOTAL_ROW, first_extra), (TOTAL_ROW, first_extra + 1)]
    assert "X-LAST" in bom.minerals.get_column("line_id").to_list()

    ws.delete_rows(first_extra + 3)  # without the last line, the note trails the data
    wb.save(path)
    bom = compliance.read_bom(path)
    found = [(f.code, f.row) for f in bom.findings if f.code in (TOTAL_ROW, NOTE_ROW)]
    assert found == [(TOTAL_ROW, first_extra), (TOTAL_ROW, first_extra + 1),
                     (NOTE_ROW, first_extra + 2)]
    assert bom.minerals.height == lines

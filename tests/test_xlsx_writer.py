"""The report's own xlsx writer: what it writes is what openpyxl (and so Excel) reads back."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from enum import Enum

import openpyxl
import pytest

from compliance.report import xlsx_writer
from compliance.report.xlsx_writer import Styled, XlsxBook, column_letters


class Colour(Enum):
    RED = "red"


def _read(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_values_round_trip_with_their_types() -> None:
    book = XlsxBook()
    ws = book.sheet("values")
    ws.append(["text", 1.5, 3, Decimal("55.0000"), True, False, None, "", Colour.RED])
    ws.append([dt.date(2025, 3, 1), dt.datetime(2024, 6, 15, 13, 30), dt.time(8, 5),
               ["DE", "FR"], Decimal("0.1"), float("nan"), 10**20])
    wb = _read(book.close())
    row1 = [c.value for c in wb["values"][1]]
    assert row1 == ["text", 1.5, 3, 55, True, False, None, None, "red"]
    assert [c.data_type for c in wb["values"][1]][:6] == ["s", "n", "n", "n", "b", "b"]
    row2 = wb["values"][2]
    assert row2[0].value == dt.datetime(2025, 3, 1) and row2[0].number_format == "yyyy-mm-dd"
    assert row2[1].value == dt.datetime(2024, 6, 15, 13, 30)
    assert row2[1].number_format == "yyyy-mm-dd h:mm:ss"
    assert [c.value for c in row2[2:7]] == ["08:05:00", "DE; FR", 0.1, "nan", 1e20]


def test_text_is_never_a_formula_and_keeps_what_xml_can_hold() -> None:
    hostile = ['=HYPERLINK("http://x","y")', "#N/A", "+1", "a<b>&c\"d'", "  padded  ",
               "bell\x07here", "x" * 40_000, "line\nbreak", "\ud800lone"]
    book = XlsxBook()
    book.sheet("text").append(hostile)
    cells = list(_read(book.close())["text"][1])
    assert all(c.data_type == "s" for c in cells)
    values = [c.value for c in cells]
    assert values[:4] == hostile[:4]
    assert values[4] == "  padded  "  # spaces at either end survive
    assert values[5] == "bell\ufffdhere"
    assert values[6] == "x" * xlsx_writer.MAX_TEXT
    assert values[7] == "line\nbreak"
    assert values[8] == "\ufffdlone"


def test_styles_notes_widths_and_titles() -> None:
    book = XlsxBook()
    ws = book.sheet('in "a" & <b>', {"A": 22, "C": 80})
    ws.append([Styled("head", bold=True), Styled("fail", fill="ff9999"),
               Styled(None, fill="FFE699", comment="why it is empty"),
               Styled(12.5, fill="FF9999", comment="first\nsecond")])
    ws.append([])
    ws.append([None, None, "after a blank row"])
    other = book.sheet("second")
    other.append([Styled(dt.date(2024, 1, 2), fill="C6EFCE", comment="dated")])
    data = book.close()
    wb = _read(data)
    assert wb.sheetnames == ['in "a" & <b>', "second"]
    ws = wb['in "a" & <b>']
    assert ws["A1"].font.b and not ws["B1"].font.b
    assert ws["B1"].fill.fgColor.rgb == "FFFF9999" and ws["B1"].fill.fill_type == "solid"
    assert ws["C1"].value is None and ws["C1"].comment.text == "why it is empty"
    assert ws["C1"].fill.fgColor.rgb == "FFFFE699"
    assert ws["D1"].value == 12.5 and ws["D1"].comment.text == "first\nsecond"
    assert ws["A1"].comment is None
    assert ws["C3"].value == "after a blank row" and ws.max_row == 3
    assert ws.column_dimensions["A"].width == 22 and ws.column_dimensions["C"].width == 80
    second = wb["second"]["A1"]
    assert second.value == dt.datetime(2024, 1, 2) and second.comment.text == "dated"
    assert second.number_format == "yyyy-mm-dd" and second.fill.fgColor.rgb == "FFC6EFCE"
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "xl/comments/comment1.xml" in names and "xl/comments/comment2.xml" in names


def test_wide_rows_get_their_column_letters() -> None:
    book = XlsxBook()
    book.sheet("wide").append(list(range(30)))
    ws = _read(book.close())["wide"]
    assert ws["AD1"].value == 29 and ws.max_column == 30
    assert column_letters(28)[-3:] == ["Z", "AA", "AB"]
    assert column_letters(16384)[-1] == "XFD"


def test_rows_past_the_grid_are_counted_not_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_writer, "MAX_ROWS", 5)
    book = XlsxBook()
    ws = book.sheet("long")
    for i in range(9):
        ws.append([f"row {i + 1}"])
    sheet = _read(book.close())["long"]
    values = [r[0].value for r in sheet.iter_rows()]
    assert values[:4] == ["row 1", "row 2", "row 3", "row 4"]
    assert values[4] == ("... 5 more rows left out: an Excel sheet holds 5; the json and csv "
                         "reports have every row")
    assert sheet.max_row == 5


def test_an_empty_book_is_still_a_workbook() -> None:
    assert _read(XlsxBook().close()).sheetnames == ["Sheet1"]

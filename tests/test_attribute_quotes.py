"""Attributes written as XML allows but Excel does not (``r='A1'``, ``t = "e"``) are scanned
like Excel's: the same findings, never an error cell read as empty without a word."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

import compliance

CORPUS = Path(__file__).resolve().parent / "corpus" / "files"
# Each exercises something only the sheet scan sees.
CASES = ["error_cells.xlsx", "formula_without_value.xlsx", "hidden_rows_columns.xlsx",
         "merged_cells.xlsx", "percent_scales.xlsx", "struck_through_row.xlsx",
         "rows_out_of_order.xlsx", "duplicate_cell.xlsx", "clean.xlsx"]
_ATTR = re.compile(rb'(<[^<>?!][^<>]*?\s[\w:.-]+)="([^"<>]*)"')


def _rewrite(data: bytes, style: str, *, from_row: int = 0) -> bytes:
    """The workbook with its sheets' tag attributes in ``style`` ("single" quotes, or "spaced"
    around the "="), from the tag of row ``from_row`` on."""
    def restyle(xml: bytes) -> bytes:
        cut = 0
        if from_row:
            found = re.search(rb'<row r="%d"' % from_row, xml)
            cut = found.start() if found else len(xml)
        head, tail = xml[:cut], xml[cut:]
        for _ in range(64):  # one attribute per tag per pass
            if style == "single":
                new = _ATTR.sub(rb"\1='\2'", tail)
            else:
                new = _ATTR.sub(rb'\1 = "\2"', tail).replace(b' = " = "', b' = "')
            if new == tail:
                break
            tail = new
        return head + tail

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                body = restyle(body)
            dst.writestr(info, body)
    return out.getvalue()


def _findings(data: bytes) -> list[tuple[str, str | None, str | None]]:
    bom = compliance.read_bom(data, name="bom.xlsx")
    return sorted((f.code, f.cell, f.value) for f in bom.findings)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("style", ["single", "spaced"])
def test_same_findings_whatever_the_attribute_style(name: str, style: str) -> None:
    original = (CORPUS / name).read_bytes()
    restyled = _rewrite(original, style)
    assert restyled != original
    assert _findings(restyled) == _findings(original)


def test_single_quotes_only_further_down_are_seen_too() -> None:
    """A writer that switches style mid-sheet: the cheap check per block still sees it."""
    original = (CORPUS / "error_cells.xlsx").read_bytes()
    restyled = _rewrite(original, "single", from_row=2)
    found = _findings(restyled)
    assert found == _findings(original)
    assert [c for code, c, _ in found if code == "error-cell"] == ["D2", "E3", "F3"]


def test_apostrophes_in_text_are_left_alone() -> None:
    from compliance.reader.package import _requote

    chunk = (b"<row r=\"2\"><c r='A2' t=\"inlineStr\"><is><t>O'Brien's = 'x'</t></is></c>"
             b"<c r=\"B2\" s='3'><v>1</v></c></row>")
    assert _requote(chunk) == (b'<row r="2"><c r="A2" t="inlineStr"><is><t>O\'Brien\'s = \'x\''
                               b'</t></is></c><c r="B2" s="3"><v>1</v></c></row>')

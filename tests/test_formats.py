"""Report formats: csv without formula injection, a fresh xlsx, a self-contained escaped html."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal as D
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import compliance
from compliance.cli import main
from compliance.report.csv_out import neutralise
from compliance.report.render import FORMATS, render

EVIL_BATTERY = "<script>alert(1)</script>"
EVIL_LINE = '=HYPERLINK("http://evil.example","click")'
ENTITY_HEADER = ["entity_id", "name", "incorporated_in", "headquartered_in",
                 "covered_government_voting_pct", "covered_government_board_pct",
                 "covered_government_equity_pct", "effective_control", "restricted_lists"]


def write_bom(path: Path) -> Path:
    """PACK-A fails critical minerals (placed in service 2025-03-01, 60 % needed):
    M-01 $550 from AU qualifies; M-02 $450 from ID does not: 55 %, short $50.
    The second battery has a hostile id and a line id that is a formula (written as text);
    it has $100 from AU of $200, 50 %, and fails too."""
    day = dt.date(2025, 3, 1)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    sheets = {
        "batteries": [["battery_id", "placed_in_service", "acquired_on"], ["PACK-A", day, day],
                      [EVIL_BATTERY, day, day]],
        "components": [["battery_id", "component_id", "component_type", "country",
                        "manufacturer", "incremental_value_usd"],
                       ["PACK-A", "C-1", "battery cell", "US", "E-US", 1000],
                       [EVIL_BATTERY, "C-1", "battery cell", "US", "E-US", 1000]],
        "minerals": [["battery_id", "line_id", "mineral", "value_usd", "extraction_country",
                      "extraction_entity", "processing_country", "processing_entity"],
                     ["PACK-A", "M-01", "lithium", 550, "AU", "E-US", "AU", "E-US"],
                     ["PACK-A", "M-02", "nickel", 450, "ID", "E-US", "ID", "E-US"],
                     [EVIL_BATTERY, EVIL_LINE, "nickel", 100, "ID", "E-US", "ID", "E-US"],
                     [EVIL_BATTERY, "@SUM(1)", "nickel", 100, "AU", "E-US", "AU", "E-US"]],
        "entities": [ENTITY_HEADER, ["E-US", "US Co", "US", "US", 0, 0, 0, False, None]],
    }
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # a text cell that looks like a formula
    wb.save(path)
    return path


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    return write_bom(tmp_path / "bom.xlsx")


def test_formats_are_registered() -> None:
    assert {"text", "json", "csv", "xlsx", "html"} <= set(FORMATS)
    assert FORMATS["xlsx"].binary and not FORMATS["html"].binary and not FORMATS["csv"].binary
    assert FORMATS["xlsx"].extension == "xlsx"


def test_neutralise_quotes_text_that_could_be_a_formula() -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+41 22") == "'+41 22"
    assert neutralise("-2+3") == "'-2+3"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\tx") == "'\tx"
    assert neutralise("\r=1") == "'\r=1"
    assert neutralise("plain") == "plain"
    # numbers the tool computes stay numbers, negative ones too
    assert neutralise(D("-3.5")) == "-3.5"
    assert neutralise(D("60.0000")) == "60.0000"
    assert neutralise(None) == ""
    assert neutralise(True) == "true"


def test_csv_has_no_formula_cells(workbook: Path) -> None:
    report = compliance.audit(workbook)
    data = render(report, "csv")
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark for Excel
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:5] == ["record", "battery_id", "ruleset", "requirement", "status"]
    for row in rows:
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\n"):
                assert re.fullmatch(r"-?\d+(\.\d+)?", cell), cell
    item = header.index("item_id")
    lines = [r for r in rows if r[0] == "line" and r[1] == EVIL_BATTERY]
    assert [r[item] for r in lines] == ["'" + EVIL_LINE]
    shortfall = header.index("shortfall_usd")
    (req,) = [r for r in rows if r[0] == "requirement" and r[1] == "PACK-A"
              and r[3] == "critical_minerals"]
    assert (req[4], req[shortfall]) == ("fail", "50.00")  # 0.6 x 1000 - 550


def test_xlsx_is_a_new_workbook_with_annotated_input(workbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    before = workbook.read_bytes()
    result = CliRunner().invoke(main, ["audit", str(workbook), "--format", "xlsx", "-o",
                                       str(out)])
    assert result.exit_code == 1, result.output
    assert workbook.read_bytes() == before  # the user's file is never touched
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:3] == ["summary", "in_effect", "critical_minerals"]
    assert {"plan", "horizon", "in batteries", "in minerals"} <= set(wb.sheetnames)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    summary = [[c.value for c in row] for row in wb["summary"].iter_rows()]
    batteries = [r for r in summary if r[0] in ("PACK-A", EVIL_BATTERY)]
    # the hostile battery: $100 from AU of $200 = 50 % < 60 %: fails too
    assert [(r[0], r[2]) for r in batteries] == [("PACK-A", "fail"), (EVIL_BATTERY, "fail")]
    copy = wb["in minerals"]
    assert copy["B4"].value == EVIL_LINE and copy["B4"].data_type == "s"
    # M-02 (row 3) fails critical minerals: its country cells are red with the reason.
    assert copy["E3"].fill.fgColor.rgb.endswith("FF9999")
    assert "extracted in ID (not the US or an FTA country)" in copy["E3"].comment.text
    assert copy["E2"].comment is None
    reqs = [[c.value for c in row] for row in wb["critical_minerals"].iter_rows()]
    assert reqs[3][:6] == ["PACK-A", "fail", 55.0, 60.0, 5.0, 50.0]


def test_xlsx_is_refused_on_a_terminal(workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance.explain import commands

    monkeypatch.setattr(commands, "stdout_is_terminal", lambda: True)
    result = CliRunner().invoke(main, ["audit", str(workbook), "--format", "xlsx"])
    assert result.exit_code == 2
    assert "--output" in result.output


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_and_escaped(workbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["audit", str(workbook), "--format", "html", "-o",
                                       str(out)])
    assert result.exit_code == 1, result.output
    page = out.read_text(encoding="utf-8")
    parser = Collector()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    assert "script" not in tags  # the hostile battery id is text, never a tag
    assert EVIL_BATTERY in "".join(parser.text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page
    # self-contained: inline style and svg, nothing loaded from elsewhere
    assert "style" in tags and "svg" in tags and "link" not in tags and "img" not in tags
    assert not any("src" in attrs for _, attrs in parser.tags)
    text = " ".join("".join(parser.text).split())
    assert "Actual vs required share" in text
    assert "Horizon: the verdicts on each date the rules change" in text
    assert "Remediation plan" in text
    # the chart has a bar per battery and share requirement, with the required mark
    titles = [t for t in parser.text if "critical_minerals:" in t and "required" in t]
    assert "PACK-A critical_minerals: 55 % actual, 60 % required (fail)" in titles
    # the plan for PACK-A: re-source M-02 ($450) - the only non-qualifying line
    assert "Fewest changes: re-source 1 line - M-02 ($450.00)" in text


def test_html_without_context_still_renders(workbook: Path) -> None:
    report = compliance.audit(workbook)
    page = render(report, "html").decode()
    assert "Not computed for this report" in page  # no horizon given
    assert render(report, "text").decode().startswith("Audit of")
    assert render(report, "json").decode().lstrip().startswith("{")


def test_xlsx_without_a_workbook_file() -> None:
    # The service may render from the report alone; an in-memory BOM has no file to copy, so
    # its typed rows are laid out as the reader numbered them (header on row 1).
    from compliance.reader.bom import Bom

    bom = Bom.from_records(
        batteries=[{"battery_id": "B1", "placed_in_service": "2025-03-01"}],
        minerals=[{"battery_id": "B1", "line_id": EVIL_LINE, "mineral": "nickel",
                   "value_usd": "10", "extraction_country": "ID",
                   "processing_country": "ID"}])
    report = compliance.audit(bom)
    bare = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))
    assert "in minerals" not in bare.sheetnames
    full = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", bom=bom)))
    assert [n for n in full.sheetnames if n.startswith("in ")] == ["in batteries",
                                                                   "in minerals"]
    copy = full["in minerals"]
    assert (copy["B1"].value, copy["B2"].value, copy["B2"].data_type) == ("line_id", EVIL_LINE,
                                                                          "s")
    assert copy["F2"].comment is not None  # extraction_country: ID does not qualify


ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "files"


@pytest.mark.parametrize("path", [
    *sorted((ROOT / "fixtures").glob("*.xlsx")),
    CORPUS / "rows_out_of_order.xlsx",  # rows stored 1, 3, 2: the copy follows their numbers
    CORPUS / "blank_header.xlsx",
    CORPUS / "error_cells.xlsx",
], ids=lambda p: p.name)
def test_xlsx_copy_shows_each_sheet_as_excel_does(path: Path) -> None:
    """Every value of the annotated copy is the cell's value as Excel shows it: same place, same
    type (numbers stay numbers, dates dates); an error cell shows its error text."""
    bom = compliance.read_bom(path)
    report = compliance.audit(bom)
    out = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", bom=bom)))
    source = openpyxl.load_workbook(path, data_only=True)
    copies = [n for n in out.sheetnames if n.startswith("in ")]
    assert copies
    for name in copies:
        original = source[name.removeprefix("in ")]
        copy = out[name]
        for row in original.iter_rows():
            for cell in row:
                got = copy[cell.coordinate].value
                want = cell.value
                if isinstance(want, dt.datetime) and isinstance(got, dt.datetime):
                    assert got == want, (name, cell.coordinate)
                elif isinstance(want, int | float) and not isinstance(want, bool):
                    assert isinstance(got, int | float) and got == want, (name, cell.coordinate)
                else:
                    assert got == want, (name, cell.coordinate, got, want)


def test_xlsx_copy_marks_error_cells_and_headerless_columns() -> None:
    messy = compliance.read_bom(ROOT / "fixtures" / "messy.xlsx")
    out = openpyxl.load_workbook(io.BytesIO(render(compliance.audit(messy), "xlsx", bom=messy)))
    cell = out["in minerals"]["F4"]  # extraction_country of M-02 is #N/A
    assert cell.value == "#N/A" and cell.fill.fgColor.rgb == "FFF4B183"
    assert "error-cell: extraction_country holds the Excel error #N/A" in cell.comment.text
    blank = compliance.read_bom(CORPUS / "blank_header.xlsx")
    out = openpyxl.load_workbook(io.BytesIO(render(compliance.audit(blank), "xlsx", bom=blank)))
    header = out["in minerals"]["N1"]  # no header above 'stray' in N2: marked though empty
    assert header.value is None and header.fill.fgColor.rgb == "FFFFE699"
    assert header.comment.text.startswith("blank-header: column N has values but no header")


def test_csv_reports_give_the_mass_behind_recycled_content() -> None:
    """The EU rule is about kilograms: the CSVs carry each line's mass next to its share."""
    from compliance.explain.lines import explain
    from compliance.report.csv_out import explanation_csv

    path = ROOT / "fixtures" / "regimes" / "eu-recycled-content.xlsx"
    report = compliance.audit(path, rulesets=["eu-2023-1542-recycled-content"])
    rows = list(csv.DictReader(io.StringIO(render(report, "csv").decode("utf-8-sig"))))
    cobalt = [r for r in rows if r["record"] == "line" and r["battery_id"] == "EV-310818"
              and r["item_id"] == "cobalt"]
    assert [(r["share_pct"], r["mass_kg"]) for r in cobalt] == [("12.5000", "6.400000")]
    assert all(r["mass_kg"] == "" for r in rows if r["record"] != "line")
    bom = compliance.read_bom(path)
    loaded = [compliance.load_ruleset("eu-2023-1542-recycled-content")]
    expl = explain(compliance.audit(bom, loaded), bom, loaded)
    lines = list(csv.DictReader(io.StringIO(explanation_csv(expl).decode("utf-8-sig"))))
    nickel = [r for r in lines if r["battery_id"] == "EV-310817" and r["item_id"] == "R-05"]
    assert [(r["row"], r["share_pct"], r["mass_kg"]) for r in nickel] == [
        ("6", "92.5641", "36.100000")]  # 36.1 of 39 kg of nickel not recovered from waste

"""Tests for compliance.template: the blank BOM workbook generated from the contract."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

import compliance
from compliance.cli import main
from compliance.contract import (
    CATEGORIES,
    COMPONENT_TYPES,
    MINERALS,
    SHEETS,
    SHEETS_BY_NAME,
    TEMPLATE_SHEETS,
    Kind,
)
from compliance.countries import COUNTRY_CODES, country_name
from compliance.findings import Severity
from compliance.template import (
    KIND_LABELS,
    LAST_ROW,
    NUMBER_FORMATS,
    build_template,
    write_template,
)

DATA_SHEETS = [s.name for s in SHEETS]


@pytest.fixture(scope="module")
def template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "bom.xlsx"
    write_template(path)
    return path


@pytest.fixture(scope="module")
def wb(template_path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(template_path)


def letter_of(sheet: str, column: str) -> str:
    names = SHEETS_BY_NAME[sheet].column_names
    return openpyxl.utils.get_column_letter(names.index(column) + 1)


def validation_for(ws: Worksheet, letter: str) -> DataValidation:
    """The one data validation whose ranges include the whole column from row 2 on."""
    wanted = f"{letter}2:{letter}{LAST_ROW}"
    found = [dv for dv in ws.data_validations.dataValidation
             if wanted in str(dv.sqref).split()]
    assert len(found) == 1, f"{ws.title}!{letter}: {[str(d.sqref) for d in found]}"
    return found[0]


def lists_column(wb: openpyxl.Workbook, header: str) -> tuple[str, list[str]]:
    ws = wb["lists"]
    for col in ws.iter_cols(min_row=1):
        if col[0].value == header:
            values = [c.value for c in col[1:] if c.value is not None]
            return col[0].column_letter, values
    raise AssertionError(f"no {header!r} column on the lists sheet")


# --- layout -----------------------------------------------------------------------------------


def test_sheet_names_and_order(wb: openpyxl.Workbook) -> None:
    instructions, lists = TEMPLATE_SHEETS
    assert wb.sheetnames == [instructions, *DATA_SHEETS, lists]
    assert wb.active is not None and wb.active.title == instructions


@pytest.mark.parametrize("sheet", DATA_SHEETS)
def test_header_row_is_the_contract(wb: openpyxl.Workbook, sheet: str) -> None:
    ws = wb[sheet]
    spec = SHEETS_BY_NAME[sheet]
    header = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]
    assert tuple(header) == spec.column_names
    assert ws.max_row == 1  # a blank template: no data rows, not even empty styled ones
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}1"
    for cell, col in zip(ws[1], spec.columns, strict=True):
        assert cell.font.b
        assert cell.comment is not None
        assert col.description in cell.comment.text
        assert ("(required)" if col.required else "(optional)") in cell.comment.text
        width = ws.column_dimensions[cell.column_letter].width
        assert width is not None and 12 <= width <= 40


def test_number_formats_follow_the_kinds(wb: openpyxl.Workbook) -> None:
    expected = {Kind.DATE: "yyyy-mm-dd", Kind.MONEY: "#,##0.00", Kind.PERCENT: "0.00",
                Kind.ID: "@"}
    seen = set()
    for spec in SHEETS:
        ws = wb[spec.name]
        for index, col in enumerate(spec.columns, start=1):
            if col.kind in expected:
                letter = openpyxl.utils.get_column_letter(index)
                assert ws.column_dimensions[letter].number_format == expected[col.kind], (
                    spec.name, col.name)
                seen.add(col.kind)
    assert seen == set(expected)


def test_lists_sheet_is_hidden_and_complete(wb: openpyxl.Workbook) -> None:
    assert wb["lists"].sheet_state == "hidden"
    assert lists_column(wb, "country_code")[1] == list(COUNTRY_CODES)
    assert lists_column(wb, "country_name")[1] == [country_name(c) for c in COUNTRY_CODES]
    assert lists_column(wb, "mineral")[1] == list(MINERALS)
    assert lists_column(wb, "component_type")[1] == list(COMPONENT_TYPES)
    assert lists_column(wb, "category")[1] == list(CATEGORIES)
    assert lists_column(wb, "boolean")[1] == ["true", "false"]


# --- dropdowns --------------------------------------------------------------------------------


def test_every_vocabulary_column_has_its_dropdown(wb: openpyxl.Workbook) -> None:
    ranges = {}
    for header in ("country_code", "mineral", "component_type", "category"):
        letter, values = lists_column(wb, header)
        ranges[header] = f"'lists'!${letter}$2:${letter}${len(values) + 1}"
    expected = {Kind.COUNTRY: ranges["country_code"], Kind.MINERAL: ranges["mineral"],
                Kind.COMPONENT_TYPE: ranges["component_type"], Kind.CATEGORY: ranges["category"],
                Kind.BOOL: '"true,false"'}
    checked: dict[Kind, int] = {}
    for spec in SHEETS:
        ws = wb[spec.name]
        for col in spec.columns:
            if col.kind not in expected:
                continue
            dv = validation_for(ws, letter_of(spec.name, col.name))
            assert dv.type == "list"
            assert dv.formula1 == expected[col.kind], (spec.name, col.name)
            assert dv.allow_blank
            assert dv.showErrorMessage
            # Warning style: the reader accepts names and spelling variants too ("Japan").
            assert dv.errorStyle == "warning"
            assert dv.error and len(dv.error) <= 255  # Excel's limit for the message
            assert dv.errorTitle and len(dv.errorTitle) <= 32
            checked[col.kind] = checked.get(col.kind, 0) + 1
    used = {c.kind for s in SHEETS for c in s.columns}
    assert set(checked) == set(expected) & used
    countries = [c for s in SHEETS for c in s.columns if c.kind is Kind.COUNTRY]
    assert checked[Kind.COUNTRY] == len(countries) >= 6
    assert "ISO" in validation_for(wb["components"], letter_of("components", "country")).error


def test_no_dropdown_on_free_columns(wb: openpyxl.Workbook) -> None:
    validated = {part.split(":")[0].rstrip("0123456789")
                 for dv in wb["minerals"].data_validations.dataValidation
                 for part in str(dv.sqref).split()}
    free = {letter_of("minerals", c) for c in ("battery_id", "line_id", "value_usd", "mass_kg")}
    assert not validated & free


# --- instructions -----------------------------------------------------------------------------


def instruction_text(wb: openpyxl.Workbook) -> list[str]:
    return [str(v) for row in wb["instructions"].iter_rows(values_only=True)
            for v in row if v is not None]


def test_instructions_describe_every_column(wb: openpyxl.Workbook) -> None:
    cells = instruction_text(wb)
    text = "\n".join(cells)
    for spec in SHEETS:
        assert f"Sheet '{spec.name}'" in cells
        for col in spec.columns:
            assert col.name in cells, col.name
            assert col.description in text
    for word in ("ISO", "Korea", "Congo", "0 to 100", "percentage", "YYYY-MM-DD", "true",
                 "false"):
        assert word in text


def test_instructions_table_rows(wb: openpyxl.Workbook) -> None:
    rows = list(wb["instructions"].iter_rows(values_only=True))
    for spec in SHEETS:
        start = next(i for i, r in enumerate(rows) if r[0] == f"Sheet '{spec.name}'")
        assert rows[start + 1] == ("column", "required?", "kind", "description", "example")
        table = rows[start + 2:start + 2 + len(spec.columns)]
        for row, col in zip(table, spec.columns, strict=True):
            assert row[0] == col.name
            assert row[1] == ("required" if col.required else "optional")
            assert row[2] == KIND_LABELS[col.kind]
            assert str(row[3]).startswith(col.description)
            assert (row[4] or "") == col.example


def test_every_kind_has_a_label_and_a_format() -> None:
    # A kind added to the contract must be given its place in the template too.
    assert set(KIND_LABELS) == set(Kind)
    assert set(NUMBER_FORMATS) == set(Kind)


def test_instructions_hold_no_formulas(template_path: Path) -> None:
    with zipfile.ZipFile(template_path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in zf.read(name) and b"<f " not in zf.read(name), name


def test_text_starting_with_equals_stays_text(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    from compliance import template

    monkeypatch.setattr(template, "_how_to", lambda: ["=1+1 is not a formula"])
    path = tmp_path / "t.xlsx"
    template.write_template(path)
    ws = openpyxl.load_workbook(path)["instructions"]
    values = [c for row in ws.iter_rows() for c in row if c.value == "=1+1 is not a formula"]
    assert len(values) == 1 and values[0].data_type == "s"


# --- determinism ------------------------------------------------------------------------------


def test_two_runs_write_identical_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_template(first)
    write_template(second)
    assert first.read_bytes() == second.read_bytes()
    wb = openpyxl.load_workbook(first)
    assert wb.properties.created == dt.datetime(2024, 1, 1)
    assert wb.properties.modified == dt.datetime(2024, 1, 1)


def test_build_template_returns_a_workbook() -> None:
    wb = build_template()
    assert wb.sheetnames[0] == "instructions"
    assert wb["lists"].sheet_state == "hidden"


# --- round trip through the reader ------------------------------------------------------------


def fill(ws: Worksheet, records: list[dict[str, object]]) -> None:
    header = [c.value for c in ws[1]]
    for row, record in enumerate(records, start=2):
        assert set(record) <= set(header), set(record) - set(header)
        for name, value in record.items():
            ws.cell(row=row, column=header.index(name) + 1, value=value)


def test_blank_template_reads_cleanly(template_path: Path) -> None:
    bom = compliance.read_bom(template_path)
    assert bom.batteries.height == 0
    assert not [f for f in bom.findings if f.severity is not Severity.INFO]
    assert not [f for f in bom.findings if f.code == "unknown-sheet"]


def test_filled_template_passes_audit(template_path: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(template_path)
    fill(wb["batteries"], [{"battery_id": "BAT-001", "placed_in_service": dt.date(2024, 6, 30),
                            "description": "template round trip"}])
    fill(wb["components"], [
        {"battery_id": "BAT-001", "component_id": "C-01", "component_type": "battery cell",
         "country": "US", "manufacturer": "E-CELLCO", "incremental_value_usd": 2400},
        {"battery_id": "BAT-001", "component_id": "C-02", "component_type": "battery module",
         "country": "US", "manufacturer": "E-CELLCO", "incremental_value_usd": 600.5},
    ])
    fill(wb["minerals"], [
        {"battery_id": "BAT-001", "line_id": "M-01", "mineral": "lithium", "value_usd": 812.5,
         "mass_kg": 9.4, "extraction_country": "AU", "extraction_entity": "E-MINECO",
         "processing_country": "US", "processing_entity": "E-REFCO", "recycled": "false",
         "impracticable_to_trace": "false"},
        {"battery_id": "BAT-001", "line_id": "M-02", "mineral": "nickel", "value_usd": 300,
         "extraction_country": "US", "extraction_entity": "E-MINECO",
         "processing_country": "US", "processing_entity": "E-REFCO"},
    ])
    clean = {"incorporated_in": "US", "headquartered_in": "US",
             "covered_government_voting_pct": 0, "covered_government_board_pct": 0,
             "covered_government_equity_pct": 0, "effective_control": "false"}
    fill(wb["entities"], [{"entity_id": eid, "name": f"{eid} Inc", **clean}
                          for eid in ("E-CELLCO", "E-MINECO", "E-REFCO")])
    path = tmp_path / "filled.xlsx"
    wb.save(path)

    report = compliance.audit(path)
    assert [b.battery_id for b in report.batteries] == ["BAT-001"]
    battery = report.batteries[0]
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    assert errors == []
    assert not [f for f in report.findings if f.code == "unknown-sheet"]
    assert battery.status == "pass", battery.verdicts[0].summary


# --- CLI --------------------------------------------------------------------------------------


def test_cli_template_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out.xlsx"
    first = runner.invoke(main, ["template", str(out)])
    assert first.exit_code == 0, first.output
    assert out.exists()
    assert openpyxl.load_workbook(out).sheetnames[1:-1] == DATA_SHEETS

    again = runner.invoke(main, ["template", str(out)])
    assert again.exit_code == 2
    assert "--force" in again.output

    forced = runner.invoke(main, ["template", "--force", str(out)])
    assert forced.exit_code == 0, forced.output

"""`compliance audit DIR/`: every workbook, broken ones reported, the worst exit code."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import compliance
from compliance import batch
from compliance.cli import main
from compliance.report.model import AuditReport

ENTITY_HEADER = ["entity_id", "name", "incorporated_in", "headquartered_in",
                 "covered_government_voting_pct", "covered_government_board_pct",
                 "covered_government_equity_pct", "effective_control", "restricted_lists"]


def write_bom(path: Path, qualifying_usd: int) -> Path:
    """One battery placed in service 2024-06-30 (50 % needed): `qualifying_usd` of $100 of
    minerals from AU, the rest from ID; one US component by a clean US entity."""
    day = dt.date(2024, 6, 30)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    sheets = {
        "batteries": [["battery_id", "placed_in_service"], ["BAT-1", day]],
        "components": [["battery_id", "component_id", "component_type", "country",
                        "manufacturer", "incremental_value_usd"],
                       ["BAT-1", "C-1", "battery cell", "US", "E-US", 1000]],
        "minerals": [["battery_id", "line_id", "mineral", "value_usd", "extraction_country",
                      "extraction_entity", "processing_country", "processing_entity"],
                     ["BAT-1", "M-1", "lithium", qualifying_usd, "AU", "E-US", "AU", "E-US"],
                     ["BAT-1", "M-2", "nickel", 100 - qualifying_usd, "ID", "E-US", "ID",
                      "E-US"]],
        "entities": [ENTITY_HEADER, ["E-US", "US Co", "US", "US", 0, 0, 0, False, None]],
    }
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "boms"
    d.mkdir()
    write_bom(d / "b-pass.xlsx", 60)  # 60 % >= 50 %
    write_bom(d / "c-fail.XLSX", 40)  # 40 % < 50 %; upper-case extension still counts
    (d / "a-broken.xlsx").write_text("not a workbook")
    write_bom(d / "~$b-pass.xlsx", 60)  # Excel's lock file: skipped with a note
    (d / "notes.txt").write_text("ignored")
    (d / "sub").mkdir()
    write_bom(d / "sub" / "deep.xlsx", 60)  # not recursive
    return d


def test_find_workbooks_in_name_order_skipping_lock_files(folder: Path) -> None:
    found, skipped = batch.find_workbooks(folder)
    assert [p.name for p in found] == ["a-broken.xlsx", "b-pass.xlsx", "c-fail.XLSX"]
    assert [(p.name, "lock file" in why) for p, why in skipped] == [("~$b-pass.xlsx", True)]


def test_audit_folder_continues_past_a_broken_file(folder: Path) -> None:
    loaded = [compliance.load_ruleset("us-ira-30d")]
    result = batch.audit_folder(folder, loaded, progress=False)
    got = [(i.path.name, i.exit_code, i.status.value if i.status else None, i.error_code)
           for i in result.items]
    assert got == [("a-broken.xlsx", 3, None, "not-a-workbook"),
                   ("b-pass.xlsx", 0, "pass", None),
                   ("c-fail.XLSX", 1, "fail", None)]
    assert result.exit_code == 3  # the worst


def test_an_unexpected_error_on_one_file_is_reported_not_raised(folder: Path) -> None:
    def explode(path: Path) -> AuditReport:
        if path.name.startswith("b"):
            raise RuntimeError("boom")
        return compliance.audit(path)

    result = batch.audit_folder(folder, [], audit_one=explode, progress=False)
    assert [(i.path.name, i.error_code) for i in result.items] == [
        ("a-broken.xlsx", "not-a-workbook"), ("b-pass.xlsx", "internal-error"),
        ("c-fail.XLSX", None)]
    assert "boom" in (result.items[1].message or "")


def test_batch_command_text_json_csv(folder: Path) -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["audit", str(folder)])
    assert text.exit_code == 3, text.output
    flat = " ".join(text.stdout.split())
    assert "a-broken.xlsx unusable" in flat and "error [not-a-workbook]" in flat
    assert "~$b-pass.xlsx: Excel lock file" in flat
    assert "exit code 3 (the worst of the files)" in flat
    lines = text.stdout.splitlines()
    assert lines[1:4] == [
        "file           status    batteries  pass  fail  no data  n/a  exit  note",
        "a-broken.xlsx  unusable" + " " * 42 + "3  error "
        "[not-a-workbook]: this is a plain text file, not an .xlsx workbook",
        "b-pass.xlsx    pass              1     1     0        0    0     0",
    ]

    as_json = runner.invoke(main, ["audit", str(folder), "--format", "json"])
    doc = json.loads(as_json.stdout)
    assert [(f["file"], f["exit_code"]) for f in doc["files"]] == [
        ("a-broken.xlsx", 3), ("b-pass.xlsx", 0), ("c-fail.XLSX", 1)]
    assert doc["files"][2]["report"]["batteries"][0]["status"] == "fail"
    assert doc["skipped"][0]["file"] == "~$b-pass.xlsx"

    as_csv = runner.invoke(main, ["audit", str(folder), "--format", "csv"])
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0][:3] == ["file", "status", "exit_code"]
    assert [r[:3] for r in rows[1:]] == [["a-broken.xlsx", "unusable", "3"],
                                         ["b-pass.xlsx", "pass", "0"],
                                         ["c-fail.XLSX", "fail", "1"],
                                         ["~$b-pass.xlsx", "skipped", ""]]


def test_exit_code_is_the_worst_of_usable_files(tmp_path: Path) -> None:
    runner = CliRunner()
    only_pass = tmp_path / "ok"
    only_pass.mkdir()
    write_bom(only_pass / "a.xlsx", 60)
    assert runner.invoke(main, ["audit", str(only_pass)]).exit_code == 0
    write_bom(only_pass / "b.xlsx", 10)
    assert runner.invoke(main, ["audit", str(only_pass)]).exit_code == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(main, ["audit", str(empty)])
    assert result.exit_code == 3
    assert "no *.xlsx workbook" in result.output


def test_per_file_html_reports(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    runner = CliRunner()
    missing = runner.invoke(main, ["audit", str(folder), "--format", "html"])
    assert missing.exit_code == 2  # a folder of reports needs --output
    result = runner.invoke(main, ["audit", str(folder), "--format", "html", "-o", str(out)])
    assert result.exit_code == 3, result.output
    assert sorted(p.name for p in out.iterdir()) == ["b-pass.html", "c-fail.html"]
    assert "Battery sourcing audit: c-fail.XLSX" in (out / "c-fail.html").read_text()


def test_summary_text_shows_a_provisional_workbook(tmp_path: Path) -> None:
    from compliance.report.model import Status

    report = compliance.audit(write_bom(tmp_path / "p.xlsx", 60))
    provisional = report.model_copy(update={"status": Status.PROVISIONAL})
    result = batch.BatchResult(tmp_path, [batch.BatchItem(tmp_path / "p.xlsx", 1, provisional)])
    lines = batch.render_text(result, color=True).splitlines()
    assert "\x1b[35mprovisional\x1b[0m" in lines[2]  # a KeyError before: batch had no colour
    assert batch.render_text(result).splitlines()[2].startswith("p.xlsx  provisional  ")

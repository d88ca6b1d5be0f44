"""What-if: cells changed as if typed into the workbook, and the delta per requirement."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import compliance
from compliance.cli import main
from compliance.explain import ChangeError, ChangeRequest, parse_set, read_scenarios, what_if
from compliance.reader.bom import Bom

CLEAN = {"incorporated_in": "US", "headquartered_in": "US", "covered_government_voting_pct": 0,
         "covered_government_board_pct": 0, "covered_government_equity_pct": 0,
         "effective_control": False, "restricted_lists": ""}
ENTITIES = [{"entity_id": e, "name": e, **CLEAN} for e in ("MINE", "REF", "CELL")]


def mineral(battery: str, line: str, value: str, ext: str, proc: str) -> dict[str, object]:
    return {"battery_id": battery, "line_id": line, "mineral": "nickel", "value_usd": value,
            "extraction_country": ext, "extraction_entity": "MINE",
            "processing_country": proc, "processing_entity": "REF"}


def component(battery: str) -> dict[str, object]:
    return {"battery_id": battery, "component_id": "C1", "component_type": "battery cell",
            "country": "US", "manufacturer": "CELL", "incremental_value_usd": "100"}


def bom() -> Bom:
    # B1 (2025, 60 % needed): L1 $500 from AU qualifies, L2 $500 from ID does not: 50 %,
    # short by 10 points = $100. B2 (same date) has its own line L1 from the US: 100 %.
    return Bom.from_records(
        batteries=[{"battery_id": "B1", "placed_in_service": "2025-03-01"},
                   {"battery_id": "B2", "placed_in_service": "2025-03-01"}],
        components=[component("B1"), component("B2")],
        minerals=[mineral("B1", "L1", "500", "AU", "AU"), mineral("B1", "L2", "500", "ID", "ID"),
                  mineral("B2", "L1", "800", "US", "US")],
        entities=ENTITIES)


def rulesets() -> list:
    return [compliance.load_ruleset("us-ira-30d")]


def delta(result, battery: str, requirement: str):  # type: ignore[no-untyped-def]
    (found,) = [d for d in result.scenarios[0].requirements
                if d.battery_id == battery and d.requirement == requirement]
    return found


def test_a_country_read_like_a_cell_turns_a_fail_into_a_pass() -> None:
    result = what_if(bom(), rulesets(), {"s": [parse_set("L2.processing_country=Japan")]})
    (change,) = result.scenarios[0].changes
    # "Japan" is read as the reader reads a cell: the ISO code JP.
    assert (change.item_id, change.battery_id, change.row, change.before, change.after) == (
        "L2", "B1", 3, "ID", "JP")
    d = delta(result, "B1", "critical_minerals")
    # Before: 500 / 1000 = 50 %, short 10 points, 0.6 x 1000 - 500 = $100.
    # After: JP is an FTA country (since 2023-03-28): 1000 / 1000 = 100 %.
    assert (d.status_before, d.status_after) == ("fail", "pass")
    assert (d.actual_pct_before, d.actual_pct_after) == (D("50"), D("100"))
    assert (d.shortfall_pct_before, d.shortfall_pct_after) == (D("10"), None)
    assert (d.shortfall_usd_before, d.shortfall_usd_after) == (D("100.00"), None)
    assert d.changed
    (b1,) = [b for b in result.scenarios[0].batteries if b.battery_id == "B1"]
    # Credit: $3,750 for components before; both halves, $7,500, after.
    assert (b1.status_before, b1.status_after) == ("fail", "pass")
    assert (b1.credit_usd_before, b1.credit_usd_after) == (D("3750"), D("7500"))
    assert not delta(result, "B2", "critical_minerals").changed
    assert (result.scenarios[0].status_before, result.scenarios[0].status_after) == (
        "fail", "pass")


def test_an_earlier_date_lowers_the_threshold() -> None:
    # Placed in service 2024-06-01: 50 % is required and 50 % qualifies, so it passes.
    result = what_if(bom(), rulesets(), {"s": [parse_set("B1.placed_in_service=2024-06-01")]})
    d = delta(result, "B1", "critical_minerals")
    assert (d.status_after, d.actual_pct_after) == ("pass", D("50"))
    assert result.scenarios[0].changes[0].before == "2025-03-01"


def test_an_id_used_by_two_batteries_must_be_qualified() -> None:
    with pytest.raises(ChangeError, match="names 2 rows"):
        what_if(bom(), rulesets(), {"s": [parse_set("L1.value_usd=1")]})
    # B2/L1 names one row: B2's only line becomes $1 from the US, still 100 %.
    result = what_if(bom(), rulesets(), {"s": [parse_set("B2/L1.value_usd=$1")]})
    (change,) = result.scenarios[0].changes
    assert (change.battery_id, change.item_id, change.before, change.after) == (
        "B2", "L1", "800", "1")
    # the scenarios sheet's battery_id column qualifies the same way
    result = what_if(bom(), rulesets(), {"s": [ChangeRequest("L1", "value_usd", "2", "B1")]})
    assert result.scenarios[0].changes[0].row == 2


def test_changes_that_cannot_be_applied_say_why() -> None:
    with pytest.raises(ChangeError, match="Atlantis"):
        what_if(bom(), rulesets(), {"s": [parse_set("L2.processing_country=Atlantis")]})
    with pytest.raises(ChangeError, match="not a column"):
        what_if(bom(), rulesets(), {"s": [parse_set("L2.colour=red")]})
    with pytest.raises(ChangeError, match="identifier"):
        what_if(bom(), rulesets(), {"s": [parse_set("L2.line_id=L9")]})
    with pytest.raises(ChangeError, match="no row"):
        what_if(bom(), rulesets(), {"s": [parse_set("L9.value_usd=1")]})
    with pytest.raises(ChangeError, match=r"LINE\.FIELD=VALUE"):
        parse_set("L2=US")


def test_a_line_id_with_dots_keeps_them() -> None:
    request = parse_set("M.01.v2.processing_country=US")
    assert (request.target, request.field, request.value) == ("M.01.v2", "processing_country",
                                                              "US")


def write_workbook(path: Path, scenarios: list[list[object]] | None) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    source = bom()
    for name in ("batteries", "components", "minerals", "entities"):
        frame = source.frame(name).drop("_row")
        ws = wb.create_sheet(name)
        cols = [c for c in frame.columns if frame.get_column(c).null_count() < frame.height]
        ws.append(cols)
        for rec in frame.select(cols).iter_rows():
            ws.append([v if not isinstance(v, list) else ";".join(v) for v in
                       (float(x) if isinstance(x, D) else x for x in rec)])
    if scenarios is not None:
        ws = wb.create_sheet("Scenarios")
        ws.append(["Scenario", "Battery ID", "Item ID", "Field", "Value"])
        for row in scenarios:
            ws.append(row)
    wb.save(path)
    return path


def test_scenarios_sheet_groups_rows_by_name(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "bom.xlsx", [
        ["japan", "B1", "L2", "processing_country", "JP"],
        ["japan", "", "MINE", "name", "Mine Co"],
        ["cheaper", "B1", "L2", "value_usd", 400],
        ["cheaper", "B1", "", "description", "a battery's own column"],
    ])
    found = read_scenarios(path.read_bytes())
    assert list(found) == ["japan", "cheaper"]
    assert [(r.target, r.field, r.value, r.battery) for r in found["cheaper"]] == [
        ("L2", "value_usd", "400", "B1"), ("B1", "description", "a battery's own column", None)]
    runner = CliRunner()
    result = runner.invoke(main, ["whatif", str(path), "--format", "json"])
    assert result.exit_code == 1, result.output  # "cheaper" still fails
    doc = json.loads(result.stdout)
    cheaper = doc["scenarios"][1]
    (d,) = [x for x in cheaper["requirements"]
            if x["battery_id"] == "B1" and x["requirement"] == "critical_minerals"]
    # L2 at $400: 500 / 900 = 55.5555... % (cut to 4 places); 0.6 x 900 - 500 = $40.
    assert (d["actual_pct_after"], d["shortfall_usd_after"]) == ("55.5555", "40.00")
    assert [c["row"] for c in cheaper["changes"]] == [3, 2]


def test_whatif_command_exit_codes(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "bom.xlsx", None)
    runner = CliRunner()
    ok = runner.invoke(main, ["whatif", str(path), "--set", "B1/L2.processing_country=CA"])
    assert ok.exit_code == 0, ok.output
    assert "fail -> pass" in ok.stdout
    bad = runner.invoke(main, ["whatif", str(path), "--set", "L2.processing_country=Atlantis"])
    assert bad.exit_code == 2
    assert "Atlantis" in bad.output
    none = runner.invoke(main, ["whatif", str(path)])
    assert none.exit_code == 2  # no --set and no scenarios sheet

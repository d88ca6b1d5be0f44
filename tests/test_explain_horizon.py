"""`compliance horizon`: the same BOM on every date a ruleset value changes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner

import compliance
from compliance.cli import main
from compliance.explain import change_dates, horizon
from compliance.reader.bom import Bom

D = dt.date
CLEAN = {"incorporated_in": "US", "headquartered_in": "US", "covered_government_voting_pct": 0,
         "covered_government_board_pct": 0, "covered_government_equity_pct": 0,
         "effective_control": False, "restricted_lists": ""}

# Every start date in rulesets/us-ira-30d/ruleset.yaml: covered nations and FEOC lists
# (2021-11-15), the IRA (2022-08-16), Japan on the FTA list (2023-03-28), the first thresholds
# (2023-04-18), the DOE FEOC interpretation (2023-12-04), thresholds and FEOC components
# (2024-01-01), impracticable-to-trace relief (2024-05-06), thresholds and FEOC minerals
# (2025-01-01), the end of the credit (2025-10-01), thresholds 2026-2029.
DATES_30D = [D(2021, 11, 15), D(2022, 8, 16), D(2023, 3, 28), D(2023, 4, 18), D(2023, 12, 4),
             D(2024, 1, 1), D(2024, 5, 6), D(2025, 1, 1), D(2025, 10, 1), D(2026, 1, 1),
             D(2027, 1, 1), D(2028, 1, 1), D(2029, 1, 1)]


def bom() -> Bom:
    # Minerals: $550 from AU (qualifies) and $450 from ID (does not): 55 %, so the battery
    # passes while 40 % (2023) and 50 % (2024) are required and fails from 2025 (60 %).
    # Components: all made in the US by a clean entity, so that half never fails.
    def line(lid: str, value: str, country: str) -> dict[str, object]:
        return {"battery_id": "B1", "line_id": lid, "mineral": "nickel", "value_usd": value,
                "extraction_country": country, "extraction_entity": "MINE",
                "processing_country": country, "processing_entity": "MINE"}

    return Bom.from_records(
        batteries=[{"battery_id": "B1", "placed_in_service": "2024-06-30"}],
        components=[{"battery_id": "B1", "component_id": "C1", "component_type": "battery cell",
                     "country": "US", "manufacturer": "MINE", "incremental_value_usd": "10"}],
        minerals=[line("L1", "550", "AU"), line("L2", "450", "ID")],
        entities=[{"entity_id": "MINE", "name": "Mine", **CLEAN}])


def test_change_dates_are_every_dated_value_of_the_ruleset() -> None:
    assert change_dates([compliance.load_ruleset("us-ira-30d")]) == DATES_30D


def test_horizon_says_when_the_battery_starts_and_stops_passing() -> None:
    h = horizon(bom(), [compliance.load_ruleset("us-ira-30d")])
    assert h.dates == DATES_30D
    (b1,) = h.batteries
    statuses = {p.date: p.status.value for p in b1.points}
    # Before 2023-04-18 no threshold exists: not applicable. 2023-04-18 to 2024-05-06: 55 %
    # reaches 40 % and 50 %. 2025-01-01: 60 % needed. From 2025-10-01 no credit at all.
    assert statuses == {
        D(2021, 11, 15): "not_applicable", D(2022, 8, 16): "not_applicable",
        D(2023, 3, 28): "not_applicable", D(2023, 4, 18): "pass", D(2023, 12, 4): "pass",
        D(2024, 1, 1): "pass", D(2024, 5, 6): "pass", D(2025, 1, 1): "fail",
        D(2025, 10, 1): "fail", D(2026, 1, 1): "fail", D(2027, 1, 1): "fail",
        D(2028, 1, 1): "fail", D(2029, 1, 1): "fail"}
    assert [(c.date, c.before.value, c.after.value) for c in b1.changes] == [
        (D(2023, 4, 18), "not_applicable", "pass"), (D(2025, 1, 1), "pass", "fail")]
    assert b1.changes[1].because == ("critical_minerals pass -> fail "
                                     "(55 % qualifies, 60 % required)")
    assert "starts passing on 2023-04-18" in b1.summary
    assert "stops passing on 2025-01-01" in b1.summary


def test_horizon_window_and_command(tmp_path: Path) -> None:
    h = horizon(bom(), [compliance.load_ruleset("us-ira-30d")], start=D(2024, 1, 1),
                end=D(2026, 1, 1))
    assert h.dates == [D(2024, 1, 1), D(2024, 5, 6), D(2025, 1, 1), D(2025, 10, 1),
                       D(2026, 1, 1)]
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    source = bom()
    for name in ("batteries", "components", "minerals", "entities"):
        frame = source.frame(name).drop("_row")
        cols = [c for c in frame.columns if frame.get_column(c).null_count() < frame.height]
        ws = wb.create_sheet(name)
        ws.append(cols)
        for rec in frame.select(cols).iter_rows():
            ws.append([str(v) if v is not None and not isinstance(v, bool | list) else
                       (";".join(v) if isinstance(v, list) else v) for v in rec])
    path = tmp_path / "bom.xlsx"
    wb.save(path)
    runner = CliRunner()
    result = runner.invoke(main, ["horizon", str(path), "--format", "json", "--from",
                                  "2025-01-01"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["dates"][0] == "2025-01-01"
    assert doc["batteries"][0]["points"][0]["status"] == "fail"
    text = runner.invoke(main, ["horizon", str(path)])
    assert text.exit_code == 0
    assert "stops passing on 2025-01-01" in " ".join(text.stdout.split())

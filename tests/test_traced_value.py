"""30D traced qualifying value and the 50 % value-added safe harbour, worked by hand.

One battery placed in service 2025-03-01 (60 % threshold) with two lines:
- L1 lithium, value $600.00, value added: extraction in AU $350.00 (FTA), processing in CN
  $250.00 (not). 350 / 600 = 58.33 % of its value added qualifies.
- L2 nickel, value $400.00, extracted and processed in ID, no value-added rows: the line-level
  test applies, and it does not qualify.
Total $1,000.00.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal as D

import compliance
from compliance.reader.bom import Bom
from compliance.report.model import RequirementResult, Status

CLEAN = {"incorporated_in": "US", "headquartered_in": "US", "covered_government_voting_pct": 0,
         "covered_government_board_pct": 0, "covered_government_equity_pct": 0,
         "effective_control": False, "restricted_lists": ""}
ENTITIES = [{"entity_id": e, "name": e, **CLEAN} for e in ("MINE", "REF", "CELL")]


def bom(method: str | None, report: str | None, placed: str = "2025-03-01") -> Bom:
    return Bom.from_records(
        batteries=[{"battery_id": "B1", "placed_in_service": placed, "minerals_method": method,
                    "report_date": report}],
        components=[{"battery_id": "B1", "component_id": "C1", "component_type": "battery cell",
                     "country": "US", "manufacturer": "CELL", "incremental_value_usd": "100"}],
        minerals=[
            {"battery_id": "B1", "line_id": "L1", "mineral": "lithium", "value_usd": "600.00",
             "extraction_country": "AU", "extraction_entity": "MINE",
             "processing_country": "CN", "processing_entity": "REF"},
            {"battery_id": "B1", "line_id": "L2", "mineral": "nickel", "value_usd": "400.00",
             "extraction_country": "ID", "extraction_entity": "MINE",
             "processing_country": "ID", "processing_entity": "REF"}],
        value_added=[
            {"battery_id": "B1", "line_id": "L1", "stage": "extraction", "country": "AU",
             "value_added_usd": "350.00"},
            {"battery_id": "B1", "line_id": "L1", "stage": "processing", "country": "CN",
             "value_added_usd": "250.00"}],
        entities=ENTITIES)


def minerals(b: Bom) -> RequirementResult:
    report = compliance.audit(b)
    return next(r for r in report.batteries[0].verdicts[0].requirements
                if r.id == "critical_minerals")


def test_traced_value_counts_only_the_qualifying_value_added() -> None:
    # L1 counts 600 x 350/600 = 350.00; L2 counts 0. 350 / 1000 = 35 % < 60 %.
    # Short by 600.00 - 350.00 = 250.00 and 25 points.
    r = minerals(bom(None, None))
    assert r.status is Status.FAIL
    assert r.actual_pct == D("35.0000")
    assert r.shortfall_usd == D("250.00")
    assert r.shortfall_pct == D("25.0000")
    reasons = {line.item_id: line.reason for line in r.lines}
    assert reasons["L1"] == ("traced: 58.3333 % of its value added qualifies, so $350.00 of "
                             "$600.00 counts - extraction in AU $350.00; processing in CN "
                             "$250.00 (not qualifying)")
    assert "extracted in ID" in reasons["L2"]


def test_safe_harbour_counts_the_whole_line_when_half_its_value_added_qualifies() -> None:
    # 58.33 % >= 50 %: L1 counts in full, 600 / 1000 = 60 % >= 60 %: exactly at the threshold.
    r = minerals(bom("value_added_50", "2025-03-01"))
    assert r.status is Status.PASS
    assert r.actual_pct == D("60.0000")
    assert "50 % value-added safe harbour" in r.explanation
    used = {p.name: (p.value, p.in_force_from) for p in r.parameters}
    assert used["value_added_safe_harbour_pct"] == ("50", dt.date(2024, 5, 6))
    assert used["value_added_safe_harbour_available"] == (True, dt.date(2024, 5, 6))


def test_safe_harbour_written_as_words_is_read() -> None:
    assert minerals(bom("safe harbour", "2025-03-01")).actual_pct == D("60.0000")


def test_value_added_safe_harbour_available_from_2024_05_06() -> None:
    # Report dated 2024-05-05: not available, traced value used (35 %); 2024-05-06: 60 %.
    before = minerals(bom("value_added_50", "2024-05-05"))
    on = minerals(bom("value_added_50", "2024-05-06"))
    assert before.actual_pct == D("35.0000")
    assert "not available for a report dated 2024-05-05" in before.explanation
    assert on.actual_pct == D("60.0000")


def test_value_added_safe_harbour_ends_for_reports_from_2027_01_01() -> None:
    assert minerals(bom("value_added_50", "2026-12-31")).actual_pct == D("60.0000")
    after = minerals(bom("value_added_50", "2027-01-01"))
    assert after.actual_pct == D("35.0000")
    used = {p.name: (p.value, p.in_force_from) for p in after.parameters}
    assert used["value_added_safe_harbour_available"] == (False, dt.date(2027, 1, 1))


def test_report_date_defaults_to_placed_in_service() -> None:
    assert minerals(bom("value_added_50", None)).actual_pct == D("60.0000")


def test_value_added_with_no_country_is_a_gap_that_bounds_the_share() -> None:
    b = Bom.from_records(
        batteries=[{"battery_id": "B1", "placed_in_service": "2025-03-01"}],
        minerals=[{"battery_id": "B1", "line_id": "L1", "mineral": "lithium",
                   "value_usd": "1000", "extraction_country": "AU", "extraction_entity": "MINE",
                   "processing_country": "CN", "processing_entity": "REF"}],
        value_added=[
            {"battery_id": "B1", "line_id": "L1", "stage": "extraction", "country": "AU",
             "value_added_usd": "500"},
            {"battery_id": "B1", "line_id": "L1", "stage": "processing", "country": None,
             "value_added_usd": "500"}],
        entities=ENTITIES)
    # Known 500 of 1000 = 50 % < 60 %, but the unknown 500 could make it 100 %: no verdict.
    r = minerals(b)
    assert r.status is Status.INSUFFICIENT_DATA
    assert r.actual_pct == D("50.0000")
    assert any(g.column == "country" and g.item_id == "L1" for g in r.gaps)


NAMED_CASES: dict[tuple[str, str], Callable[[], None]] = {
    ("value_added_safe_harbour_pct", "2024-05-06"):
        test_safe_harbour_counts_the_whole_line_when_half_its_value_added_qualifies,
    ("value_added_safe_harbour_available", "2024-05-06"):
        test_value_added_safe_harbour_available_from_2024_05_06,
    ("value_added_safe_harbour_available", "2027-01-01"):
        test_value_added_safe_harbour_ends_for_reports_from_2027_01_01,
}

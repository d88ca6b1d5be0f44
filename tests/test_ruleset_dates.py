"""Every dated value of rulesets/us-ira-30d/ruleset.yaml, on the day before and the day it starts.

Two layers:

* ``test_parameter_switches_on_its_start_date`` walks every (parameter, start date) pair read
  straight from the YAML and checks the report's recorded parameter values on both days;
  ``test_every_dated_value_has_a_named_case`` fails when the YAML gains a date that no named,
  hand-computed case below covers.
* Named cases, each with the arithmetic worked by hand: thresholds on both sides of each
  boundary, Japan joining the FTA list, the FEOC starts, the impracticable-to-trace relief and
  the end of the credit for vehicles acquired after 2025-09-30.

BOMs are built in memory with ``Bom.from_records`` (cells read exactly as from a workbook).
Batteries are evaluated on explicit dates; one placed in service after 2025-09-30 is given
``acquired_on`` 2025-09-30 so its credit is still computed.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
import yaml

import compliance
from compliance.reader.bom import Bom
from compliance.report.model import AuditReport, RequirementResult, Status, Verdict

RULESET_FILE = Path(__file__).resolve().parents[1] / "rulesets" / "us-ira-30d" / "ruleset.yaml"
PASS, FAIL = Status.PASS, Status.FAIL
INSUFFICIENT, NA = Status.INSUFFICIENT_DATA, Status.NOT_APPLICABLE
DAY = dt.timedelta(days=1)
NOT_FTA = "(not the US or an FTA country)"


@functools.cache
def ruleset():  # type: ignore[no-untyped-def]
    return compliance.load_ruleset("us-ira-30d")


@functools.cache
def raw_parameters() -> dict[str, dict[dt.date, Any]]:
    """Parameter -> {start date: value}, read from the YAML without the project's loader."""
    data = yaml.safe_load(RULESET_FILE.read_text(encoding="utf-8"))
    return {name: {dt.date.fromisoformat(str(day)): item["value"]
                   for day, item in spec["values"].items()}
            for name, spec in data["parameters"].items()}


def changes() -> list[tuple[str, dt.date]]:
    return sorted((name, day) for name, values in raw_parameters().items() for day in values)


# --------------------------------------------------------------------------------------------
# Building BOMs
# --------------------------------------------------------------------------------------------


def entity(entity_id: str, name: str, incorporated: str, headquartered: str | None = None,
           **extra: Any) -> dict[str, Any]:
    record = {"entity_id": entity_id, "name": name, "incorporated_in": incorporated,
              "headquartered_in": headquartered or incorporated,
              "covered_government_voting_pct": 0, "covered_government_board_pct": 0,
              "covered_government_equity_pct": 0, "effective_control": False}
    record.update(extra)
    return record


ENTITIES = [
    entity("PILBARA", "Pilbara Lithium Pty Ltd", "AU"),
    entity("NEVLIOH", "Nevada Lithium Hydroxide LLC", "US"),
    entity("KATANGA", "Katanga Cobalt Mining SARL", "CD"),
    entity("KOKKOLA", "Kokkola Cobalt Refinery Oy", "FI"),
    entity("SULAWESI", "PT Sulawesi Nickel Mining", "ID"),
    entity("NIIHAMA", "Niihama Nickel Refining KK", "JP"),
    entity("BALAMA", "Balama Graphite Lda", "MZ"),
    entity("GRAPHCO", "Jiangxi Graphite Processing Co Ltd", "HK", "CN"),
    entity("OHIOCELL", "Ohio Cell Manufacturing LLC", "US"),
    entity("HWASEONG", "Hwaseong Cathode Materials Co Ltd", "KR"),
    entity("NINGBO", "Ningbo Cathode Technology Co Ltd", "CN"),
]


def lithium(line_id: str, value: str) -> dict[str, Any]:
    """Extracted in AU, processed in the US: qualifies on every date the lists are in force."""
    return {"line_id": line_id, "mineral": "lithium", "value_usd": value,
            "extraction_country": "AU", "extraction_entity": "PILBARA",
            "processing_country": "US", "processing_entity": "NEVLIOH"}


def cobalt(line_id: str, value: str) -> dict[str, Any]:
    """Extracted in CD, processed in FI: never qualifies, never a FEOC."""
    return {"line_id": line_id, "mineral": "cobalt", "value_usd": value,
            "extraction_country": "CD", "extraction_entity": "KATANGA",
            "processing_country": "FI", "processing_entity": "KOKKOLA"}


def nickel_japan(line_id: str, value: str) -> dict[str, Any]:
    return {"line_id": line_id, "mineral": "nickel", "value_usd": value,
            "extraction_country": "ID", "extraction_entity": "SULAWESI",
            "processing_country": "JP", "processing_entity": "NIIHAMA"}


def graphite_china(line_id: str, value: str, itt: bool = False) -> dict[str, Any]:
    return {"line_id": line_id, "mineral": "graphite", "value_usd": value,
            "extraction_country": "MZ", "extraction_entity": "BALAMA",
            "processing_country": "CN", "processing_entity": "GRAPHCO",
            "impracticable_to_trace": itt}


def cell_us(component_id: str, value: str) -> dict[str, Any]:
    return {"component_id": component_id, "component_type": "battery cell", "country": "US",
            "manufacturer": "OHIOCELL", "incremental_value_usd": value}


def cathode_kr(component_id: str, value: str) -> dict[str, Any]:
    return {"component_id": component_id, "component_type": "cathode electrode",
            "country": "KR", "manufacturer": "HWASEONG", "incremental_value_usd": value}


def share_minerals(qualifying: str, other: str) -> list[dict[str, Any]]:
    lines = [lithium("M-01", qualifying)]
    if D(other):
        lines.append(cobalt("M-02", other))
    return lines


def share_components(qualifying: str, other: str) -> list[dict[str, Any]]:
    rows = [cell_us("C-01", qualifying)]
    if D(other):
        rows.append(cathode_kr("C-02", other))
    return rows


ALL_MINERALS = share_minerals("1000.00", "0")  # 100 % qualifies
ALL_COMPONENTS = share_components("1000.00", "0")


def acquired_for(placed: dt.date) -> dt.date | None:
    """Keep the credit computable: vehicles placed later are bought on the last good day."""
    last = dt.date(2025, 9, 30)
    return last if placed > last else None


def make_bom(batteries: Iterable[tuple[str, Any, Any, list[dict[str, Any]],
                                       list[dict[str, Any]]]]) -> Bom:
    """``batteries``: (battery_id, placed_in_service, acquired_on, minerals, components)."""
    bats, mins, comps = [], [], []
    for battery_id, placed, acquired, minerals, components in batteries:
        bats.append({"battery_id": battery_id, "placed_in_service": placed,
                     "acquired_on": acquired})
        mins += [{"battery_id": battery_id, **m} for m in minerals]
        comps += [{"battery_id": battery_id, **c} for c in components]
    return Bom.from_records(batteries=bats, components=comps, minerals=mins, entities=ENTITIES)


def before_and_on(day: dt.date, minerals: list[dict[str, Any]] = ALL_MINERALS,
                  components: list[dict[str, Any]] = ALL_COMPONENTS, *,
                  acquired_same_day: bool = False) -> AuditReport:
    """Battery BEFORE placed in service the day before ``day``, battery ON on ``day``; each
    acquired the same day when ``acquired_same_day``, else as :func:`acquired_for` says."""
    def acquired(placed: dt.date) -> dt.date | None:
        return None if acquired_same_day else acquired_for(placed)

    bom = make_bom([("BEFORE", day - DAY, acquired(day - DAY), minerals, components),
                    ("ON", day, acquired(day), minerals, components)])
    report = compliance.audit(bom, rulesets=[ruleset()])
    assert report.findings == []
    return report


def verdict(report: AuditReport, battery_id: str) -> Verdict:
    (battery,) = [b for b in report.batteries if b.battery_id == battery_id]
    return battery.verdicts[0]


def req(report: AuditReport, battery_id: str, requirement: str) -> RequirementResult:
    (found,) = [r for r in verdict(report, battery_id).requirements if r.id == requirement]
    return found


def statuses(report: AuditReport, battery_id: str) -> dict[str, Status]:
    return {r.id: r.status for r in verdict(report, battery_id).requirements}


def param(result: RequirementResult, name: str):  # type: ignore[no-untyped-def]
    (use,) = [p for p in result.parameters if p.name == name]
    return use


def assert_share(r: RequirementResult, status: Status, actual: str, required: str | None,
                 shortfall_pct: str | None = None, shortfall_usd: str | None = None) -> None:
    assert r.status is status, r.explanation
    assert r.actual_pct == D(actual)
    assert r.required_pct == (D(required) if required is not None else None)
    assert r.shortfall_pct == (D(shortfall_pct) if shortfall_pct is not None else None)
    assert r.shortfall_usd == (D(shortfall_usd) if shortfall_usd is not None else None)


# --------------------------------------------------------------------------------------------
# Every dated value, programmatically
# --------------------------------------------------------------------------------------------


def _expected(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, list):
        return value
    return str(D(str(value)))


# Read only for batteries that elect the value-added safe harbour and give value added per stage;
# their dates are covered by the named cases in tests/test_traced_value.py.
CONDITIONAL = {"value_added_safe_harbour_pct", "value_added_safe_harbour_available"}


@pytest.mark.parametrize(("name", "day"),
                         [c for c in changes() if c[0] not in CONDITIONAL], ids=lambda x: str(x))
def test_parameter_switches_on_its_start_date(name: str, day: dt.date) -> None:
    values = raw_parameters()[name]
    earlier = [d for d in values if d < day]
    previous = max(earlier) if earlier else None
    report = before_and_on(day, acquired_same_day=True)
    for battery_id, start in (("BEFORE", previous), ("ON", day)):
        uses = [p for r in verdict(report, battery_id).requirements for p in r.parameters
                if p.name == name]
        assert uses, f"{name} is not used by any requirement"
        # placed_in_service and acquired are the same day here, so every use agrees.
        for use in uses:
            assert use.in_force_from == start, (battery_id, use)
            assert use.value == _expected(values[start] if start else None), (battery_id, use)


THRESHOLDS = ("critical_minerals_pct", "battery_components_pct")


@pytest.mark.parametrize(("name", "day"), [c for c in changes() if c[0] in THRESHOLDS],
                         ids=lambda x: str(x))
def test_threshold_boundary_from_yaml(name: str, day: dt.date) -> None:
    """A share between the old and the new threshold passes the day before and fails on the day
    (or, for the first value, is not applicable the day before and passes exactly at it)."""
    values = raw_parameters()[name]
    new = D(str(values[day]))
    earlier = [d for d in values if d < day]
    old = D(str(values[max(earlier)])) if earlier else None
    share = new if old is None else (old + new) / 2  # e.g. 55 between 50 and 60
    qualifying = share * 10  # of 1,000.00
    mix = (f"{qualifying:.2f}", f"{1000 - qualifying:.2f}")
    if name == "critical_minerals_pct":
        report = before_and_on(day, minerals=share_minerals(*mix))
        rid = "critical_minerals"
    else:
        report = before_and_on(day, components=share_components(*mix))
        rid = "battery_components"
    before, on = req(report, "BEFORE", rid), req(report, "ON", rid)
    if old is None:
        assert before.status is NA and on.status is PASS
        return
    assert before.status is PASS and before.required_pct == old
    assert on.status is FAIL and on.required_pct == new
    # Needed new% x 1,000.00 - qualifying = (new - share) x 10 dollars.
    assert on.shortfall_usd == (new - share) * 10
    assert on.shortfall_pct == new - share


# --------------------------------------------------------------------------------------------
# Named cases
# --------------------------------------------------------------------------------------------


def test_ira_enactment_nothing_applies_on_2022_08_15_credit_available_on_2022_08_16() -> None:
    report = before_and_on(dt.date(2022, 8, 16))
    assert req(report, "BEFORE", "in_effect").status is NA
    assert req(report, "BEFORE", "in_effect").explanation == (
        "acquired on 2022-08-15, before this ruleset's coverage begins")
    assert req(report, "ON", "in_effect").status is PASS
    for battery_id in ("BEFORE", "ON"):
        # No threshold until 2023-04-18, and no FEOC rule: the battery is outside the rules.
        assert verdict(report, battery_id).status is NA
        assert verdict(report, battery_id).credit_usd is None
    cm_before, cm_on = (req(report, b, "critical_minerals") for b in ("BEFORE", "ON"))
    assert param(cm_before, "united_states").value is None
    assert param(cm_on, "united_states").value == ["US"]
    assert param(cm_on, "north_america").value == ["US", "CA", "MX"]
    assert param(cm_before, "applicable_critical_minerals").value is None
    assert "lithium" in param(cm_on, "applicable_critical_minerals").value
    assert "JP" not in param(cm_on, "fta_countries").value
    # 1,000.00 of 1,000.00 extracted in AU and processed in the US.
    assert cm_on.actual_pct == D("100.0000") and cm_on.lines == []
    fc = req(report, "ON", "feoc_components")
    assert param(fc, "feoc_components_in_force").value is False
    assert param(req(report, "ON", "feoc_minerals"), "feoc_minerals_in_force").value is False
    assert param(req(report, "BEFORE", "feoc_minerals"), "feoc_minerals_in_force").value is None


def test_us_component_is_not_called_non_north_american_before_2022_08_16() -> None:
    report = before_and_on(dt.date(2022, 8, 16))
    bc = req(report, "BEFORE", "battery_components")
    assert [line.reason for line in bc.lines] == []
    assert bc.actual_pct != D("0")


def test_thresholds_not_applicable_on_2023_04_17_applicable_40_and_50_pct_on_2023_04_18() -> None:
    # Minerals 400.00 of 1,000.00 = 40 %; components 500.00 of 1,000.00 = 50 %: exactly at the
    # first thresholds, so both pass on 2023-04-18.
    report = before_and_on(dt.date(2023, 4, 18), minerals=share_minerals("400.00", "600.00"),
                           components=share_components("500.00", "500.00"))
    assert_share(req(report, "BEFORE", "critical_minerals"), NA, "40.0000", None)
    assert_share(req(report, "BEFORE", "battery_components"), NA, "50.0000", None)
    assert req(report, "BEFORE", "critical_minerals").credit_usd is None
    assert verdict(report, "BEFORE").status is NA
    assert verdict(report, "BEFORE").credit_usd is None
    assert_share(req(report, "ON", "critical_minerals"), PASS, "40.0000", "40")
    assert_share(req(report, "ON", "battery_components"), PASS, "50.0000", "50")
    assert req(report, "ON", "critical_minerals").credit_usd == D("3750")
    assert req(report, "ON", "battery_components").credit_usd == D("3750")
    assert verdict(report, "ON").status is PASS
    assert verdict(report, "ON").credit_usd == D("7500")


def test_critical_minerals_39_99_pct_fails_on_2023_04_18() -> None:
    # 399.90 of 1,000.00 = 39.99 %; needed 40 % x 1,000.00 = 400.00; short 0.10; 0.01 points.
    report = before_and_on(dt.date(2023, 4, 18), minerals=share_minerals("399.90", "600.10"))
    assert_share(req(report, "ON", "critical_minerals"), FAIL, "39.9900", "40", "0.0100", "0.10")
    assert verdict(report, "ON").credit_usd == D("3750")  # components 100 % still earn theirs


def test_critical_minerals_45_pct_passes_on_2023_12_31_fails_on_2024_01_01() -> None:
    # 450.00 of 1,000.00 = 45 %: >= 40 on 2023-12-31; < 50 on 2024-01-01:
    # needed 500.00, short 50.00, 5 points.
    report = before_and_on(dt.date(2024, 1, 1), minerals=share_minerals("450.00", "550.00"))
    assert_share(req(report, "BEFORE", "critical_minerals"), PASS, "45.0000", "40")
    assert_share(req(report, "ON", "critical_minerals"), FAIL, "45.0000", "50", "5.0000", "50.00")
    assert verdict(report, "BEFORE").credit_usd == D("7500")
    assert verdict(report, "ON").credit_usd == D("3750")
    assert verdict(report, "ON").summary == "fails critical_minerals; credit $3,750.00"


def test_critical_minerals_55_pct_passes_on_2024_12_31_fails_on_2025_01_01() -> None:
    # 550.00 of 1,000.00 = 55 %: >= 50 on 2024-12-31; < 60 on 2025-01-01:
    # needed 600.00, short 50.00, 5 points.
    report = before_and_on(dt.date(2025, 1, 1), minerals=share_minerals("550.00", "450.00"))
    assert_share(req(report, "BEFORE", "critical_minerals"), PASS, "55.0000", "50")
    assert_share(req(report, "ON", "critical_minerals"), FAIL, "55.0000", "60", "5.0000", "50.00")
    assert (verdict(report, "BEFORE").credit_usd, verdict(report, "ON").credit_usd) == (
        D("7500"), D("3750"))
    assert req(report, "ON", "critical_minerals").lines[0].reason == (
        f"extracted in CD {NOT_FTA}; processed in FI {NOT_FTA}; not recycled")


def test_critical_minerals_65_pct_passes_on_2025_12_31_fails_on_2026_01_01() -> None:
    # Both acquired 2025-09-30. 650.00 of 1,000.00 = 65 %: >= 60; < 70 on 2026-01-01:
    # needed 700.00, short 50.00.
    report = before_and_on(dt.date(2026, 1, 1), minerals=share_minerals("650.00", "350.00"))
    assert_share(req(report, "BEFORE", "critical_minerals"), PASS, "65.0000", "60")
    assert_share(req(report, "ON", "critical_minerals"), FAIL, "65.0000", "70", "5.0000", "50.00")
    assert (verdict(report, "BEFORE").credit_usd, verdict(report, "ON").credit_usd) == (
        D("7500"), D("3750"))


def test_critical_minerals_75_pct_passes_on_2026_12_31_fails_on_2027_01_01() -> None:
    # 750.00 of 1,000.00 = 75 %: >= 70; < 80 on 2027-01-01: needed 800.00, short 50.00.
    report = before_and_on(dt.date(2027, 1, 1), minerals=share_minerals("750.00", "250.00"))
    assert_share(req(report, "BEFORE", "critical_minerals"), PASS, "75.0000", "70")
    assert_share(req(report, "ON", "critical_minerals"), FAIL, "75.0000", "80", "5.0000", "50.00")


def test_battery_components_55_pct_passes_on_2023_12_31_fails_on_2024_01_01() -> None:
    # 550.00 of 1,000.00 = 55 %: >= 50; < 60 on 2024-01-01: needed 600.00, short 50.00.
    report = before_and_on(dt.date(2024, 1, 1), components=share_components("550.00", "450.00"))
    assert_share(req(report, "BEFORE", "battery_components"), PASS, "55.0000", "50")
    assert_share(req(report, "ON", "battery_components"), FAIL, "55.0000", "60", "5.0000",
                 "50.00")
    assert req(report, "ON", "battery_components").lines[0].reason == (
        "made in KR (not North America)")
    assert (verdict(report, "BEFORE").credit_usd, verdict(report, "ON").credit_usd) == (
        D("7500"), D("3750"))


def test_battery_components_65_pct_passes_through_2025_fails_on_2026_01_01() -> None:
    # The components threshold does not change on 2025-01-01 (60 % from 2024 to 2025).
    comps = share_components("650.00", "350.00")
    report = before_and_on(dt.date(2025, 1, 1), components=comps)
    assert_share(req(report, "BEFORE", "battery_components"), PASS, "65.0000", "60")
    assert_share(req(report, "ON", "battery_components"), PASS, "65.0000", "60")
    # 65 % < 70 % on 2026-01-01: needed 700.00, short 50.00.
    report = before_and_on(dt.date(2026, 1, 1), components=comps)
    assert_share(req(report, "BEFORE", "battery_components"), PASS, "65.0000", "60")
    assert_share(req(report, "ON", "battery_components"), FAIL, "65.0000", "70", "5.0000",
                 "50.00")


def test_battery_components_75_pct_passes_on_2026_12_31_fails_on_2027_01_01() -> None:
    report = before_and_on(dt.date(2027, 1, 1), components=share_components("750.00", "250.00"))
    assert_share(req(report, "BEFORE", "battery_components"), PASS, "75.0000", "70")
    assert_share(req(report, "ON", "battery_components"), FAIL, "75.0000", "80", "5.0000",
                 "50.00")


def test_battery_components_85_pct_passes_on_2027_12_31_fails_on_2028_01_01() -> None:
    report = before_and_on(dt.date(2028, 1, 1), components=share_components("850.00", "150.00"))
    assert_share(req(report, "BEFORE", "battery_components"), PASS, "85.0000", "80")
    assert_share(req(report, "ON", "battery_components"), FAIL, "85.0000", "90", "5.0000",
                 "50.00")


def test_battery_components_95_pct_passes_on_2028_12_31_fails_on_2029_01_01() -> None:
    report = before_and_on(dt.date(2029, 1, 1), components=share_components("950.00", "50.00"))
    assert_share(req(report, "BEFORE", "battery_components"), PASS, "95.0000", "90")
    assert_share(req(report, "ON", "battery_components"), FAIL, "95.0000", "100", "5.0000",
                 "50.00")


def test_battery_components_100_pct_passes_99_999_pct_fails_from_2029_01_01() -> None:
    # 999.99 of 1,000.00 = 99.999 %; needed 100 % x 1,000.00 = 1,000.00; short 0.01;
    # 0.001 points.
    day = dt.date(2029, 1, 1)
    bom = make_bom([("ALL", day, acquired_for(day), ALL_MINERALS, ALL_COMPONENTS),
                    ("ALMOST", day, acquired_for(day), ALL_MINERALS,
                     share_components("999.99", "0.01"))])
    report = compliance.audit(bom, rulesets=[ruleset()])
    assert_share(req(report, "ALL", "battery_components"), PASS, "100.0000", "100")
    assert_share(req(report, "ALMOST", "battery_components"), FAIL, "99.9990", "100", "0.0010",
                 "0.01")
    assert req(report, "ALMOST", "battery_components").lines[0].share_pct == D("0.0010")


def test_nickel_processed_in_japan_not_fta_on_2023_03_27_fta_on_2023_03_28() -> None:
    # Nickel 600.00 (ID / JP) + cobalt 400.00 (CD / FI). On 2023-03-27 nothing qualifies
    # (0 of 1,000.00); from 2023-03-28 the nickel does (600.00 of 1,000.00 = 60 %). No
    # threshold applies before 2023-04-18, so both are not_applicable.
    minerals = [nickel_japan("N-01", "600.00"), cobalt("N-02", "400.00")]
    report = before_and_on(dt.date(2023, 3, 28), minerals=minerals)
    before, on = req(report, "BEFORE", "critical_minerals"), req(report, "ON", "critical_minerals")
    assert_share(before, NA, "0.0000", None)
    assert [line.item_id for line in before.lines] == ["N-01", "N-02"]
    assert before.lines[0].reason == (
        f"extracted in ID {NOT_FTA}; processed in JP {NOT_FTA}; not recycled")
    assert before.lines[0].share_pct == D("60.0000")
    assert_share(on, NA, "60.0000", None)
    assert [line.item_id for line in on.lines] == ["N-02"]
    assert param(before, "fta_countries").in_force_from == dt.date(2022, 8, 16)
    assert param(on, "fta_countries").in_force_from == dt.date(2023, 3, 28)
    # Once a threshold applies the same line counts: 60 % >= 40 % on 2023-04-18.
    report = before_and_on(dt.date(2023, 4, 18), minerals=minerals)
    assert_share(req(report, "ON", "critical_minerals"), PASS, "60.0000", "40")


def test_feoc_components_not_in_force_on_2023_12_31_in_force_on_2024_01_01() -> None:
    # Cell US 700.00 + cathode made in CN by NINGBO (CN) 300.00: 70 % made in North America.
    components = [cell_us("C-01", "700.00"),
                  {"component_id": "C-02", "component_type": "cathode electrode",
                   "country": "CN", "manufacturer": "NINGBO", "incremental_value_usd": "300.00"}]
    report = before_and_on(dt.date(2024, 1, 1), components=components)
    assert req(report, "BEFORE", "feoc_components").status is NA
    assert req(report, "BEFORE", "feoc_components").explanation == (
        "not in force for batteries placed in service on 2023-12-31")
    assert verdict(report, "BEFORE").status is PASS  # 70 % >= 50 %, minerals 100 % >= 40 %
    assert verdict(report, "BEFORE").credit_usd == D("7500")
    fc = req(report, "ON", "feoc_components")
    assert fc.status is FAIL
    # 300.00 of 1,000.00 = 30 % of the component value involves a FEOC.
    assert fc.actual_pct == D("30.0000") and fc.shortfall_usd == D("300.00")
    (line,) = fc.lines
    assert line.item_id == "C-02"
    assert line.reason == ("made in CN by NINGBO: performs manufacturing in a covered nation; "
                           "incorporated in a covered nation (CN); headquartered in a covered "
                           "nation (CN)")
    assert_share(req(report, "ON", "battery_components"), PASS, "70.0000", "60")
    assert verdict(report, "ON").status is FAIL
    assert verdict(report, "ON").credit_usd == D("0")


def test_feoc_minerals_not_in_force_on_2024_12_31_in_force_on_2025_01_01() -> None:
    # Lithium 700.00 (AU / US) + graphite 300.00 processed in CN by GRAPHCO: 70 % qualifies.
    minerals = [lithium("M-01", "700.00"), graphite_china("M-02", "300.00")]
    report = before_and_on(dt.date(2025, 1, 1), minerals=minerals)
    assert req(report, "BEFORE", "feoc_minerals").status is NA
    assert verdict(report, "BEFORE").credit_usd == D("7500")
    fm = req(report, "ON", "feoc_minerals")
    assert fm.status is FAIL
    assert fm.actual_pct == D("30.0000") and fm.shortfall_usd == D("300.00")
    (line,) = fm.lines
    assert line.reason == ("processed in CN by GRAPHCO: performs processing in a covered "
                           "nation; headquartered in a covered nation (CN)")
    assert_share(req(report, "ON", "critical_minerals"), PASS, "70.0000", "60")
    assert verdict(report, "ON").credit_usd == D("0")
    assert verdict(report, "ON").summary == "fails feoc_minerals; credit $0.00"


def test_itt_relief_not_in_force_on_2024_05_05_in_force_on_2024_05_06() -> None:
    # FEOC minerals only starts 2025-01-01, so the relief's start changes no verdict; the
    # parameter the report records does change.
    minerals = [lithium("M-01", "700.00"), graphite_china("M-02", "300.00", itt=True)]
    report = before_and_on(dt.date(2024, 5, 6), minerals=minerals)
    for battery_id, relief in (("BEFORE", None), ("ON", True)):
        fm = req(report, battery_id, "feoc_minerals")
        assert fm.status is NA and fm.relieved == [] and fm.lines == []
        assert param(fm, "impracticable_to_trace_relief").value is relief
        assert verdict(report, battery_id).credit_usd == D("7500")  # 70 % >= 50 %


def test_itt_relief_applies_on_2026_12_31_ends_on_2027_01_01() -> None:
    # Lithium 900.00 + graphite 100.00 (CN, GRAPHCO) marked impracticable to trace: 90 %
    # qualifies, above both 70 % (2026) and 80 % (2027). Both acquired 2025-09-30.
    minerals = [lithium("M-01", "900.00"), graphite_china("M-02", "100.00", itt=True)]
    report = before_and_on(dt.date(2027, 1, 1), minerals=minerals)
    before = req(report, "BEFORE", "feoc_minerals")
    assert before.status is PASS and before.lines == []
    (relieved,) = before.relieved
    assert (relieved.item_id, relieved.value_usd, relieved.share_pct) == (
        "M-02", D("100.00"), D("10.0000"))
    assert relieved.reason.startswith("left out of the FEOC test: marked impracticable to trace")
    assert verdict(report, "BEFORE").status is PASS
    assert verdict(report, "BEFORE").credit_usd == D("7500")
    on = req(report, "ON", "feoc_minerals")
    assert on.status is FAIL and on.relieved == []
    assert [line.item_id for line in on.lines] == ["M-02"]
    assert on.actual_pct == D("10.0000") and on.shortfall_usd == D("100.00")
    assert statuses(report, "ON") == {
        "in_effect": PASS, "critical_minerals": PASS, "battery_components": PASS,
        "feoc_components": PASS, "feoc_minerals": FAIL}
    assert verdict(report, "ON").credit_usd == D("0")


def test_feoc_entity_tests_defined_from_2023_12_04() -> None:
    # The 25 % government-share line and the effective-control test start 2023-12-04; FEOC
    # components only from 2024-01-01, so no verdict changes on that day.
    report = before_and_on(dt.date(2023, 12, 4))
    for battery_id, share, control in (("BEFORE", None, None), ("ON", "25", True)):
        fc = req(report, battery_id, "feoc_components")
        assert fc.status is NA
        assert param(fc, "feoc_government_share_pct").value == share
        assert param(fc, "feoc_effective_control_test").value is control


def test_covered_nations_and_lists_defined_from_2021_11_15() -> None:
    report = compliance.audit(make_bom([("B", "2021-12-01", None, ALL_MINERALS,
                                         ALL_COMPONENTS)]),
                              rulesets=[ruleset()], as_of=dt.date(2021, 11, 14))
    fc = req(report, "B", "feoc_components")
    assert param(fc, "covered_nations").value is None
    assert param(fc, "feoc_lists").value is None
    assert verdict(report, "B").status is NA
    report = compliance.audit(make_bom([("B", "2021-12-01", None, ALL_MINERALS,
                                         ALL_COMPONENTS)]),
                              rulesets=[ruleset()], as_of=dt.date(2021, 11, 15))
    fc = req(report, "B", "feoc_components")
    assert param(fc, "covered_nations").value == ["CN", "RU", "KP", "IR"]
    assert param(fc, "feoc_lists").value == ["FTO", "SDN"]
    assert fc.status is NA  # FEOC components not in force until 2024-01-01


def test_government_share_25_pct_is_caught_24_99_is_not_on_2024_01_01() -> None:
    owned = [
        entity("STATE25", "Korea Cathode Holdings (state fund 25 %)", "KR",
               covered_government_equity_pct="25"),
        entity("STATE2499", "Korea Cathode Holdings (state fund 24.99 %)", "KR",
               covered_government_equity_pct="24.99"),
        entity("LICENSED", "Ohio Licensed Cells LLC", "US", effective_control=True),
        entity("LISTED", "Listed Cells Ltd", "SG", restricted_lists="SDN"),
    ]
    bats, comps = [], []
    for maker in ("STATE25", "STATE2499", "LICENSED", "LISTED"):
        bats.append({"battery_id": maker, "placed_in_service": "2024-01-01"})
        comps.append({"battery_id": maker, "component_id": "C-01",
                      "component_type": "cathode electrode", "country": "US",
                      "manufacturer": maker, "incremental_value_usd": "1000.00"})
    mins = [{"battery_id": b["battery_id"], **lithium("M-01", "1000.00")} for b in bats]
    bom = Bom.from_records(batteries=bats, components=comps, minerals=mins,
                           entities=ENTITIES + owned)
    report = compliance.audit(bom, rulesets=[ruleset()])
    reasons = {b: [line.reason for line in req(report, b, "feoc_components").lines]
               for b in ("STATE25", "STATE2499", "LICENSED", "LISTED")}
    assert reasons == {
        "STATE25": ["made in US by STATE25: a covered-nation government holds 25 % of its "
                    "equity"],
        "STATE2499": [],
        "LICENSED": ["made in US by LICENSED: a licence or contract gives a covered-nation "
                     "government effective control"],
        "LISTED": ["made in US by LISTED: on the SDN list"],
    }
    assert verdict(report, "STATE2499").credit_usd == D("7500")
    assert verdict(report, "STATE25").credit_usd == D("0")


def test_credit_ends_for_vehicles_acquired_after_2025_09_30() -> None:
    # Both placed in service 2025-10-15 with passing shares (100 % / 100 %).
    day = dt.date(2025, 10, 15)
    bom = make_bom([("ACQ-0930", day, "2025-09-30", ALL_MINERALS, ALL_COMPONENTS),
                    ("ACQ-1001", day, "2025-10-01", ALL_MINERALS, ALL_COMPONENTS),
                    ("NO-DATE", "2025-10-01", None, ALL_MINERALS, ALL_COMPONENTS)])
    report = compliance.audit(bom, rulesets=[ruleset()])
    assert req(report, "ACQ-0930", "in_effect").status is PASS
    assert verdict(report, "ACQ-0930").credit_usd == D("7500")
    ie = req(report, "ACQ-1001", "in_effect")
    assert ie.status is FAIL and ie.date == dt.date(2025, 10, 1)
    assert ie.explanation == ("acquired on 2025-10-01, after the credit ended (no credit for "
                              "vehicles acquired after 2025-09-30)")
    assert param(ie, "credit_available").in_force_from == dt.date(2025, 10, 1)
    assert verdict(report, "ACQ-1001").status is FAIL
    assert verdict(report, "ACQ-1001").credit_usd == D("0")
    # acquired_on empty: the acquisition date is placed_in_service, 2025-10-01.
    assert verdict(report, "NO-DATE").dates["acquired"] == dt.date(2025, 10, 1)
    assert req(report, "NO-DATE", "in_effect").status is FAIL


def test_as_of_2025_09_30_vs_2025_10_01() -> None:
    # as_of sets every date of the battery, acquisition included.
    bom = make_bom([("B", "2024-06-30", None, ALL_MINERALS, ALL_COMPONENTS)])
    last = compliance.audit(bom, rulesets=[ruleset()], as_of="2025-09-30")
    after = compliance.audit(bom, rulesets=[ruleset()], as_of="2025-10-01")
    assert verdict(last, "B").date_source == "as_of"
    assert verdict(last, "B").status is PASS and verdict(last, "B").credit_usd == D("7500")
    assert req(after, "B", "in_effect").status is FAIL
    assert verdict(after, "B").credit_usd == D("0")


def test_unreadable_acquisition_date_is_not_replaced_by_placed_in_service() -> None:
    bom = make_bom([("B", "2025-09-20", "2025-10-0l", ALL_MINERALS, ALL_COMPONENTS)])
    report = compliance.audit(bom, rulesets=[ruleset()])
    assert [f.code for f in report.findings] == ["invalid-date"]
    assert req(report, "B", "in_effect").status is INSUFFICIENT
    assert verdict(report, "B").credit_usd is None


# Every dated value of the YAML, and the named case that shows it on both sides of its date.
NAMED_CASES: dict[tuple[str, str], Callable[..., None]] = {
    ("credit_available", "2022-08-16"):
        test_ira_enactment_nothing_applies_on_2022_08_15_credit_available_on_2022_08_16,
    ("credit_available", "2025-10-01"): test_credit_ends_for_vehicles_acquired_after_2025_09_30,
    ("critical_minerals_pct", "2023-04-18"):
        test_thresholds_not_applicable_on_2023_04_17_applicable_40_and_50_pct_on_2023_04_18,
    ("critical_minerals_pct", "2024-01-01"):
        test_critical_minerals_45_pct_passes_on_2023_12_31_fails_on_2024_01_01,
    ("critical_minerals_pct", "2025-01-01"):
        test_critical_minerals_55_pct_passes_on_2024_12_31_fails_on_2025_01_01,
    ("critical_minerals_pct", "2026-01-01"):
        test_critical_minerals_65_pct_passes_on_2025_12_31_fails_on_2026_01_01,
    ("critical_minerals_pct", "2027-01-01"):
        test_critical_minerals_75_pct_passes_on_2026_12_31_fails_on_2027_01_01,
    ("battery_components_pct", "2023-04-18"):
        test_thresholds_not_applicable_on_2023_04_17_applicable_40_and_50_pct_on_2023_04_18,
    ("battery_components_pct", "2024-01-01"):
        test_battery_components_55_pct_passes_on_2023_12_31_fails_on_2024_01_01,
    ("battery_components_pct", "2026-01-01"):
        test_battery_components_65_pct_passes_through_2025_fails_on_2026_01_01,
    ("battery_components_pct", "2027-01-01"):
        test_battery_components_75_pct_passes_on_2026_12_31_fails_on_2027_01_01,
    ("battery_components_pct", "2028-01-01"):
        test_battery_components_85_pct_passes_on_2027_12_31_fails_on_2028_01_01,
    ("battery_components_pct", "2029-01-01"):
        test_battery_components_95_pct_passes_on_2028_12_31_fails_on_2029_01_01,
    ("critical_minerals_credit_usd", "2023-04-18"):
        test_thresholds_not_applicable_on_2023_04_17_applicable_40_and_50_pct_on_2023_04_18,
    ("battery_components_credit_usd", "2023-04-18"):
        test_thresholds_not_applicable_on_2023_04_17_applicable_40_and_50_pct_on_2023_04_18,
    ("applicable_critical_minerals", "2022-08-16"):
        test_ira_enactment_nothing_applies_on_2022_08_15_credit_available_on_2022_08_16,
    ("united_states", "2022-08-16"):
        test_ira_enactment_nothing_applies_on_2022_08_15_credit_available_on_2022_08_16,
    ("fta_countries", "2022-08-16"):
        test_ira_enactment_nothing_applies_on_2022_08_15_credit_available_on_2022_08_16,
    ("fta_countries", "2023-03-28"):
        test_nickel_processed_in_japan_not_fta_on_2023_03_27_fta_on_2023_03_28,
    ("north_america", "2022-08-16"):
        test_ira_enactment_nothing_applies_on_2022_08_15_credit_available_on_2022_08_16,
    ("feoc_components_in_force", "2022-08-16"):
        test_ira_enactment_nothing_applies_on_2022_08_15_credit_available_on_2022_08_16,
    ("feoc_components_in_force", "2024-01-01"):
        test_feoc_components_not_in_force_on_2023_12_31_in_force_on_2024_01_01,
    ("feoc_minerals_in_force", "2022-08-16"):
        test_ira_enactment_nothing_applies_on_2022_08_15_credit_available_on_2022_08_16,
    ("feoc_minerals_in_force", "2025-01-01"):
        test_feoc_minerals_not_in_force_on_2024_12_31_in_force_on_2025_01_01,
    ("impracticable_to_trace_relief", "2024-05-06"):
        test_itt_relief_not_in_force_on_2024_05_05_in_force_on_2024_05_06,
    ("impracticable_to_trace_relief", "2027-01-01"):
        test_itt_relief_applies_on_2026_12_31_ends_on_2027_01_01,
    ("covered_nations", "2021-11-15"): test_covered_nations_and_lists_defined_from_2021_11_15,
    ("feoc_government_share_pct", "2023-12-04"): test_feoc_entity_tests_defined_from_2023_12_04,
    ("feoc_effective_control_test", "2023-12-04"): test_feoc_entity_tests_defined_from_2023_12_04,
    ("feoc_lists", "2021-11-15"): test_covered_nations_and_lists_defined_from_2021_11_15,
}


def test_every_dated_value_has_a_named_case() -> None:
    from test_traced_value import NAMED_CASES as TRACED_CASES

    in_yaml = {(name, day.isoformat()) for name, day in changes()}
    assert set(NAMED_CASES) | set(TRACED_CASES) == in_yaml
    # The loaded ruleset holds the same dates as the raw YAML (nothing dropped or added).
    loaded = {(name, day.isoformat()) for name, p in ruleset().ruleset.parameters.items()
              for day in p.change_dates()}
    assert loaded == in_yaml

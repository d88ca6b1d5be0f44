"""The committed fixture workbooks (fixtures/*.xlsx) and their verdicts, worked out by hand.

Each fixture's lines are defined in fixtures/generate.py. Arithmetic in the comments uses the
engine's rules: shares are qualifying * 100 / total, shown cut (not rounded) to 4 places;
``shortfall_usd`` = threshold% x total - qualifying, rounded up to the cent; ``shortfall_pct``
= threshold - exact share, rounded up to 4 places; a line's ``share_pct`` is rounded half-even.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from decimal import Decimal as D
from pathlib import Path
from types import ModuleType

from click.testing import CliRunner

import compliance
from compliance.cli import main as cli
from compliance.report.model import AuditReport, RequirementResult, Status, Verdict

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"

PASS, FAIL = Status.PASS, Status.FAIL
INSUFFICIENT, NA = Status.INSUFFICIENT_DATA, Status.NOT_APPLICABLE

NOT_FTA = "(not the US or an FTA country)"


def not_qualifying(extracted: str, processed: str) -> str:
    return f"extracted in {extracted} {NOT_FTA}; processed in {processed} {NOT_FTA}; not recycled"


GRAPHCO_REASON = ("processed in CN by GRAPHCO: performs processing in a covered nation; "
                  "headquartered in a covered nation (CN)")
ITT_RELIEF = ("left out of the FEOC test: marked impracticable to trace (transition relief for "
              "vehicles placed in service before 2027-01-01, 26 CFR 1.30D-6(b)(2))")


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fixture_generator", FIXTURES / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


@functools.cache
def audit(name: str) -> AuditReport:
    return compliance.audit(FIXTURES / name)


def verdict(report: AuditReport, battery_id: str) -> Verdict:
    (battery,) = [b for b in report.batteries if b.battery_id == battery_id]
    (only,) = battery.verdicts
    return only


def req(report: AuditReport, battery_id: str, requirement: str) -> RequirementResult:
    (found,) = [r for r in verdict(report, battery_id).requirements if r.id == requirement]
    return found


def statuses(report: AuditReport, battery_id: str) -> dict[str, Status]:
    return {r.id: r.status for r in verdict(report, battery_id).requirements}


def ids(lines) -> list[str]:  # type: ignore[no-untyped-def]
    return [line.item_id for line in lines]


# --------------------------------------------------------------------------------------------
# The main pack: six mineral lines and six components, used by several fixtures.
#
# Minerals (total 2,412.40 + 1,850.00 + 1,250.00 + 2,107.60 + 1,399.95 + 1,000.05 = 10,020.00):
#   M-01 lithium    2,412.40  extracted AU, processed US   qualifies
#   M-02 nickel     1,850.00  CA / CA                      qualifies
#   M-03 graphite   1,250.00  CA / CA                      qualifies
#   M-04 cobalt     2,107.60  CD / FI                      no: 2,107.60 / 10,020 = 21.03393..%
#   M-05 manganese  1,399.95  ZA / ZA                      no: 13.97155..% -> 13.9716
#   M-06 aluminum   1,000.05  IN / IN                      no: 9.98053..%  -> 9.9805
#   qualifying 5,512.40 of 10,020.00 = 55.013972055..% -> actual_pct 55.0139
# Components (total 3,150.25 + 1,420.50 + 980.00 + 1,850.75 + 610.30 + 388.20 = 8,400.00):
#   C-01 cell US, C-02 module US, C-03 anode CA: 5,550.75 made in North America
#   C-04 cathode KR 1,850.75 (22.0327 %), C-05 separator JP 610.30 (7.2655 %),
#   C-06 electrolyte KR 388.20 (4.6214 %)
#   5,550.75 of 8,400.00 = 66.080357..% -> actual_pct 66.0803
# --------------------------------------------------------------------------------------------


def assert_main_components_pass(r: RequirementResult, required: str) -> None:
    assert r.status is PASS
    assert r.actual_pct == D("66.0803")
    assert r.required_pct == D(required)
    assert r.total_usd == D("8400.00") and r.qualifying_usd == D("5550.75")
    assert r.shortfall_pct is None and r.shortfall_usd is None
    assert r.credit_usd == D("3750")
    assert ids(r.lines) == ["C-04", "C-05", "C-06"]
    assert [line.share_pct for line in r.lines] == [D("22.0327"), D("7.2655"), D("4.6214")]
    assert r.lines[0].reason == "made in KR (not North America)"
    assert r.lines[1].reason == "made in JP (not North America)"


def test_pass_2024() -> None:
    report = audit("pass-2024.xlsx")
    v = verdict(report, "EV24-CX75")
    assert v.status is PASS
    assert v.credit_usd == D("7500")  # 3,750 + 3,750
    assert v.summary == "meets every requirement; credit $7,500.00"
    assert str(v.dates["placed_in_service"]) == "2024-06-30"
    assert str(v.dates["acquired"]) == "2024-06-15"
    assert statuses(report, "EV24-CX75") == {
        "in_effect": PASS, "critical_minerals": PASS, "battery_components": PASS,
        "feoc_components": PASS,  # in force from 2024-01-01; no covered entity
        "feoc_minerals": NA,  # in force only from 2025-01-01
    }
    # 55.0139 % >= 50 % (the threshold from 2024-01-01): passes, no shortfall.
    cm = req(report, "EV24-CX75", "critical_minerals")
    assert cm.actual_pct == D("55.0139") and cm.required_pct == D("50")
    assert cm.total_usd == D("10020.00") and cm.qualifying_usd == D("5512.40")
    assert cm.shortfall_pct is None and cm.shortfall_usd is None
    assert cm.credit_usd == D("3750")
    # Non-qualifying lines, largest value first.
    assert ids(cm.lines) == ["M-04", "M-05", "M-06"]
    assert [line.row for line in cm.lines] == [5, 6, 7]
    assert [line.share_pct for line in cm.lines] == [D("21.0339"), D("13.9716"), D("9.9805")]
    assert cm.lines[0].reason == not_qualifying("CD", "FI")
    assert cm.lines[0].cells == ["F5", "H5", "J5", "K5"]
    assert cm.explanation == ("55.0139 % of $10,020.00 qualifies ($5,512.40); 50 % is required "
                              "for batteries placed in service on 2024-06-30")
    # 66.0803 % >= 60 % (components threshold from 2024-01-01).
    assert_main_components_pass(req(report, "EV24-CX75", "battery_components"), "60")
    fc = req(report, "EV24-CX75", "feoc_components")
    assert fc.actual_pct == D("0") and fc.lines == [] and fc.gaps == []
    assert report.status is PASS and report.findings == []


def test_fail_2025_threshold() -> None:
    report = audit("fail-2025-threshold.xlsx")
    v = verdict(report, "EV25-CX75")
    # acquired_on is empty, so acquisition falls back to placed_in_service.
    assert str(v.dates["acquired"]) == "2025-03-01"
    assert v.status is FAIL
    assert v.credit_usd == D("3750")  # components only; minerals is a credit requirement
    assert v.summary == "fails critical_minerals; credit $3,750.00"
    assert statuses(report, "EV25-CX75") == {
        "in_effect": PASS, "critical_minerals": FAIL, "battery_components": PASS,
        "feoc_components": PASS, "feoc_minerals": PASS,
    }
    # Same lines: 5,512.40 of 10,020.00 = 55.0139 % < 60 % (from 2025-01-01).
    # needed 60 % x 10,020.00 = 6,012.00; shortfall 6,012.00 - 5,512.40 = 499.60
    # shortfall_pct 60 - 55.013972055.. = 4.986027944.. -> rounded up 4.9861
    cm = req(report, "EV25-CX75", "critical_minerals")
    assert cm.status is FAIL
    assert cm.actual_pct == D("55.0139") and cm.required_pct == D("60")
    assert cm.shortfall_usd == D("499.60") and cm.shortfall_pct == D("4.9861")
    assert cm.credit_usd is None
    assert ids(cm.lines) == ["M-04", "M-05", "M-06"]
    assert cm.lines[2].reason == not_qualifying("IN", "IN")
    assert cm.explanation == (
        "55.0139 % of $10,020.00 qualifies ($5,512.40); 60 % is required for batteries placed "
        "in service on 2025-03-01: short by 4.9861 points, $499.60 more qualifying value needed")
    # Components threshold stays 60 % through 2025: still passes.
    assert_main_components_pass(req(report, "EV25-CX75", "battery_components"), "60")
    # FEOC minerals is in force now, and every entity is clear.
    fm = req(report, "EV25-CX75", "feoc_minerals")
    assert fm.actual_pct == D("0") and fm.total_usd == D("10020.00") and fm.lines == []


# Graphite pack: M-03 graphite 1,250.00 extracted MZ (BALAMA), processed CN (GRAPHCO:
# incorporated HK, headquartered CN); M-04 cobalt refined in CA instead of FI.
# Qualifying 2,412.40 + 1,850.00 + 2,107.60 = 6,370.00 of 10,020.00 = 63.572854..% -> 63.5728
# FEOC hit: 1,250.00 of 10,020.00 = 12.475049..% -> 12.4750


def test_feoc_graphite() -> None:
    report = audit("feoc-graphite.xlsx")
    v = verdict(report, "EV25-GR")
    assert v.status is FAIL
    assert v.credit_usd == D("0")  # a disqualifying requirement fails
    assert v.summary == "fails feoc_minerals; credit $0.00"
    assert statuses(report, "EV25-GR") == {
        "in_effect": PASS, "critical_minerals": PASS, "battery_components": PASS,
        "feoc_components": PASS, "feoc_minerals": FAIL,
    }
    cm = req(report, "EV25-GR", "critical_minerals")
    assert cm.actual_pct == D("63.5728") and cm.required_pct == D("60")
    assert cm.credit_usd == D("3750")  # the requirement itself passes
    assert ids(cm.lines) == ["M-05", "M-03", "M-06"]  # 1,399.95 > 1,250.00 > 1,000.05
    assert cm.lines[1].reason == not_qualifying("MZ", "CN")
    fm = req(report, "EV25-GR", "feoc_minerals")
    assert fm.status is FAIL
    assert fm.actual_pct == D("12.4750") and fm.required_pct == D("0")
    assert fm.shortfall_pct == D("12.4750") and fm.shortfall_usd == D("1250.00")
    assert fm.total_usd == D("10020.00")
    (line,) = fm.lines
    assert (line.item_id, line.row, line.value_usd, line.share_pct) == (
        "M-03", 4, D("1250.00"), D("12.4750"))
    # Extraction by BALAMA in MZ is clear; processing is caught twice over. HK incorporation is
    # not a covered nation, so only the headquarters check names the entity.
    assert line.reason == GRAPHCO_REASON
    assert fm.relieved == [] and fm.gaps == []
    assert fm.explanation == ("1 row ($1,250.00, 12.475 % of the value) involves a foreign "
                              "entity of concern; none is allowed")


def test_feoc_graphite_itt_relief_applies_in_2025() -> None:
    report = audit("feoc-graphite-itt.xlsx")
    v = verdict(report, "EV25-GR-ITT")
    assert v.status is PASS
    assert v.credit_usd == D("7500")
    fm = req(report, "EV25-GR-ITT", "feoc_minerals")
    assert fm.status is PASS
    assert fm.lines == [] and fm.gaps == []
    assert fm.actual_pct == D("0") and fm.shortfall_usd is None
    (relieved,) = fm.relieved
    assert (relieved.item_id, relieved.row, relieved.value_usd, relieved.share_pct) == (
        "M-03", 4, D("1250.00"), D("12.4750"))
    assert relieved.reason == ITT_RELIEF
    assert fm.explanation == ("no row involves a foreign entity of concern; 1 row left out "
                              "under transition relief")
    # Relief only concerns FEOC: the graphite still does not count towards the 60 %.
    cm = req(report, "EV25-GR-ITT", "critical_minerals")
    assert cm.actual_pct == D("63.5728") and cm.status is PASS
    assert "M-03" in ids(cm.lines)


def test_feoc_graphite_itt_relief_ends_for_2027_placements() -> None:
    report = audit("feoc-graphite-itt.xlsx")
    v = verdict(report, "EV27-GR-ITT")
    # Acquired 2025-09-01 (credit still available), placed in service 2027-01-15.
    assert str(v.dates["acquired"]) == "2025-09-01"
    assert str(v.dates["placed_in_service"]) == "2027-01-15"
    assert v.status is FAIL and v.credit_usd == D("0")
    assert statuses(report, "EV27-GR-ITT") == {
        "in_effect": PASS, "critical_minerals": FAIL, "battery_components": FAIL,
        "feoc_components": PASS, "feoc_minerals": FAIL,
    }
    fm = req(report, "EV27-GR-ITT", "feoc_minerals")
    assert fm.relieved == []
    (line,) = fm.lines
    assert (line.item_id, line.row) == ("M-03", 10)  # second battery: rows 8-13
    assert line.reason == GRAPHCO_REASON
    assert fm.shortfall_usd == D("1250.00") and fm.actual_pct == D("12.4750")
    # 2027 thresholds are 80 % for both shares.
    # minerals: needed 80 % x 10,020.00 = 8,016.00; short 8,016.00 - 6,370.00 = 1,646.00;
    #           80 - 63.572854.. = 16.427145.. -> 16.4272
    cm = req(report, "EV27-GR-ITT", "critical_minerals")
    assert cm.required_pct == D("80") and cm.actual_pct == D("63.5728")
    assert cm.shortfall_usd == D("1646.00") and cm.shortfall_pct == D("16.4272")
    # components: needed 80 % x 8,400.00 = 6,720.00; short 6,720.00 - 5,550.75 = 1,169.25;
    #             80 - 66.080357.. = 13.919642.. -> 13.9197
    bc = req(report, "EV27-GR-ITT", "battery_components")
    assert bc.required_pct == D("80") and bc.actual_pct == D("66.0803")
    assert bc.shortfall_usd == D("1169.25") and bc.shortfall_pct == D("13.9197")


# Japan pack (each battery): N-01 nickel 3,120.80 extracted ID, processed JP;
# N-02 lithium 1,045.20 CL / CL (FTA); N-03 cobalt 1,834.00 CD / FI. Total 6,000.00.
#   before 2023-03-28 (JP not an FTA country): 1,045.20 / 6,000.00 = 17.42 % -> 17.4200
#   from 2023-03-28: (3,120.80 + 1,045.20) = 4,166.00 / 6,000.00 = 69.4333..% -> 69.4333
#   N-01 share 3,120.80 / 6,000 = 52.01333..% -> 52.0133; N-03 30.56666..% -> 30.5667
# Components: cell US 2,400.00 + module US 900.00 = 3,300.00 of 4,800.00 = 68.75 %.


def test_japan_nickel_does_not_qualify_on_2023_03_27() -> None:
    report = audit("japan-nickel.xlsx")
    cm = req(report, "JPN-0327", "critical_minerals")
    # No threshold before 2023-04-18: not applicable, but the share is still reported.
    assert cm.status is NA and cm.required_pct is None and cm.shortfall_usd is None
    assert cm.actual_pct == D("17.4200") and cm.qualifying_usd == D("1045.20")
    assert ids(cm.lines) == ["N-01", "N-03"]
    nickel = cm.lines[0]
    assert nickel.share_pct == D("52.0133")
    assert nickel.reason == not_qualifying("ID", "JP")
    fta = {p.name: p for p in cm.parameters}["fta_countries"]
    assert str(fta.in_force_from) == "2022-08-16" and "JP" not in fta.value
    v = verdict(report, "JPN-0327")
    assert v.status is NA and v.credit_usd is None
    assert v.summary == "no requirement of this ruleset applies on the battery's dates"
    assert statuses(report, "JPN-0327") == {
        "in_effect": PASS, "critical_minerals": NA, "battery_components": NA,
        "feoc_components": NA, "feoc_minerals": NA,
    }


def test_japan_nickel_qualifies_from_2023_03_28() -> None:
    report = audit("japan-nickel.xlsx")
    cm = req(report, "JPN-0328", "critical_minerals")
    assert cm.status is NA and cm.required_pct is None
    assert cm.actual_pct == D("69.4333") and cm.qualifying_usd == D("4166.00")
    assert ids(cm.lines) == ["N-03"]  # the nickel line qualifies: processed in JP
    assert cm.lines[0].reason == not_qualifying("CD", "FI")
    fta = {p.name: p for p in cm.parameters}["fta_countries"]
    assert str(fta.in_force_from) == "2023-03-28" and "JP" in fta.value
    assert verdict(report, "JPN-0328").status is NA


def test_japan_nickel_counts_once_the_threshold_applies() -> None:
    report = audit("japan-nickel.xlsx")
    v = verdict(report, "JPN-0501")
    assert v.status is PASS and v.credit_usd == D("7500")
    cm = req(report, "JPN-0501", "critical_minerals")
    # 69.4333 % >= 40 %; without Japan it would be 17.42 % and fail.
    assert cm.status is PASS and cm.required_pct == D("40") and cm.actual_pct == D("69.4333")
    bc = req(report, "JPN-0501", "battery_components")
    assert bc.status is PASS and bc.required_pct == D("50") and bc.actual_pct == D("68.7500")
    assert ids(bc.lines) == ["C-03"] and bc.lines[0].share_pct == D("31.2500")
    assert statuses(report, "JPN-0501")["feoc_components"] is NA


def test_cli_exit_code_when_some_battery_is_not_applicable() -> None:
    result = CliRunner().invoke(cli,
                                ["audit", str(FIXTURES / "japan-nickel.xlsx")])
    assert result.exit_code == 1


# Recycled pack: R-01 lithium 2,412.40 AU / US (qualifies); R-02 nickel 2,087.60 PH / PH (no);
# R-03 cobalt 1,600.00 extracted CD (KATANGA), processed CN (GANZHOU, CN/CN), recycled in CA
# (ONTRECY): qualifies through recycling; R-04 manganese 500.00 ZA / ZA (no). Total 6,600.00.
#   qualifying 2,412.40 + 1,600.00 = 4,012.40 / 6,600.00 = 60.793939..% -> 60.7939
#   (without the recycling route: 2,412.40 / 6,600.00 = 36.55 % - it would fail)
#   R-02 share 31.630303..% -> 31.6303; R-04 7.575757..% -> 7.5758
#   FEOC hit in 2025: 1,600.00 / 6,600.00 = 24.242424..% -> 24.2424


def test_recycled_cobalt_qualifies_through_recycling_in_canada() -> None:
    report = audit("recycled-cobalt-canada.xlsx")
    for battery, required in (("RC-2024", "50"), ("RC-2025", "60")):
        cm = req(report, battery, "critical_minerals")
        assert cm.status is PASS, battery
        assert cm.actual_pct == D("60.7939") and cm.required_pct == D(required)
        assert cm.qualifying_usd == D("4012.40") and cm.total_usd == D("6600.00")
        assert ids(cm.lines) == ["R-02", "R-04"]  # R-03 is not listed: it qualifies
        assert [line.share_pct for line in cm.lines] == [D("31.6303"), D("7.5758")]
        assert cm.lines[0].reason == not_qualifying("PH", "PH")
    v = verdict(report, "RC-2024")
    assert v.status is PASS and v.credit_usd == D("7500")
    assert req(report, "RC-2024", "feoc_minerals").status is NA


def test_recycled_cobalt_refined_in_china_fails_feoc_minerals_in_2025() -> None:
    # The ruleset tests every activity of a line: extraction, processing, and recycling when
    # recycled is true. Recycling in Canada does not wash out the refining step in China.
    report = audit("recycled-cobalt-canada.xlsx")
    v = verdict(report, "RC-2025")
    assert v.status is FAIL and v.credit_usd == D("0")
    assert v.summary == "fails feoc_minerals; credit $0.00"
    fm = req(report, "RC-2025", "feoc_minerals")
    (line,) = fm.lines
    assert (line.item_id, line.row, line.value_usd) == ("R-03", 8, D("1600.00"))
    assert line.reason == (
        "processed in CN by GANZHOU: performs processing in a covered nation; incorporated in "
        "a covered nation (CN); headquartered in a covered nation (CN)")
    assert fm.actual_pct == D("24.2424") and fm.shortfall_usd == D("1600.00")
    assert fm.relieved == []


# 2025 pack: the main pack with cobalt refined in CA (SUDBURY):
#   2,412.40 + 1,850.00 + 1,250.00 + 2,107.60 = 7,620.00 / 10,020.00 = 76.047904..% -> 76.0479


def test_acquired_2025_10_01_gets_no_credit() -> None:
    report = audit("acquired-2025-10-01.xlsx")
    v = verdict(report, "ACQ-1001")
    assert v.status is FAIL and v.credit_usd == D("0")
    assert v.summary == "fails in_effect; credit $0.00"
    ie = req(report, "ACQ-1001", "in_effect")
    assert ie.status is FAIL and str(ie.date) == "2025-10-01"
    assert ie.explanation == ("acquired on 2025-10-01, after the credit ended (no credit for "
                              "vehicles acquired after 2025-09-30)")
    # Everything else passes: only the acquisition date disqualifies.
    assert statuses(report, "ACQ-1001") == {
        "in_effect": FAIL, "critical_minerals": PASS, "battery_components": PASS,
        "feoc_components": PASS, "feoc_minerals": PASS,
    }
    cm = req(report, "ACQ-1001", "critical_minerals")
    assert cm.actual_pct == D("76.0479") and cm.credit_usd == D("3750")
    assert ids(cm.lines) == ["M-05", "M-06"]


def test_acquired_2025_09_30_placed_in_service_later_still_gets_the_credit() -> None:
    report = audit("acquired-2025-10-01.xlsx")
    v = verdict(report, "ACQ-0930")
    assert v.status is PASS and v.credit_usd == D("7500")
    assert str(v.dates["acquired"]) == "2025-09-30"
    assert str(v.dates["placed_in_service"]) == "2025-10-15"
    ie = req(report, "ACQ-0930", "in_effect")
    assert ie.status is PASS
    assert ie.explanation == "acquired on 2025-09-30, while the credit is available"
    assert report.summary.passed == 1 and report.summary.failed == 1


def test_exact_threshold_passes() -> None:
    # 600.00 x 100 = 60,000 >= 60 x 1,000.00 = 60,000: exactly 60 % passes (both shares).
    report = audit("exact-threshold.xlsx")
    v = verdict(report, "EXACT-60")
    assert v.status is PASS and v.credit_usd == D("7500")
    for rid in ("critical_minerals", "battery_components"):
        r = req(report, "EXACT-60", rid)
        assert r.status is PASS
        assert str(r.actual_pct) == "60.0000" and r.required_pct == D("60")
        assert r.shortfall_usd is None
    cm = req(report, "EXACT-60", "critical_minerals")
    assert cm.lines[0].share_pct == D("40.0000") and cm.lines[0].item_id == "X-02"


def test_just_under_threshold_fails_by_one_cent() -> None:
    # 5,999.99 / 10,000.00 = 59.9999 % exactly; needed 60 % x 10,000.00 = 6,000.00;
    # shortfall 0.01; points 60 - 59.9999 = 0.0001.
    report = audit("exact-threshold.xlsx")
    v = verdict(report, "NEAR-60")
    assert v.status is FAIL and v.credit_usd == D("3750")
    cm = req(report, "NEAR-60", "critical_minerals")
    assert cm.status is FAIL
    assert str(cm.actual_pct) == "59.9999"  # never shown as 60
    assert cm.shortfall_usd == D("0.01") and cm.shortfall_pct == D("0.0001")
    assert cm.lines[0].share_pct == D("40.0001")  # 4,000.01 / 10,000.00
    assert cm.explanation == (
        "59.9999 % of $10,000.00 qualifies ($5,999.99); 60 % is required for batteries placed "
        "in service on 2025-02-03: short by 0.0001 points, $0.01 more qualifying value needed")


def test_fraction_of_a_cent_shortfall_rounds_up() -> None:
    # 6,000.00 / 10,000.01 = 59.99994000006..% -> cut to 59.9999;
    # needed 60 % x 10,000.01 = 6,000.006; short 0.006 -> rounded up to 0.01;
    # points 60 - 59.99994.. = 0.00005999994.. -> rounded up to 0.0001.
    report = audit("exact-threshold.xlsx")
    cm = req(report, "CENT-UP", "critical_minerals")
    assert cm.status is FAIL
    assert str(cm.actual_pct) == "59.9999"
    assert cm.shortfall_usd == D("0.01") and cm.shortfall_pct == D("0.0001")
    assert cm.total_usd == D("10000.01")


# --------------------------------------------------------------------------------------------
# messy.xlsx
# --------------------------------------------------------------------------------------------

MESSY_FINDINGS = {
    # (code, sheet, row, column, cell)
    ("unknown-column", "Batteries", 4, None, "E4"),  # "Notes"
    ("ignored-rows", "Batteries", 1, None, None),  # title rows 1-2 above the header on row 4
    ("invalid-date", "Batteries", 6, "placed_in_service", "B6"),  # 2025-02-30
    ("invalid-date", "Batteries", 7, "acquired_on", "C7"),  # 2025-1O-01 (letter O)
    ("normalised-value", "components", 2, "country", "D2"),  # USA -> US
    ("ambiguous-country", "components", 3, "country", "D3"),  # Korea
    ("invalid-number", "components", 4, "incremental_value_usd", "F4"),  # 12,5,0
    ("duplicate-key", "components", 6, "component_id", "B6"),  # C-04 twice
    ("duplicate-key", "components", 7, "component_id", "B7"),
    ("unknown-battery", "components", 8, "battery_id", "A8"),  # MS-09
    ("unknown-column", "minerals", 2, None, "N2"),  # "Supplier contact"
    ("ignored-rows", "minerals", 1, None, None),  # title row
    ("formula-without-value", "minerals", 3, "value_usd", "D3"),  # =1200+34.5, no result
    # openpyxl marks the workbook for recalculation on load: formula results may be stale.
    ("stale-formula", "minerals", 3, "value_usd", "D3"),
    ("error-cell", "minerals", 4, "extraction_country", "F4"),  # #N/A
    ("normalised-value", "minerals", 5, "extraction_country", "F5"),  # Namibia -> NA
}

# Excel rows holding data (empty rows left out) in each sheet, as written by the generator.
MESSY_DATA_ROWS = {
    "batteries": {5, 6, 7},
    "components": {2, 3, 4, 6, 7, 8, 9, 10, 11, 12},
    "minerals": {3, 4, 5, 6, 7, 8},
    "entities": set(range(2, 14)),
}


def test_messy_findings_exact() -> None:
    report = audit("messy.xlsx")
    found = [(f.code, f.sheet, f.row, f.column, f.cell) for f in report.findings]
    assert len(found) == len(set(found))
    assert set(found) == MESSY_FINDINGS
    by_code = {(f.code, f.cell): f for f in report.findings}
    assert by_code[("ambiguous-country", "D3")].message == (
        'country: "Korea" is ambiguous: write KR (South Korea) or KP (North Korea)')
    assert by_code[("ambiguous-country", "D3")].severity.value == "error"
    assert by_code[("normalised-value", "D2")].message == "country 'USA' read as US"
    assert by_code[("normalised-value", "F5")].message == "extraction_country 'Namibia' read as NA"
    assert by_code[("invalid-number", "F4")].value == "12,5,0"
    assert by_code[("error-cell", "F4")].value == "#N/A"
    assert by_code[("invalid-date", "B6")].value == "2025-02-30"
    assert by_code[("unknown-battery", "A8")].value == "MS-09"
    assert by_code[("unknown-column", "E4")].value == "Notes"
    ignored = [f for f in report.findings if f.code == "ignored-rows" and f.sheet == "Batteries"]
    assert ignored[0].message == "rows 1-2 above the header (row 4) not read as data"
    # 9 errors: 2 invalid dates, ambiguous country, bad number, 2 duplicates, unknown battery,
    # formula without value, error cell; 1 warning (stale formula). Info notes are not counted.
    assert report.summary.errors == 9 and report.summary.warnings == 1
    assert report.status is INSUFFICIENT


def test_messy_every_row_is_used_or_reported() -> None:
    bom = compliance.read_bom(FIXTURES / "messy.xlsx")
    errors = {}
    for f in bom.findings:
        if f.severity.value == "error" and f.row is not None:
            errors.setdefault(f.sheet.lower(), set()).add(f.row)
    for sheet, rows in MESSY_DATA_ROWS.items():
        used = set(bom.frame(sheet).get_column("_row").to_list())
        assert rows <= used | errors.get(sheet, set()), sheet
        assert not (used - rows), sheet  # nothing read from title or empty rows
    # Left out entirely: the duplicate C-04 rows and the row naming battery MS-09.
    components = set(bom.components.get_column("_row").to_list())
    assert components == {2, 3, 4, 9, 10, 11, 12}
    stats = {s.sheet: (s.header_row, s.data_rows, s.used_rows, s.excluded_rows)
             for s in bom.stats if s.sheet in MESSY_DATA_ROWS}
    assert stats == {"batteries": (4, 3, 3, 0), "components": (1, 10, 7, 3),
                     "minerals": (2, 6, 6, 0), "entities": (1, 12, 12, 0)}
    # Cells that were read, but in a normal form.
    minerals = {r["line_id"] + r["battery_id"]: r for r in bom.minerals.iter_rows(named=True)}
    m3 = minerals["M-03MS-01"]
    assert (m3["mineral"], m3["extraction_country"], m3["processing_country"]) == (
        "graphite", "NA", "NA")  # "Natural graphite"; "Namibia" and the code "NA"
    assert minerals["M-01MS-01"]["value_usd"] is None  # the formula without a result
    assert minerals["M-02MS-01"]["extraction_country"] is None  # #N/A
    comps = {(r["battery_id"], r["component_id"]): r for r in bom.components.iter_rows(named=True)}
    assert comps[("MS-01", "C-01")]["country"] == "US"
    assert comps[("MS-01", "C-01")]["component_type"] == "battery cell"  # "Cell"
    assert comps[("MS-01", "C-02")]["country"] is None  # Korea
    assert comps[("MS-01", "C-03")]["incremental_value_usd"] is None  # 12,5,0
    # 0.125 in a percent-formatted cell is 12.5 %, not 0.125 % (and no percent-scale warning).
    ulsan = bom.entities.filter(bom.entities["entity_id"] == "ULSAN").row(0, named=True)
    assert ulsan["covered_government_equity_pct"] == D("12.5")
    assert ulsan["_row"] == 13


def test_messy_battery_with_faulty_rows_lacks_data() -> None:
    report = audit("messy.xlsx")
    v = verdict(report, "MS-01")
    assert v.status is INSUFFICIENT and v.credit_usd is None
    assert statuses(report, "MS-01") == {
        "in_effect": PASS, "critical_minerals": INSUFFICIENT,
        "battery_components": INSUFFICIENT, "feoc_components": INSUFFICIENT,
        "feoc_minerals": INSUFFICIENT,
    }
    assert v.summary == ("cannot decide critical_minerals, battery_components, feoc_components, "
                         "feoc_minerals: 9 data gaps")
    gaps = [(g.sheet, g.row, g.column, g.cell, g.item_id) for g in v.gaps]
    assert gaps == [
        # critical_minerals: M-01's value is a formula without a result
        ("minerals", 3, "value_usd", "D3", "M-01"),
        # battery_components: two duplicate rows left out, Korea, 12,5,0
        ("components", 6, None, None, None),
        ("components", 7, None, None, None),
        ("components", 3, "country", "D3", "C-02"),
        ("components", 4, "incremental_value_usd", "F4", "C-03"),
        # feoc_components: the same left-out rows, and C-02's country is unknown
        ("components", 6, None, None, None),
        ("components", 7, None, None, None),
        ("components", 3, "country", "D3", "C-02"),
        # feoc_minerals: M-02's extraction country (#N/A) is unknown
        ("minerals", 4, "extraction_country", "F4", "M-02"),
    ]
    # What can be computed is still shown: known values 1,850.00 (M-02, processed in CA,
    # qualifies although its extraction country is unknown) + 1,250.00 (M-03, NA / NA) =
    # 3,100.00; 1,850.00 / 3,100.00 = 59.677419..% -> 59.6774.
    cm = req(report, "MS-01", "critical_minerals")
    assert cm.actual_pct == D("59.6774") and cm.total_usd == D("3100.00")
    assert ids(cm.lines) == ["M-03"]
    assert cm.lines[0].reason == not_qualifying("NA", "NA")
    # components: known values 3,150.25 (US) + 1,850.75 (country unknown) = 5,001.00;
    # 3,150.25 / 5,001.00 = 62.992401..% -> 62.9924, and 1,850.75 cannot be classified.
    bc = req(report, "MS-01", "battery_components")
    assert bc.actual_pct == D("62.9924") and bc.total_usd == D("5001.00")
    assert bc.explanation == (
        "62.9924 % of $5,001.00 qualifies ($3,150.25), and $1,850.75 cannot be classified for "
        "missing data; 60 % is required for batteries placed in service on 2025-02-14")
    fm = req(report, "MS-01", "feoc_minerals")
    assert fm.gaps[0].message == ("extraction_country is empty: where the extraction took place "
                                  "is unknown")


def test_messy_battery_with_invalid_date_lacks_data() -> None:
    report = audit("messy.xlsx")
    v = verdict(report, "MS-02")
    assert v.status is INSUFFICIENT and v.credit_usd is None
    assert v.dates == {"placed_in_service": None, "acquired": None}
    assert set(statuses(report, "MS-02").values()) == {INSUFFICIENT}
    ie = req(report, "MS-02", "in_effect")
    (gap,) = ie.gaps
    assert (gap.sheet, gap.row, gap.column, gap.cell) == ("Batteries", 6, "acquired_on", "C6")
    assert gap.message == ("acquired_on is empty or invalid (and so is placed_in_service); the "
                           "date the battery was acquired selects the rule values")
    (gap,) = req(report, "MS-02", "feoc_minerals").gaps
    assert (gap.column, gap.cell) == ("placed_in_service", "B6")


def test_messy_lines_are_not_misjudged_without_a_date() -> None:
    report = audit("messy.xlsx")
    # MS-02's C-01 is a cell made in the US: it qualifies on any date the rules cover, and
    # without a date nothing can be said against it.
    for rid in ("critical_minerals", "battery_components"):
        r = req(report, "MS-02", rid)
        assert [(line.item_id, line.reason) for line in r.lines] == [], rid
        assert r.actual_pct is None, rid


def test_messy_unreadable_acquisition_date_is_not_replaced() -> None:
    report = audit("messy.xlsx")
    v = verdict(report, "MS-03")
    assert v.dates["acquired"] is None
    ie = req(report, "MS-03", "in_effect")
    assert ie.status is INSUFFICIENT
    assert [(g.column, g.cell) for g in ie.gaps] == [("acquired_on", "C7")]
    assert v.credit_usd is None


def test_feoc_line_cells_name_only_the_caught_activity() -> None:
    (line,) = req(audit("feoc-graphite.xlsx"), "EV25-GR", "feoc_minerals").lines
    # processing_country H4 and processing_entity I4; extraction (MZ, BALAMA) is clear.
    assert line.cells == ["H4", "I4"]


def test_battery_without_mineral_rows_names_the_gap() -> None:
    from compliance.reader.bom import Bom

    bom = Bom.from_records(
        batteries=[{"battery_id": "B", "placed_in_service": "2025-03-01"}],
        components=[{"battery_id": "B", "component_id": "C-01", "component_type": "battery cell",
                     "country": "US", "manufacturer": "OHIOCELL",
                     "incremental_value_usd": "1000.00"}],
        entities=[{"entity_id": "OHIOCELL", "name": "Ohio Cell Manufacturing LLC",
                   "incorporated_in": "US", "headquartered_in": "US",
                   "covered_government_voting_pct": 0, "covered_government_board_pct": 0,
                   "covered_government_equity_pct": 0, "effective_control": False}])
    report = compliance.audit(bom)
    assert statuses(report, "B") == {
        "in_effect": PASS, "critical_minerals": INSUFFICIENT, "battery_components": PASS,
        "feoc_components": PASS, "feoc_minerals": PASS}
    assert [g.sheet for g in req(report, "B", "critical_minerals").gaps] == ["minerals"]


# --------------------------------------------------------------------------------------------
# demo.xlsx and the CLI
# --------------------------------------------------------------------------------------------


def test_demo_three_batteries() -> None:
    report = audit("demo.xlsx")
    got = {b.battery_id: (b.status, b.verdicts[0].credit_usd) for b in report.batteries}
    assert got == {
        "DEMO-PASS": (PASS, D("7500")),  # 76.0479 % minerals, 66.0803 % components
        "DEMO-MINERALS": (FAIL, D("3750")),  # 55.0139 % < 60 %, short 499.60
        "DEMO-FEOC": (FAIL, D("0")),  # graphite processed by GRAPHCO in CN
    }
    assert req(report, "DEMO-MINERALS", "critical_minerals").shortfall_usd == D("499.60")
    (line,) = req(report, "DEMO-FEOC", "feoc_minerals").lines
    assert line.reason == GRAPHCO_REASON and line.row == 16
    assert report.status is FAIL and report.findings == []


def test_cli_audits_the_demo() -> None:
    result = CliRunner().invoke(cli, ["audit", str(FIXTURES / "demo.xlsx")])
    assert result.exit_code == 1, result.output  # some battery fails
    assert "3 batteries: 1 pass, 2 fail" in result.output
    assert "DEMO-PASS PASS under us-ira-30d, credit $7,500.00" in result.output
    assert "$499.60" in result.output
    result = CliRunner().invoke(cli,
                                ["audit", str(FIXTURES / "pass-2024.xlsx"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert AuditReport.model_validate_json(result.output).batteries[0].verdicts[0].credit_usd \
        == D("7500")


# --------------------------------------------------------------------------------------------
# The committed workbooks are what the generator writes.
# --------------------------------------------------------------------------------------------


def _comparable(report: AuditReport) -> dict:
    data = report.model_dump(mode="json")
    del data["input"]["name"], data["input"]["sha256"]
    return data


def test_committed_fixtures_match_the_generator(tmp_path: Path) -> None:
    generator = load_generator()
    written = generator.generate(tmp_path)
    names = sorted(p.name for p in written)
    assert names == sorted(p.name for p in FIXTURES.glob("*.xlsx"))  # none missing or stale
    for path in written:
        assert _comparable(compliance.audit(path)) == _comparable(audit(path.name)), path.name


def test_generator_is_deterministic(tmp_path: Path) -> None:
    generator = load_generator()
    first = generator.generate(tmp_path / "a")
    second = generator.generate(tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name

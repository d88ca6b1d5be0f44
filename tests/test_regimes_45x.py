"""us-45x-pfe: battery-module lots, worked out by hand, on both sides of each date.

The fixture is ``fixtures/regimes/component-45x.xlsx`` (written by
``fixtures/regimes/generate.py``); rounding rules as in ``tests/test_regimes_48e.py``.

Two cost recipes per lot of 100 modules (total 64,480.00 each):

  recipe A                          recipe B
  M-01 cells HENGYUAN (CN) 26,400   M-01 cells CAROCELL (US) 41,280
  M-02 cells CAROCELL (US) 14,880
  M-03 BMS HSINCHU (TW)     6,150   (M-03 to M-06 as in recipe A)
  M-04 housings MICHALU (US) 9,870
  M-05 busbars HAIPHONG (VN) 4,580, of which 1,145.00 certified as PFE-attributable
  M-06 thermal LAKEERIE (US) 2,600

  A: attributable 26,400 + 1,145 = 27,545; ratio 36,935 / 64,480 = 57.281327..% -> 57.2813
     needed 60 % x 64,480 = 38,688.00 -> short 1,753.00; 60 - 57.281327.. = 2.718672.. -> 2.7187
  B: attributable 1,145; ratio 63,335 / 64,480 = 98.224255..% -> 98.2242

Taxpayers: OHIOMOD is clear. JINLING (a CN bank, an SFE) holds 15 % of TNMODCO's debt: at least
15 %, so TNMODCO is foreign-influenced. XINRUI (CN, an SFE) holds 9 % of AZPACK's equity (under
25 %) and may appoint one of its officers: AZPACK is foreign-influenced.

The taxpayer bar's start (2026-01-01) is marked unconfirmed, so every 2026 verdict that reads it
is provisional, and ``--strict`` refuses it.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner

import compliance
from compliance.cli import main as cli
from compliance.engine.entities import parameters_of
from compliance.reader.bom import Bom
from compliance.report.model import AuditReport, RequirementResult, Status, Verdict
from compliance.rules.model import Status as ValueStatus

ROOT = Path(__file__).resolve().parents[1]
LOTS = ROOT / "fixtures" / "regimes" / "component-45x.xlsx"
RULESET = "us-45x-pfe"

PASS, FAIL, PROVISIONAL = Status.PASS, Status.FAIL, Status.PROVISIONAL
INSUFFICIENT, NA = Status.INSUFFICIENT_DATA, Status.NOT_APPLICABLE

DEBT_REASON = ("claimed by TNMODCO: foreign-influenced entity (specified foreign entities "
               "(JINLING) hold 15 % of its debt)")
OFFICER_REASON = ("claimed by AZPACK: foreign-influenced entity (a specified foreign entity "
                  "(XINRUI) may appoint a covered officer)")


@functools.cache
def audit(strict: bool = False) -> AuditReport:
    return compliance.audit(LOTS, rulesets=[RULESET], strict=strict)


def verdict(report: AuditReport, battery_id: str) -> Verdict:
    (battery,) = [b for b in report.batteries if b.battery_id == battery_id]
    (only,) = battery.verdicts
    return only


def req(report: AuditReport, battery_id: str, rid: str) -> RequirementResult:
    (found,) = [r for r in verdict(report, battery_id).requirements if r.id == rid]
    return found


def test_sold_2025_12_31_is_before_the_restriction() -> None:
    report = audit()
    v = verdict(report, "MOD-1231")
    assert v.status is NA and v.provisional_outcome is None
    assert req(report, "MOD-1231", "material_assistance").explanation == (
        "no cost-ratio threshold applies on 2025-12-31")
    assert req(report, "MOD-1231", "taxpayer_not_prohibited").explanation == (
        "not in force for batteries sold on 2025-12-31")


def test_sold_2026_01_01_fails_the_60_percent_ratio() -> None:
    report = audit()
    r = req(report, "MOD-0101", "material_assistance")
    assert r.status is FAIL and r.provisional is False  # its values are secondary
    assert r.actual_pct == D("57.2813") and r.required_pct == D("60")
    assert r.shortfall_usd == D("1753.00") and r.shortfall_pct == D("2.7187")
    assert r.total_usd == D("64480.00") and r.qualifying_usd == D("36935.00")
    # M-01 26,400 / 64,480 = 40.942928..% -> 40.9429; M-05 1,145 / 64,480 = 1.775744..% -> 1.7757
    assert [(x.item_id, x.row, x.value_usd, x.share_pct) for x in r.lines] == [
        ("M-01", 8, D("26400.00"), D("40.9429")), ("M-05", 12, D("1145.00"), D("1.7757"))]
    assert r.lines[0].reason == (
        "supplied by HENGYUAN: specified foreign entity (foreign-controlled entity: organised in "
        "a covered nation (CN); has its principal place of business in a covered nation (CN))")
    assert r.explanation == (
        "cost ratio 57.2813 % ($36,935.00 of $64,480.00 not attributable to a prohibited "
        "foreign entity); 60 % required on 2026-01-01: short by 2.7187 points; $1,753.00 of "
        "attributable cost must be replaced")
    t = req(report, "MOD-0101", "taxpayer_not_prohibited")
    assert (t.status, t.provisional_outcome) == (PROVISIONAL, PASS)
    assert t.explanation == "no row involves a prohibited foreign entity"
    # The lot fails either way (a fail of its own, whatever the taxpayer bar says).
    v = verdict(report, "MOD-0101")
    assert (v.provisional_outcome or v.status) is FAIL
    assert verdict(audit(strict=True), "MOD-0101").status is FAIL


def test_a_fail_that_rests_on_no_unconfirmed_value_is_not_provisional() -> None:
    v = verdict(audit(), "MOD-0101")
    assert (v.status, v.provisional_outcome) == (FAIL, None)


def test_us_cells_pass_but_rest_on_the_unconfirmed_taxpayer_bar() -> None:
    report = audit()
    r = req(report, "MOD-0102", "material_assistance")
    assert (r.status, r.actual_pct, r.lines[0].item_id) == (PASS, D("98.2242"), "M-05")
    v = verdict(report, "MOD-0102")
    assert (v.status, v.provisional_outcome) == (PROVISIONAL, PASS)
    assert v.summary == ("provisional (pass): meets every requirement; rests on unconfirmed "
                         "ruleset values")
    strict = verdict(audit(strict=True), "MOD-0102")
    assert strict.status is INSUFFICIENT
    assert strict.summary == "cannot decide taxpayer_not_prohibited: 1 data gap"
    (gap,) = strict.gaps
    assert gap.message == ("ruleset value taxpayer_bar_in_force (from 2026-01-01) is "
                           "unconfirmed; --strict refuses verdicts that depend on it")


def test_taxpayer_foreign_influenced_through_15_percent_of_its_debt() -> None:
    report = audit()
    t = req(report, "MOD-DEBT", "taxpayer_not_prohibited")
    assert (t.status, t.provisional_outcome) == (PROVISIONAL, FAIL)
    (line,) = t.lines
    assert (line.sheet, line.row, line.item_id, line.value_usd) == (
        "batteries", 5, "MOD-DEBT", None)
    assert line.reason == DEBT_REASON
    assert t.explanation == DEBT_REASON + ": no prohibited foreign entity is allowed"
    assert req(report, "MOD-DEBT", "material_assistance").status is PASS
    v = verdict(report, "MOD-DEBT")
    assert (v.status, v.provisional_outcome) == (PROVISIONAL, FAIL)
    assert v.summary == ("provisional (fail): fails taxpayer_not_prohibited; rests on "
                         "unconfirmed ruleset values")
    assert verdict(audit(strict=True), "MOD-DEBT").status is INSUFFICIENT


def test_taxpayer_foreign_influenced_through_an_officer_appointment() -> None:
    report = audit()
    t = req(report, "MOD-OFFICER", "taxpayer_not_prohibited")
    assert (t.status, t.provisional_outcome) == (PROVISIONAL, FAIL)
    (line,) = t.lines
    assert line.reason == OFFICER_REASON


def test_report_totals_and_strict_totals() -> None:
    s = audit().summary
    # MOD-0101 fails on firm values (its own ratio); the other three rest on the bar.
    assert (s.batteries, s.passed, s.failed, s.provisional, s.not_applicable,
            s.insufficient_data) == (5, 0, 1, 3, 1, 0)
    assert audit().status is FAIL
    s = audit(strict=True).summary
    # MOD-0101 fails on its own ratio; MOD-0102, MOD-DEBT and MOD-OFFICER wait for the bar.
    assert (s.passed, s.failed, s.provisional, s.not_applicable, s.insufficient_data) == (
        0, 1, 0, 1, 3)
    assert audit(strict=True).status is FAIL


@pytest.mark.parametrize("strict", [False, True])
def test_cli_exit_code_and_statuses(strict: bool) -> None:
    args = ["audit", str(LOTS), "-r", RULESET] + (["--strict"] if strict else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    if strict:
        assert "MOD-DEBT INSUFFICIENT_DATA under us-45x-pfe" in result.output
        assert "MOD-0101 FAIL under us-45x-pfe" in result.output
    else:
        assert ("MOD-DEBT PROVISIONAL under us-45x-pfe (would be fail; rests on unconfirmed "
                "ruleset values)") in result.output
    assert "MOD-1231 NOT_APPLICABLE under us-45x-pfe" in result.output


# --------------------------------------------------------------------------------------------
# Both sides of every date in the ruleset, in memory.
#
# One lot: cells from a CN maker 250.00 (attributable), housings from a US maker 750.00: ratio
# 75 %. Thresholds: 60 (2026, secondary) pass; 65 (2027) and 70 (2028) provisional pass; 80
# (2029) and 85 (2030) provisional fail (all four unconfirmed). The taxpayer (clear) passes,
# provisionally, whenever the bar is in force.
# --------------------------------------------------------------------------------------------

CLEAN = {"incorporated_in": "US", "headquartered_in": "US", "covered_government_voting_pct": 0,
         "covered_government_board_pct": 0, "covered_government_equity_pct": 0,
         "effective_control": False, "restricted_lists": ""}
ENTITIES = [{"entity_id": "MAKER", "name": "Module Maker LLC", **CLEAN},
            {"entity_id": "CNCELL", "name": "Cells Co Ltd", **CLEAN, "incorporated_in": "CN",
             "headquartered_in": "CN"},
            {"entity_id": "USHOUSING", "name": "Housings LLC", **CLEAN}]


def lots_bom(days: list[dt.date]) -> Bom:
    ids = [f"L-{d.isoformat()}" for d in days]
    return Bom.from_records(
        batteries=[{"battery_id": i, "sold_on": d.isoformat(), "taxpayer": "MAKER"}
                   for i, d in zip(ids, days, strict=True)],
        costs=[{"battery_id": i, "item_id": k, "supplier": s, "direct_cost_usd": c}
               for i in ids
               for k, s, c in (("M1", "CNCELL", "250.00"), ("M2", "USHOUSING", "750.00"))],
        entities=ENTITIES)


HAND_TABLE = {  # day: (material_assistance, its outcome, threshold, taxpayer_not_prohibited)
    "2025-12-31": (NA, None, None, NA),
    "2026-01-01": (PASS, None, "60", PROVISIONAL),
    "2026-12-31": (PASS, None, "60", PROVISIONAL),
    "2027-01-01": (PROVISIONAL, PASS, "65", PROVISIONAL),
    "2028-01-01": (PROVISIONAL, PASS, "70", PROVISIONAL),
    "2028-12-31": (PROVISIONAL, PASS, "70", PROVISIONAL),
    "2029-01-01": (PROVISIONAL, FAIL, "80", PROVISIONAL),
    "2030-01-01": (PROVISIONAL, FAIL, "85", PROVISIONAL),
}


def test_hand_table_of_dates() -> None:
    days = [dt.date.fromisoformat(d) for d in HAND_TABLE]
    report = compliance.audit(lots_bom(days), rulesets=[RULESET])
    got = {}
    for b in report.batteries:
        m, minerals, t = b.verdicts[0].requirements
        assert minerals.status is NA  # these lots are battery components (product_kind empty)
        got[b.battery_id[2:]] = (m.status, m.provisional_outcome,
                                 None if m.required_pct is None else str(m.required_pct),
                                 t.status)
    assert got == HAND_TABLE


def test_both_sides_of_every_date_in_the_yaml() -> None:
    loaded = compliance.load_ruleset(RULESET)
    rs = loaded.ruleset
    starts = sorted({d for p in rs.parameters.values() for d in p.values})
    assert {dt.date(2025, 7, 4), dt.date(2026, 1, 1), dt.date(2030, 1, 1)} <= set(starts)
    days = sorted({x for d in starts for x in (d - dt.timedelta(days=1), d)})
    report = compliance.audit(lots_bom(days), rulesets=[loaded])
    macr = rs.requirement("material_assistance")
    bar = rs.requirement("taxpayer_not_prohibited")

    def value(name: str, day: dt.date):  # type: ignore[no-untyped-def]
        found = rs.parameter(name).at(day)
        return found[1] if found else None

    def unconfirmed(names: list[str], day: dt.date) -> bool:
        return any(v is not None and v.status is ValueStatus.UNCONFIRMED
                   for v in (value(n, day) for n in names))

    for b in report.batteries:
        day = dt.date.fromisoformat(b.battery_id[2:])
        m, minerals, t = b.verdicts[0].requirements
        assert minerals.status is NA, day  # battery components: the minerals table is not theirs
        threshold, active = value(macr.threshold, day), value(macr.in_force, day)
        if threshold is None or active is None or active.value is not True:
            assert m.status is NA, day
        else:
            outcome = PASS if D(75) >= D(str(threshold.value)) else FAIL
            reads = [macr.threshold, macr.in_force, *parameters_of(rs, macr.entity_test)]
            expected = (PROVISIONAL, outcome) if unconfirmed(reads, day) else (outcome, None)
            assert (m.status, m.provisional_outcome) == expected, day
            assert m.required_pct == D(str(threshold.value)), day
        switch = value(bar.in_force, day)
        if switch is None or switch.value is not True:
            assert t.status is NA, day
        else:
            reads = [bar.in_force, *parameters_of(rs, bar.entity_test)]
            expected = (PROVISIONAL, PASS) if unconfirmed(reads, day) else (PASS, None)
            assert (t.status, t.provisional_outcome) == expected, day


def test_debt_just_under_15_percent_clears_the_taxpayer() -> None:
    # 14.99 % of the debt held by a CN bank: under 15 %, so not foreign-influenced by debt.
    def taxpayer(debt: str) -> RequirementResult:
        bom = Bom.from_records(
            batteries=[{"battery_id": "L1", "sold_on": "2026-06-01", "taxpayer": "MAKER"}],
            costs=[{"battery_id": "L1", "item_id": "M2", "supplier": "USHOUSING",
                    "direct_cost_usd": "100"}],
            entities=[*ENTITIES, {"entity_id": "BANK", "name": "Bank Co Ltd", **CLEAN,
                                  "incorporated_in": "CN", "headquartered_in": "CN"}],
            ownership=[{"owner_id": "BANK", "owned_id": "MAKER", "debt_pct": debt}])
        report = compliance.audit(bom, rulesets=[RULESET])
        return next(r for r in report.batteries[0].verdicts[0].requirements
                    if r.id == "taxpayer_not_prohibited")

    assert taxpayer("14.99").provisional_outcome is PASS
    r = taxpayer("15")
    assert r.provisional_outcome is FAIL
    assert r.lines[0].reason == ("claimed by MAKER: foreign-influenced entity (specified foreign "
                                 "entities (BANK) hold 15 % of its debt)")


def test_a_critical_mineral_takes_the_unconfirmed_minerals_table() -> None:
    # A lithium hydroxide lot sold in 2028: $100 of direct costs, $75 from a CN-headquartered
    # supplier (a specified foreign entity). Ratio (100 - 75) / 100 = 25 %, below the 30 % the
    # (unconfirmed) minerals table gives for 2028: provisional fail, short 5 points, $5.00.
    # In 2026 the table gives 0 %: 25 % passes, still provisional.
    def lot(day: str):  # type: ignore[no-untyped-def]
        bom = Bom.from_records(
            batteries=[{"battery_id": "LIOH", "sold_on": day, "product_kind": "critical mineral",
                        "taxpayer": "MAKER"}],
            costs=[{"battery_id": "LIOH", "item_id": "ORE", "supplier": "CNORE",
                    "direct_cost_usd": "75"},
                   {"battery_id": "LIOH", "item_id": "REAGENT", "supplier": "USHOUSING",
                    "direct_cost_usd": "25"}],
            entities=[*ENTITIES, {"entity_id": "CNORE", "name": "Ore Co", **CLEAN,
                                  "incorporated_in": "CN", "headquartered_in": "CN"}])
        report = compliance.audit(bom, rulesets=[RULESET])
        return {r.id: r for r in report.batteries[0].verdicts[0].requirements}

    later = lot("2028-03-01")
    assert later["material_assistance"].status is NA
    r = later["mineral_material_assistance"]
    assert (r.status, r.provisional_outcome) == (PROVISIONAL, FAIL)
    assert (r.actual_pct, r.required_pct) == (D("25.0000"), D("30"))
    assert (r.shortfall_pct, r.shortfall_usd) == (D("5.0000"), D("5.00"))
    early = lot("2026-03-01")["mineral_material_assistance"]
    assert (early.status, early.provisional_outcome) == (PROVISIONAL, PASS)

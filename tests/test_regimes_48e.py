"""us-48e-storage-pfe: energy storage projects, worked out by hand, on both sides of each date.

The fixture is ``fixtures/regimes/storage-project-48e.xlsx`` (written by
``fixtures/regimes/generate.py``). Arithmetic follows the engine's rules: the material assistance
cost ratio is (total - attributable) / total, shown cut (never rounded up) to 4 places;
``shortfall_usd`` = threshold % x total - non-attributable cost, rounded up to the cent;
``shortfall_pct`` = threshold - exact ratio, rounded up to 4 places; a line's ``share_pct`` is
its cost / total rounded half-even to 4 places.

Who is a prohibited foreign entity (covered nations CN, RU, KP, IR):
- HENGYUAN is organised and headquartered in CN: a specified foreign entity (SFE).
- TIANHE (CN) holds 60 % of LIONGATE (SG): more than 50 %, so LIONGATE is foreign-controlled,
  an SFE.
- LIONGATE holds 50 % of CHUNGJU (KR) directly; TIANHE holds 60 % x 50 % = 30 % of it through
  LIONGATE. CHUNGJU is not foreign-controlled (covered-nation persons: TIANHE's 30 % only, not
  more than 50 %) but it is foreign-influenced: one SFE holds at least 25 % (LIONGATE 50 %; TIANHE's
  indirect 30 % alone would also do).
- BUCKEYE, GULFENCL, CAROCELL (US), HSINCHU (TW) and HAIPHONG (VN) are clear; HAIPHONG's rows
  carry a supplier certification (pfe_cost_usd), which replaces its own status.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
import sys
from decimal import Decimal as D
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

import compliance
from compliance.cli import main as cli
from compliance.engine.entities import parameters_of
from compliance.reader.bom import Bom
from compliance.report.model import AuditReport, RequirementResult, Status, Verdict
from compliance.rules.model import Status as ValueStatus

ROOT = Path(__file__).resolve().parents[1]
REGIMES = ROOT / "fixtures" / "regimes"
STORAGE = REGIMES / "storage-project-48e.xlsx"
RULESET = "us-48e-storage-pfe"

PASS, FAIL, PROVISIONAL = Status.PASS, Status.FAIL, Status.PROVISIONAL
INSUFFICIENT, NA = Status.INSUFFICIENT_DATA, Status.NOT_APPLICABLE

HENGYUAN_REASON = ("supplied by HENGYUAN: specified foreign entity (foreign-controlled entity: "
                   "organised in a covered nation (CN); has its principal place of business in a "
                   "covered nation (CN))")
CHUNGJU_REASON_START = ("supplied by CHUNGJU: foreign-influenced entity (a specified foreign "
                        "entity (LIONGATE) holds 50 % of its equity; ")


@functools.cache
def audit(strict: bool = False) -> AuditReport:
    return compliance.audit(STORAGE, rulesets=[RULESET], strict=strict)


def verdict(report: AuditReport, battery_id: str) -> Verdict:
    (battery,) = [b for b in report.batteries if b.battery_id == battery_id]
    (only,) = battery.verdicts
    return only


def macr(report: AuditReport, battery_id: str) -> RequirementResult:
    (only,) = verdict(report, battery_id).requirements
    assert only.id == "material_assistance"
    return only


# --------------------------------------------------------------------------------------------
# BESS-MESA, construction begun 2026-03-02: 55 % required (secondary).
#   K-01 cells     HENGYUAN (SFE)   6,217,400.00  attributable  45.15834..% -> 45.1583
#   K-02 racks     CHUNGJU  (FIE)   2,385,000.00  attributable  17.32277..% -> 17.3228
#   K-03 PCS       BUCKEYE  (US)    3,104,750.00
#   K-04 enclosure GULFENCL (US)    1,648,200.00
#   K-05 BMS       HSINCHU  (TW)      412,650.00
#   total 13,768,000.00; attributable 8,602,400.00; not attributable 5,165,600.00
#   ratio 5,165,600 / 13,768,000 = 37.518884..% -> 37.5188
#   needed 55 % x 13,768,000 = 7,572,400.00 -> short 7,572,400 - 5,165,600 = 2,406,800.00
#   short by 55 - 37.518884.. = 17.481115.. -> 17.4812 points (rounded up)
# --------------------------------------------------------------------------------------------


def test_mesa_2026_fails_at_55_percent() -> None:
    report = audit()
    v = verdict(report, "BESS-MESA")
    r = macr(report, "BESS-MESA")
    assert (v.status, v.provisional, v.provisional_outcome) == (FAIL, False, None)
    assert v.summary == "fails material_assistance"
    assert v.credit_usd is None  # a condition, no amount
    assert v.dates == {"construction_start": dt.date(2026, 3, 2)}
    assert r.status is FAIL
    assert r.actual_pct == D("37.5188") and r.required_pct == D("55")
    assert r.total_usd == D("13768000.00") and r.qualifying_usd == D("5165600.00")
    assert r.shortfall_usd == D("2406800.00") and r.shortfall_pct == D("17.4812")
    assert r.explanation == (
        "cost ratio 37.5188 % ($5,165,600.00 of $13,768,000.00 not attributable to a prohibited "
        "foreign entity); 55 % required on 2026-03-02: short by 17.4812 points; $2,406,800.00 of "
        "attributable cost must be replaced")
    assert [(x.item_id, x.row, x.value_usd, x.share_pct) for x in r.lines] == [
        ("K-01", 2, D("6217400.00"), D("45.1583")), ("K-02", 3, D("2385000.00"), D("17.3228"))]
    assert r.lines[0].reason == HENGYUAN_REASON
    assert r.lines[1].reason.startswith(CHUNGJU_REASON_START)
    used = {p.name: (p.value, p.in_force_from, p.status) for p in r.parameters}
    assert used["storage_macr_pct"] == ("55", dt.date(2026, 1, 1), "secondary")
    assert used["storage_macr_in_force"] == (True, dt.date(2026, 1, 1), "confirmed")


# --------------------------------------------------------------------------------------------
# BESS-RIDGE, construction begun 2027-02-15: 60 % required, a value marked unconfirmed.
#   K-01 cells     CHUNGJU  (FIE)   3,600,000.00  attributable               39.779005..% -> 39.7790
#   K-02 modules   HAIPHONG         1,840,000.00  certified 276,000.00 attr.  3.049723..% -> 3.0497
#   K-03 PCS       BUCKEYE          2,210,500.00
#   K-04 enclosure GULFENCL         1,096,300.00
#   K-05 BMS       HSINCHU            303,200.00
#   total 9,050,000.00; attributable 3,876,000.00; not attributable 5,174,000.00
#   ratio 5,174,000 / 9,050,000 = 57.171270..% -> 57.1712: passes 55 %, fails 60 %
#   needed 60 % x 9,050,000 = 5,430,000.00 -> short 256,000.00; 60 - 57.171270.. -> 2.8288
# --------------------------------------------------------------------------------------------


def test_ridge_2027_is_a_provisional_fail() -> None:
    report = audit()
    v = verdict(report, "BESS-RIDGE")
    r = macr(report, "BESS-RIDGE")
    assert (v.status, v.provisional, v.provisional_outcome) == (PROVISIONAL, True, FAIL)
    assert v.summary == ("provisional (fail): fails material_assistance; rests on unconfirmed "
                         "ruleset values")
    assert (r.status, r.provisional, r.provisional_outcome) == (PROVISIONAL, True, FAIL)
    assert r.actual_pct == D("57.1712") and r.required_pct == D("60")
    assert r.shortfall_usd == D("256000.00") and r.shortfall_pct == D("2.8288")
    assert [(x.item_id, x.value_usd, x.share_pct) for x in r.lines] == [
        ("K-01", D("3600000.00"), D("39.7790")), ("K-02", D("276000.00"), D("3.0497"))]
    assert r.lines[1].reason == ("supplier certifies $276,000.00 of the cost as attributable to "
                                 "a prohibited foreign entity")
    used = {p.name: (p.value, p.in_force_from, p.status) for p in r.parameters}
    assert used["storage_macr_pct"] == ("60", dt.date(2027, 1, 1), "unconfirmed")


def test_ridge_2027_under_strict_is_insufficient_data() -> None:
    report = audit(strict=True)
    v = verdict(report, "BESS-RIDGE")
    r = macr(report, "BESS-RIDGE")
    assert report.strict is True
    assert (v.status, v.provisional_outcome) == (INSUFFICIENT, None)
    assert v.summary == "cannot decide material_assistance: 1 data gap"
    assert r.status is INSUFFICIENT and r.provisional_outcome is None
    (gap,) = r.gaps
    assert (gap.sheet, gap.column, gap.cell) == ("ruleset", "storage_macr_pct", None)
    assert gap.message == ("ruleset value storage_macr_pct (from 2027-01-01) is unconfirmed; "
                           "--strict refuses verdicts that depend on it")
    assert r.explanation.endswith(
        "(refused under --strict: depends on unconfirmed ruleset values)")
    # The verdicts that rest on secondary values are the same with or without --strict.
    for bid in ("BESS-MESA", "BESS-HARBOR", "BESS-PRAIRIE"):
        assert verdict(report, bid).status is verdict(audit(), bid).status


# --------------------------------------------------------------------------------------------
# BESS-HARBOR, construction begun 2026-06-30: passes 55 %.
#   K-01 cells CAROCELL (US) 2,480,000.00; K-02 modules HAIPHONG 960,000.00 (certified
#   144,000.00); K-03 PCS 1,120,000.00; K-04 enclosures 610,000.00; K-05 BMS 180,000.00;
#   K-06 spare cells CHUNGJU (FIE) 450,000.00 attributable.
#   total 5,800,000.00; attributable 144,000 + 450,000 = 594,000.00
#   ratio 5,206,000 / 5,800,000 = 89.758620..% -> 89.7586
#   lines: K-06 450,000 / 5,800,000 = 7.758620..% -> 7.7586; K-02 144,000 -> 2.482758..% -> 2.4828
# --------------------------------------------------------------------------------------------


def test_harbor_2026_passes_with_a_pfe_supplier_under_the_threshold() -> None:
    report = audit()
    v = verdict(report, "BESS-HARBOR")
    r = macr(report, "BESS-HARBOR")
    assert (v.status, v.summary) == (PASS, "meets every requirement")
    assert r.status is PASS
    assert r.actual_pct == D("89.7586") and r.required_pct == D("55")
    assert r.qualifying_usd == D("5206000.00") and r.total_usd == D("5800000.00")
    assert r.shortfall_usd is None and r.shortfall_pct is None
    assert [(x.item_id, x.value_usd, x.share_pct) for x in r.lines] == [
        ("K-06", D("450000.00"), D("7.7586")), ("K-02", D("144000.00"), D("2.4828"))]
    assert r.explanation == ("cost ratio 89.7586 % ($5,206,000.00 of $5,800,000.00 not "
                             "attributable to a prohibited foreign entity); 55 % required on "
                             "2026-06-30")


def test_prairie_begun_2025_12_31_is_outside_the_bar() -> None:
    # The Mesa Verde supply (37.5188 %) a day before the bar applies: not applicable.
    report = audit()
    v = verdict(report, "BESS-PRAIRIE")
    r = macr(report, "BESS-PRAIRIE")
    assert (v.status, v.summary) == (
        NA, "no requirement of this ruleset applies on the battery's dates")
    assert r.status is NA and r.explanation == "no cost-ratio threshold applies on 2025-12-31"
    assert r.actual_pct is None and r.lines == []


def test_report_totals() -> None:
    report = audit()
    s = report.summary
    assert (s.batteries, s.passed, s.failed, s.provisional, s.not_applicable,
            s.insufficient_data, s.errors, s.warnings) == (4, 1, 1, 1, 1, 0, 0, 0)
    assert report.status is FAIL and report.findings == []
    assert [b.battery_id for b in report.batteries] == [
        "BESS-MESA", "BESS-RIDGE", "BESS-HARBOR", "BESS-PRAIRIE"]


# --------------------------------------------------------------------------------------------
# The command line, with and without --strict
# --------------------------------------------------------------------------------------------


def test_cli_text_report() -> None:
    result = CliRunner().invoke(cli, ["audit", str(STORAGE), "--ruleset", RULESET])
    assert result.exit_code == 1, result.output  # a project fails
    out = " ".join(result.output.split())  # the report wraps long lines at 110 columns
    assert "BESS-MESA FAIL under us-48e-storage-pfe (construction_start 2026-03-02)" in out
    assert ("BESS-RIDGE PROVISIONAL under us-48e-storage-pfe (would be fail; rests on "
            "unconfirmed ruleset values)") in out
    assert "BESS-HARBOR PASS under us-48e-storage-pfe" in out
    assert "BESS-PRAIRIE NOT_APPLICABLE under us-48e-storage-pfe" in out
    assert ("material_assistance: cost ratio 37.5188 % ($5,165,600.00 of $13,768,000.00 not "
            "attributable to a prohibited foreign entity); 55 % required on 2026-03-02: short by "
            "17.4812 points; $2,406,800.00 of attributable cost must be replaced") in out


@pytest.mark.parametrize("strict", [False, True])
def test_cli_strict_exit_code_and_status(strict: bool) -> None:
    args = ["audit", str(STORAGE), "--ruleset", RULESET, "--format", "json"]
    result = CliRunner().invoke(cli, [*args, "--strict"] if strict else args)
    # Exit 1 either way: a provisional verdict is not a pass, and neither is insufficient data.
    assert result.exit_code == 1, result.output
    report = AuditReport.model_validate_json(result.output)
    assert report.strict is strict
    ridge = verdict(report, "BESS-RIDGE")
    if strict:
        assert (ridge.status, ridge.provisional_outcome) == (INSUFFICIENT, None)
        assert report.summary.provisional == 0 and report.summary.insufficient_data == 1
    else:
        assert (ridge.status, ridge.provisional_outcome) == (PROVISIONAL, FAIL)
        assert report.summary.provisional == 1 and report.summary.insufficient_data == 0
    data = json.loads(result.output)
    assert data["strict"] is strict


def test_cli_strict_on_a_workbook_resting_only_on_secondary_values_exits_0(
        tmp_path: Path) -> None:
    # Only BESS-HARBOR (secondary values only): passes with and without --strict.
    from openpyxl import load_workbook

    wb = load_workbook(STORAGE)
    for name in ("batteries", "costs"):
        ws = wb[name]
        for row in range(ws.max_row, 1, -1):
            if ws.cell(row, 1).value != "BESS-HARBOR":
                ws.delete_rows(row)
    path = tmp_path / "harbor.xlsx"
    wb.save(path)
    for extra in ([], ["--strict"]):
        result = CliRunner().invoke(cli, ["audit", str(path), "-r", RULESET, *extra])
        assert result.exit_code == 0, result.output
        assert "1 batteries: 1 pass" in result.output


# --------------------------------------------------------------------------------------------
# Both sides of every date in the ruleset, in memory.
#
# One project: cells from a CN maker 300.00 (attributable), PCS from a US maker 500.00:
# ratio 500 / 800 = 62.5 %. Against the table: 55 -> pass; 60 (unconfirmed) -> provisional
# pass; 65 (unconfirmed) -> provisional fail; 70 and 75 (secondary) -> fail; before 2026 -> not
# applicable.
# --------------------------------------------------------------------------------------------

CLEAN = {"incorporated_in": "US", "headquartered_in": "US", "covered_government_voting_pct": 0,
         "covered_government_board_pct": 0, "covered_government_equity_pct": 0,
         "effective_control": False, "restricted_lists": ""}
ENTITIES = [{"entity_id": "DEV", "name": "Developer LLC", **CLEAN},
            {"entity_id": "CNCELL", "name": "Cells Co Ltd", **CLEAN, "incorporated_in": "CN",
             "headquartered_in": "CN"},
            {"entity_id": "USPCS", "name": "PCS LLC", **CLEAN}]


def project_bom(days: list[dt.date]) -> Bom:
    ids = [f"P-{d.isoformat()}" for d in days]
    return Bom.from_records(
        batteries=[{"battery_id": i, "construction_start": d.isoformat(), "taxpayer": "DEV"}
                   for i, d in zip(ids, days, strict=True)],
        costs=[{"battery_id": i, "item_id": k, "supplier": s, "direct_cost_usd": c}
               for i in ids for k, s, c in (("K1", "CNCELL", "300.00"), ("K2", "USPCS", "500.00"))],
        entities=ENTITIES)


HAND_TABLE = {
    "2025-12-31": (NA, None, None),
    "2026-01-01": (PASS, None, "55"),
    "2026-12-31": (PASS, None, "55"),
    "2027-01-01": (PROVISIONAL, PASS, "60"),
    "2027-12-31": (PROVISIONAL, PASS, "60"),
    "2028-01-01": (PROVISIONAL, FAIL, "65"),
    "2028-12-31": (PROVISIONAL, FAIL, "65"),
    "2029-01-01": (FAIL, None, "70"),
    "2029-12-31": (FAIL, None, "70"),
    "2030-01-01": (FAIL, None, "75"),
    "2040-06-30": (FAIL, None, "75"),
}


def test_hand_table_of_dates() -> None:
    days = [dt.date.fromisoformat(d) for d in HAND_TABLE]
    report = compliance.audit(project_bom(days), rulesets=[RULESET])
    got = {}
    for b in report.batteries:
        (r,) = b.verdicts[0].requirements
        got[b.battery_id[2:]] = (r.status, r.provisional_outcome,
                                 None if r.required_pct is None else str(r.required_pct))
        if r.status is not NA:
            assert r.actual_pct == D("62.5")
    assert got == HAND_TABLE


def test_both_sides_of_every_date_in_the_yaml() -> None:
    loaded = compliance.load_ruleset(RULESET)
    rs = loaded.ruleset
    req = rs.requirement("material_assistance")
    starts = sorted({d for p in rs.parameters.values() for d in p.values})
    assert dt.date(2026, 1, 1) in starts and dt.date(2030, 1, 1) in starts
    days = sorted({x for d in starts for x in (d - dt.timedelta(days=1), d)})
    report = compliance.audit(project_bom(days), rulesets=[loaded])
    reads = [req.threshold, req.in_force, *parameters_of(rs, req.entity_test)]
    for b in report.batteries:
        day = dt.date.fromisoformat(b.battery_id[2:])
        (r,) = b.verdicts[0].requirements
        threshold = rs.parameter(req.threshold).at(day)
        active = rs.parameter(req.in_force).at(day)
        if threshold is None or active is None or active[1].value is not True:
            assert r.status is NA, day
            continue
        start, item = threshold
        outcome = PASS if D("62.5") >= D(str(item.value)) else FAIL
        unconfirmed = any(
            found[1].status is ValueStatus.UNCONFIRMED
            for found in (rs.parameter(n).at(day) for n in reads) if found)
        assert r.required_pct == D(str(item.value)), day
        assert (r.status, r.provisional_outcome) == (
            (PROVISIONAL, outcome) if unconfirmed else (outcome, None)), day
        (use,) = [p for p in r.parameters if p.name == req.threshold]
        assert (use.in_force_from, use.status) == (start, item.status.value), day


# --------------------------------------------------------------------------------------------
# A supplier whose status is unknown bounds the ratio; the verdict waits only when it matters.
# --------------------------------------------------------------------------------------------


def test_unknown_supplier_only_blocks_when_the_bounds_straddle_the_threshold() -> None:
    # UNKNOWN has no headquarters country: it cannot be cleared. Total 1,000 each time, CN 200
    # attributable, so the best case (UNKNOWN clear) is 800 / 1,000 = 80 %.
    # US 700, UNKNOWN 100: worst case (UNKNOWN caught) 700 / 1,000 = 70 % >= 55: pass.
    # US 550, UNKNOWN 250: worst 55 % = 55 %: pass (exactly at the threshold).
    # US 540, UNKNOWN 260: worst 54 % < 55 % <= 80 %: the verdict waits for UNKNOWN's data.
    unknown = {"entity_id": "UNKNOWN", "name": "Unknown Co", **CLEAN, "headquartered_in": None}

    def run(us: str, cn: str, unk: str) -> RequirementResult:
        bom = Bom.from_records(
            batteries=[{"battery_id": "P1", "construction_start": "2026-05-01"}],
            costs=[{"battery_id": "P1", "item_id": k, "supplier": s, "direct_cost_usd": c}
                   for k, s, c in (("K1", "USPCS", us), ("K2", "CNCELL", cn),
                                   ("K3", "UNKNOWN", unk))],
            entities=[*ENTITIES, unknown])
        (r,) = compliance.audit(bom, rulesets=[RULESET]).batteries[0].verdicts[0].requirements
        return r

    r = run("700", "200", "100")
    assert (r.status, r.actual_pct, r.gaps[0].column) == (PASS, D("70"), "supplier")
    r = run("550", "200", "250")
    assert (r.status, r.actual_pct) == (PASS, D("55"))
    r = run("540", "200", "260")
    assert r.status is INSUFFICIENT and r.actual_pct == D("54")
    assert r.explanation == (
        "cost ratio 54 % ($540.00 of $1,000.00 not attributable to a prohibited foreign entity); "
        "55 % required on 2026-05-01; $260.00 of cost has unknown status, so the ratio is "
        "between 54 % and 80 %")
    (gap,) = r.gaps
    assert gap.message == ("supplier UNKNOWN's cost cannot be cleared: headquartered_in empty in "
                           "the entities sheet")
    assert (gap.cell, gap.item_id) == ("D4", "K3")


# --------------------------------------------------------------------------------------------
# The committed regime workbooks are what fixtures/regimes/generate.py writes.
# --------------------------------------------------------------------------------------------

AUDITED_WITH = {
    "storage-project-48e.xlsx": ["us-48e-storage-pfe"],
    "component-45x.xlsx": ["us-45x-pfe"],
    "eu-recycled-content.xlsx": ["eu-2023-1542-recycled-content"],
    "policy-examples.xlsx": [str(ROOT / "rulesets" / "examples" / "concentration-cap.yaml"),
                             str(ROOT / "rulesets" / "examples" / "banned-origin.yaml")],
}


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("regime_generator", REGIMES / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _comparable(report: AuditReport) -> dict:
    data = report.model_dump(mode="json")
    del data["input"]["name"], data["input"]["sha256"], data["input"]["size_bytes"]
    return data


def test_committed_regime_fixtures_match_the_generator(tmp_path: Path) -> None:
    written = load_generator().generate(tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in REGIMES.glob("*.xlsx"))
    assert sorted(AUDITED_WITH) == sorted(p.name for p in written)
    for path in written:
        rulesets = AUDITED_WITH[path.name]
        fresh = compliance.audit(path, rulesets=rulesets)
        committed = compliance.audit(REGIMES / path.name, rulesets=rulesets)
        assert _comparable(fresh) == _comparable(committed), path.name
        assert committed.findings == [], path.name


def test_regime_generator_is_deterministic(tmp_path: Path) -> None:
    generator = load_generator()
    first = generator.generate(tmp_path / "a")
    second = generator.generate(tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_cli_summary_line_counts_every_battery() -> None:
    result = CliRunner().invoke(cli, ["audit", str(STORAGE), "--ruleset", RULESET])
    (summary,) = [line for line in result.output.splitlines() if line.startswith("4 batteries")]
    assert "1 provisional" in summary

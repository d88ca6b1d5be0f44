"""The two example policies (rulesets/examples/*.yaml) from the CLI and the library.

The fixture is ``fixtures/regimes/policy-examples.xlsx`` (written by
``fixtures/regimes/generate.py``); minerals rows 2-4 are POL-LITHIUM, 5-7 POL-COBALT, 8-9
POL-GRAPHITE and 10-11 POL-GAP. Column H is processing_country.

concentration-cap.yaml: per battery, mineral and stage, no non-EU country above 65 % of the
mineral's value; the excess is top country's value - 65 % x total, rounded up to the cent.
banned-origin.yaml: no graphite row may be processed in CN.
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
from compliance.reader.bom import Bom
from compliance.report.model import AuditReport, RequirementResult, Status, Verdict

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = ROOT / "fixtures" / "regimes" / "policy-examples.xlsx"
EXAMPLES = ROOT / "rulesets" / "examples"
CAP = str(EXAMPLES / "concentration-cap.yaml")
BANNED = str(EXAMPLES / "banned-origin.yaml")

PASS, FAIL, INSUFFICIENT, NA = (Status.PASS, Status.FAIL, Status.INSUFFICIENT_DATA,
                                Status.NOT_APPLICABLE)


@functools.cache
def audit(*rulesets: str) -> AuditReport:
    return compliance.audit(WORKBOOK, rulesets=list(rulesets))


def verdict(report: AuditReport, battery_id: str, ruleset: str) -> Verdict:
    (battery,) = [b for b in report.batteries if b.battery_id == battery_id]
    (found,) = [v for v in battery.verdicts if v.ruleset == ruleset]
    return found


def result(report: AuditReport, battery_id: str, ruleset: str) -> RequirementResult:
    (only,) = verdict(report, battery_id, ruleset).requirements
    return only


# --------------------------------------------------------------------------------------------
# concentration-cap.yaml
#
# POL-LITHIUM (total 9,500.00): processed in CN 5,400 + 1,800 = 7,200.00 = 75.789473..% ->
#   75.7894 > 65: 7,200 - 65 % x 9,500 (6,175) = 1,025.00 must move; 75.7894 - 65 = 10.7894.
#   Lines L-01 5,400 / 9,500 = 56.842105..% -> 56.8421; L-02 1,800 -> 18.947368..% -> 18.9474.
#   Extraction AU 5,400 (56.84 %), US 2,300, CL 1,800: under the cap.
# POL-COBALT (total 4,000.00): refined in FI 3,200 (80 %), but FI is an EU member state and not
#   counted; CA 800 (20 %). Extraction CD 2,000 (50 %), AU 1,200, CA 800. Largest: 50 %.
# POL-GRAPHITE: MZ/CN 1,250 and CA/CA 1,250: every stage 50 %.
# POL-GAP: G-01 (900.00) has no processing country; CA holds 1,100 of 2,000 (55 %) and the
#   unknown 900 could push one country to 100 %: insufficient data.
# --------------------------------------------------------------------------------------------

CAP_ID = "example-concentration-cap"
BANNED_ID = "example-banned-origin"


def test_concentration_cap_one_country_above_65_percent_at_processing() -> None:
    r = result(audit(CAP), "POL-LITHIUM", CAP_ID)
    assert r.status is FAIL and r.comparison == "at_most"
    assert (r.actual_pct, r.required_pct, r.shortfall_pct, r.shortfall_usd) == (
        D("75.7894"), D("65"), D("10.7894"), D("1025.00"))
    assert r.explanation == ("lithium processed in CN: 75.7894 % of $9,500.00 (cap 65 %); "
                             "$1,025.00 must move to other countries")
    assert [(x.item_id, x.row, x.value_usd, x.share_pct) for x in r.lines] == [
        ("L-01", 2, D("5400.00"), D("56.8421")), ("L-02", 3, D("1800.00"), D("18.9474"))]
    assert r.lines[0].reason == ("lithium processed in CN, which supplies 75.7894 % of the "
                                 "battery's lithium value at this stage (cap 65 %)")


def test_concentration_cap_does_not_count_eu_member_states() -> None:
    r = result(audit(CAP), "POL-COBALT", CAP_ID)
    assert (r.status, r.actual_pct, r.lines) == (PASS, D("50"), [])
    assert r.explanation == ("no country supplies more than 65 % of any mineral at any stage "
                             "(largest 50 %)")


def test_concentration_cap_without_the_exemption_fails() -> None:
    # The same cobalt refined in Norway (not an EU member state): 3,200 of 4,000 = 80 % > 65 %:
    # 3,200 - 2,600 = 600.00 must move.
    lines = [("C-01", "2000", "CD", "NO"), ("C-02", "1200", "AU", "NO"),
             ("C-03", "800", "CA", "CA")]
    bom = Bom.from_records(
        batteries=[{"battery_id": "B1", "placed_in_service": "2025-06-02"}],
        minerals=[{"battery_id": "B1", "line_id": i, "mineral": "cobalt", "value_usd": v,
                   "extraction_country": e, "processing_country": p} for i, v, e, p in lines])
    (battery,) = compliance.audit(bom, rulesets=[CAP]).batteries
    (r,) = battery.verdicts[0].requirements
    assert (r.status, r.actual_pct, r.shortfall_usd) == (FAIL, D("80"), D("600.00"))


def test_concentration_cap_unknown_country_is_a_data_gap() -> None:
    r = result(audit(CAP), "POL-GAP", CAP_ID)
    assert r.status is INSUFFICIENT
    (gap,) = r.gaps
    assert (gap.cell, gap.item_id) == ("H10", "G-01")
    assert gap.message == ("processing_country is empty: the processing country of this "
                           "graphite is unknown")
    assert result(audit(CAP), "POL-GRAPHITE", CAP_ID).status is PASS


# --------------------------------------------------------------------------------------------
# banned-origin.yaml
#
# POL-GRAPHITE: G-01 graphite processed in CN, 1,250.00 of 2,500.00 (50 %): fails.
# POL-GAP: G-01 graphite with an empty processing country cannot be cleared.
# POL-LITHIUM: lithium processed in CN is not graphite: passes.
# --------------------------------------------------------------------------------------------


def test_banned_origin_graphite_processed_in_cn() -> None:
    r = result(audit(BANNED), "POL-GRAPHITE", BANNED_ID)
    assert r.status is FAIL
    assert (r.actual_pct, r.shortfall_pct, r.shortfall_usd, r.total_usd) == (
        D("50"), D("50"), D("1250.00"), D("2500.00"))
    assert r.explanation == ("1 row ($1,250.00) not allowed: graphite, processed in CN: not "
                             "allowed")
    (line,) = r.lines
    assert (line.item_id, line.row, line.share_pct) == ("G-01", 8, D("50"))
    assert line.reason == "graphite, processed in CN: not allowed"


def test_banned_origin_empty_processing_country_cannot_be_cleared() -> None:
    r = result(audit(BANNED), "POL-GAP", BANNED_ID)
    assert r.status is INSUFFICIENT
    assert r.explanation == "no banned row found, but some rows cannot be cleared"
    (gap,) = r.gaps
    assert (gap.cell, gap.column) == ("H10", "processing_country")
    assert gap.message == "processing_country is empty or invalid, so the row cannot be cleared"


def test_banned_origin_covers_only_graphite() -> None:
    r = result(audit(BANNED), "POL-LITHIUM", BANNED_ID)
    assert (r.status, r.explanation) == (PASS, "no row matches the banned conditions")


# --------------------------------------------------------------------------------------------
# Both policies in one audit; the command line.
# --------------------------------------------------------------------------------------------


def test_both_policies_in_one_audit() -> None:
    report = audit(CAP, BANNED)
    assert [r.id for r in report.rulesets] == [CAP_ID, BANNED_ID]
    got = {b.battery_id: (b.status, [(v.ruleset, v.status) for v in b.verdicts])
           for b in report.batteries}
    assert got == {
        "POL-LITHIUM": (FAIL, [(CAP_ID, FAIL), (BANNED_ID, PASS)]),
        "POL-COBALT": (PASS, [(CAP_ID, PASS), (BANNED_ID, PASS)]),
        "POL-GRAPHITE": (FAIL, [(CAP_ID, PASS), (BANNED_ID, FAIL)]),
        "POL-GAP": (INSUFFICIENT, [(CAP_ID, INSUFFICIENT), (BANNED_ID, INSUFFICIENT)]),
    }
    s = report.summary
    assert (s.batteries, s.passed, s.failed, s.insufficient_data) == (4, 1, 2, 1)
    assert report.status is FAIL and report.findings == []
    # One audit gives each ruleset's verdicts exactly as auditing with it alone does.
    for rs, rid in ((CAP, CAP_ID), (BANNED, BANNED_ID)):
        for b in report.batteries:
            alone = verdict(audit(rs), b.battery_id, rid)
            assert verdict(report, b.battery_id, rid) == alone


def test_library_accepts_a_loaded_policy() -> None:
    loaded = compliance.load_ruleset(CAP)
    assert (loaded.id, loaded.version) == (CAP_ID, "1.0.0")
    report = compliance.audit(WORKBOOK, rulesets=[loaded])
    assert report.rulesets[0].sha256 == loaded.sha256
    assert result(report, "POL-LITHIUM", CAP_ID) == result(audit(CAP), "POL-LITHIUM", CAP_ID)


@pytest.mark.parametrize(("policy", "lines"), [
    ("concentration-cap.yaml", ["POL-LITHIUM FAIL under example-concentration-cap",
                                "POL-COBALT PASS under example-concentration-cap",
                                "POL-GAP INSUFFICIENT_DATA under example-concentration-cap",
                                "$1,025.00 must move to other countries"]),
    ("banned-origin.yaml", ["POL-GRAPHITE FAIL under example-banned-origin",
                            "minerals row 8 G-01: $1,250.00 (50 %) graphite, processed in CN: "
                            "not allowed",
                            "? minerals H10: processing_country is empty or invalid"]),
])
def test_cli_runs_each_example_policy(policy: str, lines: list[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the path as the README writes it
    result_ = CliRunner().invoke(cli, ["audit", str(WORKBOOK.relative_to(ROOT)), "--ruleset",
                                       f"rulesets/examples/{policy}"])
    assert result_.exit_code == 1, result_.output
    text = " ".join(result_.output.split())  # the report wraps long lines at 110 columns
    for line in lines:
        assert line in text, line


def test_cli_both_policies_json() -> None:
    result_ = CliRunner().invoke(cli, ["audit", str(WORKBOOK), "-r", CAP, "-r", BANNED,
                                       "--format", "json"])
    assert result_.exit_code == 1, result_.output
    report = AuditReport.model_validate_json(result_.output)
    assert [b.status for b in report.batteries] == [FAIL, PASS, FAIL, INSUFFICIENT]


# --------------------------------------------------------------------------------------------
# Both sides of each policy's start date.
# --------------------------------------------------------------------------------------------


def cn_graphite(days: list[dt.date]) -> Bom:
    """Graphite extracted in MZ and processed in CN only: breaks both policies once in force."""
    return Bom.from_records(
        batteries=[{"battery_id": d.isoformat(), "placed_in_service": d.isoformat()}
                   for d in days],
        minerals=[{"battery_id": d.isoformat(), "line_id": "G1", "mineral": "graphite",
                   "value_usd": "100", "extraction_country": "MZ", "processing_country": "CN"}
                  for d in days])


@pytest.mark.parametrize("path", [CAP, BANNED])
def test_policies_fail_from_their_first_date(path: str) -> None:
    rs = compliance.load_ruleset(path).ruleset
    (first,) = sorted({d for p in rs.parameters.values() for d in p.values})
    report = compliance.audit(cn_graphite([first]), rulesets=[path])
    assert report.batteries[0].status is FAIL


def test_concentration_cap_does_not_apply_before_its_first_date() -> None:
    report = compliance.audit(cn_graphite([dt.date(2024, 5, 22)]), rulesets=[CAP])
    (r,) = report.batteries[0].verdicts[0].requirements
    assert (r.status, r.explanation) == (NA, "no concentration cap in force on 2024-05-22")


def test_banned_origin_does_not_apply_before_its_first_date() -> None:
    report = compliance.audit(cn_graphite([dt.date(2024, 12, 31)]), rulesets=[BANNED])
    assert report.batteries[0].status is NA

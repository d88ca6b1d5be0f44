"""eu-2023-1542-recycled-content: batteries worked out by hand, on both sides of each date.

The fixture is ``fixtures/regimes/eu-recycled-content.xlsx`` (written by
``fixtures/regimes/generate.py``). A material's share is its recovered mass * 100 / its total
mass, shown cut to 4 places; the mass still missing is minimum % x total - recovered, rounded up
to the gram; ``actual_pct`` / ``required_pct`` / ``shortfall_pct`` are those of the material
furthest below its minimum (in points), with ``shortfall_pct`` rounded up to 4 places.

Minimums (cobalt / lead / lithium / nickel): 0 / 0 / 0 / 0 from 2028-08-18 (documentation only,
start marked unconfirmed), 16 / 85 / 6 / 6 from 2031-08-18, 26 / 85 / 12 / 15 from 2036-08-18.
Covered: EV, SLI and industrial batteries above 2 kWh; LMT batteries from 2033-08-18.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal as D
from pathlib import Path

from click.testing import CliRunner

import compliance
from compliance.cli import main as cli
from compliance.reader.bom import Bom
from compliance.report.model import AuditReport, RequirementResult, Status, Verdict
from compliance.rules.model import Status as ValueStatus

ROOT = Path(__file__).resolve().parents[1]
EU = ROOT / "fixtures" / "regimes" / "eu-recycled-content.xlsx"
RULESET = "eu-2023-1542-recycled-content"

PASS, FAIL, PROVISIONAL = Status.PASS, Status.FAIL, Status.PROVISIONAL
INSUFFICIENT, NA = Status.INSUFFICIENT_DATA, Status.NOT_APPLICABLE


@functools.cache
def audit(strict: bool = False) -> AuditReport:
    return compliance.audit(EU, rulesets=[RULESET], strict=strict)


def verdict(report: AuditReport, battery_id: str) -> Verdict:
    (battery,) = [b for b in report.batteries if b.battery_id == battery_id]
    (only,) = battery.verdicts
    return only


def rc(report: AuditReport, battery_id: str) -> RequirementResult:
    (only,) = verdict(report, battery_id).requirements
    return only


# --------------------------------------------------------------------------------------------
# The 82 kWh NMC 811 pack on both sides of 2031-08-18.
#   cobalt  0.80 of 6.40 kg  = 12.5 %
#   lithium 0.38 of 7.10 kg  = 5.352112..% -> 5.3521
#   nickel  2.90 of 39.00 kg = 7.435897..% -> 7.4358
#   (graphite and manganese rows are not Art. 8 materials and are not counted)
# 2031-08-17: documentation phase, every minimum 0 %: passes, provisionally (start unconfirmed);
#   the material with the least margin is lithium (5.3521 - 0).
# 2031-08-18: cobalt 12.5 < 16: 16 % x 6.40 = 1.024 - 0.80 = 0.224 kg missing (margin -3.5);
#   lithium 5.3521 < 6: 6 % x 7.10 = 0.426 - 0.38 = 0.046 kg missing (margin -0.6479);
#   nickel 7.4358 >= 6. Worst: cobalt, short by 16 - 12.5 = 3.5 points, 0.224 kg.
# --------------------------------------------------------------------------------------------

EV_2031_FAIL = (
    "cobalt: 12.5 % of 6.4 kg recovered from waste; 16 % required; 0.224 kg more recovered "
    "cobalt needed; lithium: 5.3521 % of 7.1 kg recovered from waste; 6 % required; 0.046 kg "
    "more recovered lithium needed; nickel: 7.4358 % of 39 kg recovered from waste; 6 % required")


def test_documentation_phase_2031_08_17_is_a_provisional_pass() -> None:
    report = audit()
    v, r = verdict(report, "EV-310817"), rc(report, "EV-310817")
    assert (v.status, v.provisional_outcome) == (PROVISIONAL, PASS)
    assert (r.status, r.provisional_outcome) == (PROVISIONAL, PASS)
    assert (r.actual_pct, r.required_pct, r.shortfall_kg) == (D("5.3521"), D("0"), None)
    assert r.explanation == (
        "cobalt: 12.5 % of 6.4 kg recovered from waste; 0 % required; lithium: 5.3521 % of 7.1 kg "
        "recovered from waste; 0 % required; nickel: 7.4358 % of 39 kg recovered from waste; "
        "0 % required")
    (use,) = r.parameters
    assert (use.name, use.in_force_from, use.status) == (
        "recycled_content_minimums", dt.date(2028, 8, 18), "unconfirmed")


def test_documentation_phase_under_strict_is_insufficient_data() -> None:
    r = rc(audit(strict=True), "EV-310817")
    assert r.status is INSUFFICIENT
    (gap,) = r.gaps
    assert gap.message == ("ruleset value recycled_content_minimums (from 2028-08-18) is "
                           "unconfirmed; --strict refuses verdicts that depend on it")
    assert rc(audit(strict=True), "EV-310818").status is FAIL  # secondary values: unchanged


def test_minimums_from_2031_08_18_fail_on_cobalt_and_lithium() -> None:
    report = audit()
    v, r = verdict(report, "EV-310818"), rc(report, "EV-310818")
    assert (v.status, v.summary) == (FAIL, "fails recycled_content")
    assert r.status is FAIL and r.provisional is False
    assert (r.actual_pct, r.required_pct, r.shortfall_pct, r.shortfall_kg) == (
        D("12.5"), D("16"), D("3.5"), D("0.224"))
    assert r.shortfall_usd is None
    assert r.explanation == EV_2031_FAIL
    assert [(x.item_id, x.share_pct, x.mass_kg) for x in r.lines] == [
        ("cobalt", D("12.5"), D("6.4")), ("lithium", D("5.3521"), D("7.1"))]
    assert r.lines[1].reason == ("lithium: 5.3521 % of 7.1 kg recovered from waste; 6 % "
                                 "required; 0.046 kg more recovered lithium needed")


# --------------------------------------------------------------------------------------------
# The 75 kWh NMC 622 pack on both sides of 2036-08-18.
#   cobalt 1.10 of 5.00 kg = 22 %; lithium 0.65 of 6.50 = 10 %; nickel 3.60 of 29.70 =
#   12.121212..% -> 12.1212
# 2036-08-17 (16/85/6/6): all pass; least margin lithium 10 - 6 = 4.
# 2036-08-18 (26/85/12/15): cobalt 26 % x 5 = 1.30 - 1.10 = 0.2 kg (margin -4); lithium
#   12 % x 6.5 = 0.78 - 0.65 = 0.13 kg (-2); nickel 15 % x 29.7 = 4.455 - 3.6 = 0.855 kg
#   (-2.8788). Worst: cobalt, 4 points, 0.2 kg.
# --------------------------------------------------------------------------------------------


def test_2036_08_17_passes_the_2031_minimums() -> None:
    report = audit()
    r = rc(report, "EV-360817")
    assert (verdict(report, "EV-360817").status, r.status) == (PASS, PASS)
    assert (r.actual_pct, r.required_pct, r.lines) == (D("10"), D("6"), [])


def test_2036_08_18_fails_the_later_minimums_on_three_materials() -> None:
    r = rc(audit(), "EV-360818")
    assert r.status is FAIL
    assert (r.actual_pct, r.required_pct, r.shortfall_pct, r.shortfall_kg) == (
        D("22"), D("26"), D("4"), D("0.2"))
    assert [(x.item_id, x.share_pct) for x in r.lines] == [
        ("cobalt", D("22")), ("lithium", D("10")), ("nickel", D("12.1212"))]
    assert r.lines[2].reason == ("nickel: 12.1212 % of 29.7 kg recovered from waste; 15 % "
                                 "required; 0.855 kg more recovered nickel needed")


# --------------------------------------------------------------------------------------------
# The 0.5 kWh e-bike (LMT) pack on both sides of 2033-08-18.
#   cobalt 0.031 of 0.180 kg = 17.2222 % >= 16; nickel 0.040 of 0.610 = 6.5573 % >= 6;
#   lithium 0.0055 of 0.0955 = 5.759162..% < 6: 6 % x 0.0955 = 0.00573 - 0.0055 = 0.00023 kg,
#   rounded up to the gram: 0.001 kg; short by 6 - 5.759162.. = 0.240837.. -> 0.2409 points.
# --------------------------------------------------------------------------------------------


def test_lmt_is_not_covered_on_2033_08_17() -> None:
    report = audit()
    r = rc(report, "LMT-330817")
    assert (verdict(report, "LMT-330817").status, r.status) == (NA, NA)
    assert r.explanation == ("does not apply to this battery: LMT battery (not a category "
                             "Art. 8 covers)")


def test_lmt_is_covered_from_2033_08_18() -> None:
    r = rc(audit(), "LMT-330818")
    assert r.status is FAIL
    assert (r.actual_pct, r.required_pct, r.shortfall_pct, r.shortfall_kg) == (
        D("5.7591"), D("6"), D("0.2409"), D("0.001"))
    (line,) = r.lines
    assert line.reason == ("lithium: 5.7591 % of 0.0955 kg recovered from waste; 6 % required; "
                           "0.001 kg more recovered lithium needed")


# --------------------------------------------------------------------------------------------
# Industrial batteries: covered only above 2 kWh. SLI: lead 12.30 of 14.20 kg = 86.619718..%.
# --------------------------------------------------------------------------------------------


def test_industrial_1_5_kwh_is_not_covered_and_10_kwh_is() -> None:
    report = audit()
    small, large = rc(report, "IND-1K5"), rc(report, "IND-10K")
    assert small.status is NA
    assert small.explanation == (
        "does not apply to this battery: industrial battery (not a category covered at any "
        "capacity); not above 2 kWh (1.5 kWh)")
    # lithium 0.07 of 1.00 kg = 7 % >= 6 %; graphite is not counted.
    assert (large.status, large.actual_pct, large.required_pct) == (PASS, D("7"), D("6"))


def test_sli_lead_battery_passes_85_percent() -> None:
    r = rc(audit(), "SLI-70AH")
    assert (r.status, r.actual_pct, r.required_pct) == (PASS, D("86.6197"), D("85"))
    assert r.explanation == "lead: 86.6197 % of 14.2 kg recovered from waste; 85 % required"


def test_report_totals() -> None:
    s = audit().summary
    assert (s.batteries, s.passed, s.failed, s.provisional, s.not_applicable,
            s.insufficient_data, s.errors, s.warnings) == (9, 3, 3, 1, 2, 0, 0, 0)
    assert audit().status is FAIL


def test_cli_strict_exit_codes() -> None:
    for extra in ([], ["--strict"]):
        result = CliRunner().invoke(cli, ["audit", str(EU), "-r", RULESET, *extra])
        assert result.exit_code == 1, result.output
    assert "EV-310817 INSUFFICIENT_DATA under eu-2023-1542-recycled-content" in result.output


# --------------------------------------------------------------------------------------------
# In memory: the capacity floor, missing data, and both sides of every date in the YAML.
# --------------------------------------------------------------------------------------------

# cobalt 1.0 of 5.0 kg = 20 %; lithium 0.5 of 5.0 = 10 %; nickel 1.0 of 10.0 = 10 %;
# lead 9.0 of 10.0 = 90 %. Against 16/85/6/6: pass; against 26/85/12/15: cobalt, lithium and
# nickel fail.
RECIPE = (("cobalt", "4.0", False), ("cobalt", "1.0", True), ("lithium", "4.5", False),
          ("lithium", "0.5", True), ("nickel", "9.0", False), ("nickel", "1.0", True),
          ("lead", "1.0", False), ("lead", "9.0", True))
SHARES = {"cobalt": D(20), "lithium": D(10), "nickel": D(10), "lead": D(90)}
KINDS = {"EV": ("EV", "60"), "SLI": ("SLI", "0.8"), "LMT": ("LMT", "0.5"),
         "IND10": ("industrial", "10"), "IND2": ("industrial", "2"),
         "IND2001": ("industrial", "2.001"), "PORT": ("portable", "0.05")}


def eu_bom(batteries: list[tuple[str, str | None, str | None, str | None]],
           recipe: tuple[tuple[str, str | None, bool], ...] = RECIPE) -> Bom:
    """(battery_id, placed_on_market, category, capacity_kwh) for each battery."""
    return Bom.from_records(
        batteries=[{"battery_id": b, "placed_on_market": d, "category": c, "capacity_kwh": k}
                   for b, d, c, k in batteries],
        minerals=[{"battery_id": b, "line_id": f"R{i}", "mineral": m, "value_usd": "1",
                   "mass_kg": kg, "extraction_country": "AU", "processing_country": "DE",
                   "recycled": rec, "recycling_country": "DE" if rec else None}
                  for b, *_ in batteries for i, (m, kg, rec) in enumerate(recipe)])


def only(report: AuditReport, battery_id: str) -> RequirementResult:
    return rc(report, battery_id)


def test_industrial_capacity_floor_is_more_than_2_kwh() -> None:
    report = compliance.audit(eu_bom([(k, "2032-01-01", *KINDS[k]) for k in
                                      ("IND2", "IND2001", "PORT")]), rulesets=[RULESET])
    assert only(report, "IND2").status is NA
    assert only(report, "IND2").explanation.endswith("not above 2 kWh (2 kWh)")
    assert only(report, "IND2001").status is PASS
    assert only(report, "PORT").explanation == (
        "does not apply to this battery: portable battery (not a category Art. 8 covers)")


def test_empty_category_or_mass_is_a_data_gap() -> None:
    report = compliance.audit(eu_bom([("NOCAT", "2032-01-01", None, "10")]), rulesets=[RULESET])
    r = only(report, "NOCAT")
    assert r.status is INSUFFICIENT
    (gap,) = r.gaps
    assert (gap.column, gap.cell) == ("category", "H2")
    assert gap.message == ("category is empty or invalid; it decides whether recycled_content "
                           "applies")
    recipe = (("cobalt", None, False), *RECIPE[1:])
    report = compliance.audit(eu_bom([("NOMASS", "2032-01-01", "EV", "60")], recipe),
                              rulesets=[RULESET])
    r = only(report, "NOMASS")
    assert r.status is INSUFFICIENT
    (gap,) = r.gaps
    assert (gap.column, gap.item_id) == ("mass_kg", "R0")
    assert gap.message == ("mass_kg is empty or invalid; the recycled share of cobalt cannot be "
                           "computed")


def test_both_sides_of_every_date_in_the_yaml() -> None:
    loaded = compliance.load_ruleset(RULESET)
    rs = loaded.ruleset
    starts = sorted({d for p in rs.parameters.values() for d in p.values})
    assert [d.isoformat() for d in starts] == [
        "2028-08-18", "2031-08-18", "2033-08-18", "2036-08-18"]
    days = sorted({x for d in starts for x in (d - dt.timedelta(days=1), d)})
    rows = [(f"{k}@{d.isoformat()}", d.isoformat(), *KINDS[k]) for d in days for k in KINDS]
    report = compliance.audit(eu_bom(rows), rulesets=[loaded])

    def value(name: str, day: dt.date):  # type: ignore[no-untyped-def]
        found = rs.parameter(name).at(day)
        return None if found is None else found[1]

    seen = set()
    for bid, placed, category, kwh in rows:
        day = dt.date.fromisoformat(placed)
        r = only(report, bid)
        covered = value("covered_categories", day)
        uncapped = value("uncapped_categories", day)
        floor = value("industrial_capacity_floor_kwh", day)
        applies = (covered is not None and category in covered.value
                   and ((uncapped is not None and category in uncapped.value)
                        or (floor is not None and D(kwh) > D(str(floor.value)))))
        table = value("recycled_content_minimums", day)
        if not applies or table is None:
            assert r.status is NA, bid
            seen.add(NA)
            continue
        minimums = {m: D(str(v)) for m, v in table.value.items()}
        outcome = PASS if all(SHARES[m] >= minimums[m] for m in SHARES) else FAIL
        if table.status is ValueStatus.UNCONFIRMED:
            assert (r.status, r.provisional_outcome) == (PROVISIONAL, outcome), bid
        else:
            assert (r.status, r.provisional_outcome) == (outcome, None), bid
        worst = min(SHARES, key=lambda m: SHARES[m] - minimums[m])
        assert (r.actual_pct, r.required_pct) == (SHARES[worst], minimums[worst]), bid
        seen.add(r.status)
    assert seen == {NA, PASS, FAIL, PROVISIONAL}


def test_text_report_does_not_point_at_row_0() -> None:
    result = CliRunner().invoke(cli, ["audit", str(EU), "-r", RULESET])
    assert "row 0 " not in result.output

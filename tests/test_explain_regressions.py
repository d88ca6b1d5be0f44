"""Crashes of explain and what-if on the bundled fixture workbooks, now fixed.

Each test runs the command line on a real fixture, as a person would, and checks the exact
outcome: the exit code of the CLI's own error handling (never an exception escaping it) and a
key line of the output or field of the JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from compliance.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
EXAMPLES = ROOT / "rulesets" / "examples"
ALL_RULESETS = ("us-ira-30d", "us-45x-pfe", "us-48e-storage-pfe",
                "eu-2023-1542-recycled-content", str(EXAMPLES / "banned-origin.yaml"),
                str(EXAMPLES / "concentration-cap.yaml"))


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    # An exception escaping the command is a traceback for the user; SystemExit is the CLI's
    # own exit code.
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}")
    return result


def all_rulesets() -> list[str]:
    return [arg for rs in ALL_RULESETS for arg in ("-r", rs)]


def verdict(doc: dict[str, Any], battery: str, ruleset: str) -> dict[str, Any]:
    (found,) = [v for b in doc["batteries"] if b["battery_id"] == battery
                for v in b["verdicts"] if v["ruleset"] == ruleset]
    return found


def test_a_gap_whose_fill_makes_the_verdict_provisional_can_change_it() -> None:
    # Bug 1: the gap analysis ranked fill outcomes with a table that had no "provisional", so
    # explain raised KeyError: Status.PROVISIONAL. BESS-HARBOR has no sold_on date, so 45X
    # cannot decide; filled with a date from 2026 on, it passes on values marked unconfirmed.
    result = run("explain", str(FIXTURES / "regimes" / "storage-project-48e.xlsx"),
                 *all_rulesets(), "--format", "json")
    assert result.exit_code == 1, result.output
    v = verdict(json.loads(result.stdout), "BESS-HARBOR", "us-45x-pfe")
    assert v["status"] == "insufficient_data"
    (gap,) = v["gaps"]
    assert (gap["column"], gap["effect"], gap["best"], gap["worst"]) == (
        "sold_on", "can_change", "provisional", "not_applicable")
    assert [(o["fill"], o["status"], o["provisional_outcome"]) for o in gap["outcomes"]] == [
        ("2025-07-04", "not_applicable", None), ("2026-01-01", "provisional", "pass"),
        ("2027-01-01", "provisional", "pass"), ("2028-01-01", "provisional", "pass"),
        ("2029-01-01", "provisional", "pass"), ("2030-01-01", "provisional", "pass")]
    assert gap["note"] == ("can change the verdict: provisional (pass) if 2026-01-01, "
                           "2027-01-01, 2028-01-01, 2029-01-01, 2030-01-01; not_applicable if "
                           "2025-07-04")

    # The text form, on the 45X fixture under every ruleset: pass, provisional fail and fail
    # by date, kindest first.
    text = run("explain", str(FIXTURES / "regimes" / "component-45x.xlsx"), *all_rulesets())
    assert text.exit_code == 1, text.output
    assert ("can change the verdict: pass if 2026-01-01; not_applicable if 2025-07-04; "
            "provisional (fail) if 2027-01-01, 2028-01-01; fail if 2029-01-01, 2030-01-01"
            in text.stdout)

    # And the EU fixture as of 2031-08-18: the 45X taxpayer, filled with a flagged supplier.
    eu = run("explain", str(FIXTURES / "regimes" / "eu-recycled-content.xlsx"),
             *all_rulesets(), "--as-of", "2031-08-18", "--format", "json")
    assert eu.exit_code == 1, eu.output
    (gap,) = verdict(json.loads(eu.stdout), "EV-310818", "us-45x-pfe")["gaps"]
    assert (gap["column"], gap["effect"], gap["best"], gap["worst"]) == (
        "taxpayer", "can_change", "insufficient_data", "provisional")
    assert [o["provisional_outcome"] for o in gap["outcomes"]] == [None, "fail"]


def test_recycled_content_is_explained_by_the_rows_behind_each_material() -> None:
    # Bug 2: the recycled-content rule reports one line per material, with no row; explain
    # copied them into row lines and pydantic refused row=None. Now each row of a material
    # with a minimum is a line, with its mass and its share of that material's mass.
    result = run("explain", str(FIXTURES / "regimes" / "eu-recycled-content.xlsx"),
                 *all_rulesets(), "--format", "json")
    assert result.exit_code == 1, result.output
    v = verdict(json.loads(result.stdout), "EV-310818", "eu-2023-1542-recycled-content")
    (req,) = v["requirements"]
    assert (req["id"], req["status"], req["blocking_lines"]) == ("recycled_content", "fail", 2)
    assert [(x["row"], x["item_id"], x["mass_kg"], x["share_pct"], x["status"], x["blocking"],
             x["impact_rank"], x["cells"]) for x in req["lines"]] == [
        # lithium 0.38 of 7.1 kg recovered = 5.3521 %, 6 % required; cobalt 0.8 of 6.4 kg =
        # 12.5 %, 16 % required: their virgin rows block, the larger mass first. Nickel
        # (7.4358 %, 6 % required) passes, so its virgin row does not block.
        (12, "R-03", "6.720000", "94.6479", "does_not_qualify", True, 1, ["E12", "J12"]),
        (10, "R-01", "5.600000", "87.5000", "does_not_qualify", True, 2, ["E10", "J10"]),
        (14, "R-05", "36.100000", "92.5641", "does_not_qualify", False, None, ["E14", "J14"]),
        (15, "R-06", "2.900000", "7.4359", "qualifies", False, None, ["E15", "J15"]),
        (11, "R-02", "0.800000", "12.5000", "qualifies", False, None, ["E11", "J11"]),
        (13, "R-04", "0.380000", "5.3521", "qualifies", False, None, ["E13", "J13"])]
    assert req["lines"][0]["reason"] == ("not recovered from waste: 6.72 of 7.1 kg of lithium; "
                                         "lithium 5.3521 % recovered, 6 % required: below the "
                                         "minimum")

    text = run("explain", str(FIXTURES / "regimes" / "eu-recycled-content.xlsx"),
               "-r", "eu-2023-1542-recycled-content")
    assert text.exit_code == 1, text.output
    assert ("1   12  R-03  6.72 kg  94.6479 %  does not qualify  not recovered from waste: "
            "6.72 of 7.1 kg of lithium" in text.stdout)


def test_a_set_on_a_column_of_a_sheet_without_keys_is_a_usage_error_or_works() -> None:
    # Bug 3: "country" is also a column of value_added, a sheet without key columns, and
    # matching its rows read spec.key[-1]: IndexError. A component's country now works...
    demo = str(FIXTURES / "demo.xlsx")
    ok = run("whatif", demo, "--set", "DEMO-PASS/C-01.country=CN")
    assert ok.exit_code == 1, ok.output
    assert "  set DEMO-PASS/C-01.country (components row 2): US -> CN" in ok.stdout
    assert "  DEMO-PASS: pass -> fail, credit $7,500.00 -> $0.00" in ok.stdout

    # ... a country naming no row says which sheets it looked in ...
    none = run("whatif", demo, "--set", "NOPE.country=CN")
    assert none.exit_code == 2, none.output
    assert ("--set NOPE.country=CN: no row has component_id in components or item_id in costs "
            "'NOPE'" in none.output)

    # ... and a column only value_added has cannot name a row at all.
    keyless = run("whatif", demo, "--set", "DEMO-PASS/M-01.value_added_usd=3")
    assert keyless.exit_code == 2, keyless.output
    assert ("'value_added_usd' is a column of the value_added sheet, whose rows have no "
            "identifier a change could name" in keyless.output)


def test_a_set_on_a_list_column_changes_the_list() -> None:
    # Found by the sweep: restricted_lists is a list column; its new value (a list) was made
    # a literal column of several values and polars refused to cast it back to a list.
    result = run("whatif", str(FIXTURES / "acquired-2025-10-01.xlsx"), "--set",
                 "BECANCOUR.restricted_lists=UFLPA;Entity List", "--format", "json")
    assert result.exit_code == 1, result.output
    (change,) = json.loads(result.stdout)["scenarios"][0]["changes"]
    assert (change["sheet"], change["row"], change["before"], change["after"]) == (
        "entities", 2, "", "UFLPA;ENTITY LIST")

"""Terminal text of explain, plan, what-if and horizon: layout, colour and control characters."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import compliance
from compliance.explain import ChangeRequest, explain, horizon, plan, what_if
from compliance.explain.text import render_explanation, render_horizon, render_plan, render_whatif

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
HOSTILE = "B-1\x1b[2J\x07\x9b"


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    loaded = [compliance.load_ruleset("us-ira-30d")]
    bom = compliance.read_bom(FIXTURES / "demo.xlsx")
    report = compliance.audit(bom, loaded)
    cheaper = [ChangeRequest(f"DEMO-PASS/{line}", "value_usd", "1")
               for line in ("M-01", "M-02", "M-03")]
    return {"explain": explain(report, bom, loaded), "plan": plan(report, loaded, bom),
            "whatif": what_if(bom, loaded, {"cheaper": cheaper}),
            "horizon": horizon(bom, loaded)}


RENDER = {"explain": render_explanation, "plan": render_plan, "whatif": render_whatif,
          "horizon": render_horizon}


def test_explanation_table_and_detail_line(demo) -> None:
    lines = render_explanation(demo["explain"]).splitlines()
    start = lines.index("DEMO-MINERALS fail under us-ira-30d: fails critical_minerals; "
                        "credit $3,750.00")
    assert lines[start + 1: start + 10] == [
        "  in_effect pass: acquired on 2025-03-01, while the credit is available",
        # not wrapped at any width: a terminal wraps itself, a file stays greppable
        "  critical_minerals fail: 55.0139 % of $10,020.00 qualifies ($5,512.40); 60 % is "
        "required for batteries placed in service on 2025-03-01: short by 4.9861 points, "
        "$499.60 more qualifying value needed",
        "#  row  line      value      share  standing          why",
        "1   11  M-04  $2,107.60  21.0339 %  does not qualify  extracted in CD (not the US or "
        "an FTA country); processed in FI (not the US or an FTA country); not recycled",
        "2   12  M-05  $1,399.95  13.9716 %  does not qualify  extracted in ZA (not the US or "
        "an FTA country); processed in ZA (not the US or an FTA country); not recycled",
        "3   13  M-06  $1,000.05   9.9805 %  does not qualify  extracted in IN (not the US or "
        "an FTA country); processed in IN (not the US or an FTA country); not recycled",
        "     8  M-01  $2,412.40  24.0758 %  qualifies         extracted in AU (an FTA country)",
        "     9  M-02  $1,850.00  18.4631 %  qualifies         extracted in CA (an FTA country)",
        "    10  M-03  $1,250.00   12.475 %  qualifies         extracted in CA (an FTA country)",
    ]
    assert lines[0] == f"Explanation of {demo['explain'].input.name}"
    assert lines[1] == "" and lines[2].startswith("DEMO-PASS pass under us-ira-30d: ")


def test_long_line_lists_are_cut_with_a_count(demo) -> None:
    text = render_explanation(demo["explain"], max_lines=2)
    assert "    ... and 4 more lines (0 blocking in all; see --format json or csv)" in text
    assert "    ... and 4 more lines (3 blocking in all; see --format json or csv)" in text


def test_plan_table_and_detail_line(demo) -> None:
    lines = render_plan(demo["plan"]).splitlines()
    start = lines.index("DEMO-MINERALS fail under us-ira-30d")
    assert lines[start + 5:start + 8] == [
        "  critical_minerals, fewest lines: move $1,000.05 -> 64.9945 % (largest lines first, "
        "then swapped for smaller ones; the count is optimal)",
        "row  line      value     share  today",
        " 13  M-06  $1,000.05  9.9805 %  extracted in IN (not the US or an FTA country); "
        "processed in IN (not the US or an FTA country); not recycled",
    ]
    assert "  Suppliers to replace: GRAPHCO." in lines
    assert lines[lines.index("DEMO-PASS pass under us-ira-30d") + 1] == (
        "  DEMO-PASS passes: nothing to change.")


def test_whatif_table(demo) -> None:
    lines = render_whatif(demo["whatif"]).splitlines()
    assert lines[2:] == [
        "Scenario cheaper: overall fail -> fail",
        "  set DEMO-PASS/M-01.value_usd (minerals row 2): 2412.4 -> 1",
        "  set DEMO-PASS/M-02.value_usd (minerals row 3): 1850 -> 1",
        "  set DEMO-PASS/M-03.value_usd (minerals row 4): 1250 -> 1",
        "  DEMO-PASS: pass -> fail, credit $7,500.00 -> $3,750.00",
        "battery    requirement        status                       actual     short by"
        "       short $",
        "DEMO-PASS  critical_minerals  pass -> fail  76.0479 % -> 46.792 %  - -> 13.208"
        "  - -> $595.76",
    ]
    coloured = render_whatif(demo["whatif"], color=True)
    assert "\x1b[32mpass\x1b[0m -> \x1b[31mfail\x1b[0m  76.0479 %" in coloured


def test_horizon_dates_are_two_header_lines(demo) -> None:
    lines = render_horizon(demo["horizon"]).splitlines()
    assert lines[1:4] == [
        "               2021   2022   2023   2023   2023   2024   2024   2025   2025   2026"
        "   2027   2028   2029",
        "battery        11-15  08-16  03-28  04-18  12-04  01-01  05-06  01-01  10-01  01-01"
        "  01-01  01-01  01-01",
        "DEMO-PASS      n/a    n/a    n/a    pass   pass   pass   pass   pass   FAIL   FAIL"
        "   FAIL   FAIL   FAIL",
    ]
    assert lines[-1].startswith("  DEMO-FEOC: not_applicable on 2021-11-15; ")


@pytest.mark.parametrize("kind", sorted(RENDER))
def test_colour_adds_only_ansi_codes(demo, kind: str) -> None:
    plain = RENDER[kind](demo[kind])
    coloured = RENDER[kind](demo[kind], color=True)
    assert "\x1b" not in plain
    assert coloured != plain
    assert ANSI.sub("", coloured) == plain
    assert plain.endswith("\n") and not plain.endswith("\n\n")


def _assert_harmless(text: str) -> None:
    assert "B-1[2J" in text
    assert "\x1b[2J" not in text and "\x07" not in text and "\x9b" not in text


def test_control_characters_from_the_input_never_reach_the_terminal(demo) -> None:
    expl = demo["explain"]
    battery = expl.batteries[1]
    verdict = battery.verdicts[0]
    req = verdict.requirements[1]
    line = req.lines[0].model_copy(update={"item_id": HOSTILE, "reason": f"why {HOSTILE}"})
    req = req.model_copy(update={"lines": [line], "explanation": HOSTILE})
    verdict = verdict.model_copy(update={"requirements": [req], "summary": HOSTILE})
    battery = battery.model_copy(update={"battery_id": HOSTILE, "verdicts": [verdict]})
    for color in (False, True):
        text = render_explanation(expl.model_copy(update={"batteries": [battery]}), color=color)
        _assert_harmless(text)
        assert "B-1[2J" in text.splitlines()[2]

    p = demo["plan"]
    b = p.batteries[1].model_copy(update={"battery_id": HOSTILE,
                                          "words": [HOSTILE, f"- {HOSTILE}"]})
    for color in (False, True):
        _assert_harmless(render_plan(p.model_copy(update={"batteries": [b]}), color=color))

    w = demo["whatif"]
    scenario = w.scenarios[0].model_copy(update={"name": HOSTILE})
    for color in (False, True):
        _assert_harmless(render_whatif(w.model_copy(update={"scenarios": [scenario]}),
                                       color=color))

    h = demo["horizon"]
    hb = h.batteries[0].model_copy(update={"battery_id": HOSTILE, "summary": HOSTILE})
    for color in (False, True):
        _assert_harmless(render_horizon(h.model_copy(update={"batteries": [hb]}), color=color))

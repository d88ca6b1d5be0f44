"""The plain-text audit report: layout, colour and control characters (no layout engine)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import compliance
from compliance.report.terminal import Painter, clean, table
from compliance.report.text import render_audit, render_validation

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def demo() -> compliance.AuditReport:
    return compliance.audit(FIXTURES / "demo.xlsx")


def test_battery_block_is_an_aligned_table_and_unwrapped_detail(demo) -> None:
    lines = render_audit(demo).splitlines()
    start = lines.index("DEMO-MINERALS FAIL under us-ira-30d, credit $3,750.00  "
                        "(placed_in_service 2025-03-01, acquired 2025-03-01)")
    assert lines[start + 1: start + 10] == [
        "requirement         status     actual  required  short by  short $",
        "in_effect           pass            -         -         -        -",
        "critical_minerals   fail    55.0139 %      60 %  4.9861 %  $499.60",
        "battery_components  pass    66.0803 %      60 %         -        -",
        "feoc_components     pass          0 %    <= 0 %         -        -",
        "feoc_minerals       pass          0 %    <= 0 %         -        -",
        "  critical_minerals: 55.0139 % of $10,020.00 qualifies ($5,512.40); 60 % is required "
        "for batteries placed in service on 2025-03-01: short by 4.9861 points, $499.60 more "
        "qualifying value needed",
        "    - minerals row 11 M-04: $2,107.60 (21.0339 %) extracted in CD (not the US or an FTA "
        "country); processed in FI (not the US or an FTA country); not recycled",
        "    - minerals row 12 M-05: $1,399.95 (13.9716 %) extracted in ZA (not the US or an FTA "
        "country); processed in ZA (not the US or an FTA country); not recycled",
    ]
    assert "3 batteries: 1 pass, 2 fail, 0 insufficient data" in lines[2]


def test_colour_changes_no_column(demo) -> None:
    plain = render_audit(demo)
    coloured = render_audit(demo, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[31mfail\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == plain


def test_control_characters_from_the_input_never_reach_the_terminal(demo) -> None:
    hostile = "B-1\x1b[2J\x07\x9b"
    battery = demo.batteries[0].model_copy(update={"battery_id": hostile})
    report = demo.model_copy(update={"batteries": [battery]})
    text = render_audit(report, color=True)
    assert "B-1[2J" in text
    assert "\x1b[2J" not in text and "\x07" not in text and "\x9b" not in text


def test_long_lists_are_cut_with_a_count(demo) -> None:
    from compliance.report.text import MAX_LINES

    battery = next(b for b in demo.batteries if b.battery_id == "DEMO-MINERALS")
    verdict = battery.verdicts[0]
    req = next(r for r in verdict.requirements if r.id == "critical_minerals")
    many = req.model_copy(update={"lines": req.lines * 6})  # 18 lines
    verdict = verdict.model_copy(update={"requirements": [many]})
    report = demo.model_copy(update={"batteries": [battery.model_copy(
        update={"verdicts": [verdict]})], "findings": []})
    lines = render_audit(report).splitlines()
    assert sum(line.startswith("    - minerals row") for line in lines) == MAX_LINES
    assert lines[-2:] == [f"    ... and {18 - MAX_LINES} more rows (see --format json)", ""]


def test_validation_lists_findings_by_sheet() -> None:
    text = render_validation(compliance.validate(FIXTURES / "messy.xlsx"))
    assert text.splitlines()[0].endswith(
        "messy.xlsx has errors: 9 errors, 1 warnings, 3 batteries")
    assert ("    error   unknown-battery          A8      battery_id 'MS-09' is not in the "
            "batteries sheet; the row is left out") in text.splitlines()


def test_table_pads_styled_cells_outside_the_colour() -> None:
    paint = Painter(True)
    lines = table(paint, ("name", "n"), [("a", ("12", "red")), (("bbb", "bold"), "3")],
                  right=("n",))
    assert [ANSI.sub("", line) for line in lines] == ["name   n", "a     12", "bbb    3"]
    assert lines[1] == "a     \x1b[31m12\x1b[0m"
    assert lines[2] == "\x1b[1mbbb\x1b[0m    3"


def test_clean_keeps_tabs_and_newlines_only() -> None:
    assert clean("a\tb\nc\x00d\x1be\x7ff\x85g") == "a\tb\ncdefg"
    assert clean(12) == "12"

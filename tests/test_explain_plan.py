"""`compliance plan`: which lines to re-source and which suppliers to replace, by hand."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import openpyxl
from click.testing import CliRunner

import compliance
from compliance.cli import main
from compliance.explain import plan
from compliance.reader.bom import Bom

CLEAN = {"incorporated_in": "US", "headquartered_in": "US", "covered_government_voting_pct": 0,
         "covered_government_board_pct": 0, "covered_government_equity_pct": 0,
         "effective_control": False, "restricted_lists": ""}
ENTITIES = [{"entity_id": e, "name": e, **CLEAN} for e in ("MINE", "REF", "CELL")] + [
    {"entity_id": "GRAPHCO", "name": "Graphite Co", **CLEAN, "incorporated_in": "CN",
     "headquartered_in": "CN"}]


def mineral(line: str, value: str, ext: str, proc: str, proc_e: str = "REF",
            battery: str = "PACK-A") -> dict[str, object]:
    return {"battery_id": battery, "line_id": line, "mineral": "lithium", "value_usd": value,
            "extraction_country": ext, "extraction_entity": "MINE",
            "processing_country": proc, "processing_entity": proc_e}


# Placed in service 2025-03-01: 60 % of critical-mineral value must qualify.
# Qualifying: M-01 $550 (extracted in AU). Not qualifying: M-02 $200, M-03 $100 (graphite
# processed in CN by GRAPHCO, a foreign entity of concern), M-04 $70, M-05 $30, M-06 $25,
# M-07 $25. Total $1,000; 55 % qualifies; needed 0.6 x 1000 - 550 = $50.
MINERALS = [mineral("M-01", "550", "AU", "US"), mineral("M-02", "200", "ID", "ID"),
            mineral("M-03", "100", "MZ", "CN", proc_e="GRAPHCO"),
            mineral("M-04", "70", "CD", "FI"), mineral("M-05", "30", "ZA", "ZA"),
            mineral("M-06", "25", "ZA", "ZA"), mineral("M-07", "25", "BR", "BR")]
COMPONENTS = [{"battery_id": "PACK-A", "component_id": "C-1", "component_type": "battery cell",
               "country": "US", "manufacturer": "CELL", "incremental_value_usd": "1000"}]


def failing_bom(acquired: str | None = None) -> Bom:
    battery: dict[str, object] = {"battery_id": "PACK-A", "placed_in_service": "2025-03-01"}
    if acquired:
        battery["acquired_on"] = acquired
    return Bom.from_records(batteries=[battery], components=COMPONENTS, minerals=MINERALS,
                            entities=ENTITIES)


def rulesets() -> list:
    return [compliance.load_ruleset("us-ira-30d")]


def test_share_plan_fewest_lines_and_least_value() -> None:
    bom = failing_bom()
    loaded = rulesets()
    report = compliance.audit(bom, loaded)
    (battery,) = plan(report, loaded, bom).batteries
    assert battery.status == "fail"
    (share,) = battery.shares
    assert share.requirement == "critical_minerals"
    assert share.needed_usd == D(50)
    assert share.reachable
    # Fewest: one line; the smallest single line worth >= $50 is M-04 ($70):
    # (550 + 70) / 1000 = 62 %.
    assert [x.item_id for x in share.fewest_lines.lines] == ["M-04"]
    assert share.fewest_lines.moved_usd == D(70)
    assert share.fewest_lines.resulting_pct == D("62")
    # Least value: M-06 + M-07 = $50, exactly what is needed: (550 + 50) / 1000 = 60 %.
    assert sorted(x.item_id for x in share.least_value.lines) == ["M-06", "M-07"]
    assert share.least_value.moved_usd == D(50)
    assert share.least_value.resulting_pct == D("60")
    assert share.least_value.exact
    assert share.qualifies_when == ("extracted in the US or an FTA country, or processed in the "
                                    "US or an FTA country, or recycled in North America")
    # M-03 must leave GRAPHCO for feoc_minerals anyway; re-sourced to a qualifying origin its
    # $100 covers the $50 alone: (550 + 100) / 1000 = 65 %.
    both = share.with_required_changes
    assert [x.item_id for x in both.lines] == ["M-03"]
    assert (both.moved_usd, both.resulting_pct) == (D(100), D("65"))
    words = " ".join(share.words)
    assert "Fewest changes: re-source 1 line - M-04 ($70.00)" in words
    assert "Least value moved: re-source 2 lines" in words
    assert "M-03 must change anyway for feoc_minerals" in words
    assert "nothing else needs to move" in words


def test_the_least_value_plan_really_passes() -> None:
    # Re-source the two $25 lines to Australia: 600 of 1000 = 60 % >= 60 %.
    from compliance.explain import parse_set, what_if

    bom = failing_bom()
    result = what_if(bom, rulesets(), {"least": [
        parse_set("M-06.extraction_country=AU"), parse_set("M-07.extraction_country=AU")]})
    (delta,) = [d for d in result.scenarios[0].requirements
                if d.requirement == "critical_minerals"]
    assert (delta.status_before, delta.status_after) == ("fail", "pass")
    assert (delta.actual_pct_before, delta.actual_pct_after) == (D("55"), D("60"))


def test_feoc_plan_names_the_line_the_activity_and_the_supplier() -> None:
    bom = failing_bom()
    loaded = rulesets()
    (battery,) = plan(compliance.audit(bom, loaded), loaded, bom).batteries
    (feoc,) = battery.prohibitions
    assert feoc.requirement == "feoc_minerals"
    assert feoc.entities == ["GRAPHCO"]
    (line,) = feoc.lines
    assert (line.item_id, line.row, line.value_usd) == ("M-03", 4, D("100.00"))
    (who,) = line.entities
    assert (who.entity_id, who.activity, who.country) == ("GRAPHCO", "processing", "CN")
    assert who.replace_entity and who.move_activity
    assert any("To fix: replace GRAPHCO as the processing supplier; move the processing out "
               "of CN." in w for w in feoc.words)


def test_plan_from_the_report_alone_has_the_same_lines() -> None:
    bom = failing_bom()
    report = compliance.audit(bom, rulesets())
    (battery,) = plan(report).batteries
    (share,) = battery.shares
    assert [x.item_id for x in share.fewest_lines.lines] == ["M-04"]
    assert share.qualifies_when is None
    assert battery.prohibitions[0].lines[0].entities == []


def test_a_credit_that_ended_cannot_be_fixed_by_sourcing() -> None:
    bom = failing_bom(acquired="2025-10-15")
    loaded = rulesets()
    (battery,) = plan(compliance.audit(bom, loaded), loaded, bom).batteries
    (step,) = battery.other
    assert step.requirement == "in_effect"
    assert "no change of sourcing can fix it" in step.words
    assert battery.words[1].startswith("No sourcing change makes it pass")


def test_unreachable_threshold_says_so() -> None:
    # 2025: 60 % of $1,000 needed. Qualifying $100 (US); not qualifying $450 (ID); $450 whose
    # processing country is empty (extracted in ID): 100 + 450 = 550 < 600 even if the unknown
    # lines qualified, so the verdict is fail. Re-sourcing all $450 of non-qualifying lines
    # gives 550 < 600: the plan cannot reach the threshold without the unknown lines.
    minerals = [mineral("Q", "100", "US", "US"), mineral("N", "450", "ID", "ID"),
                mineral("U", "450", "ID", None)]
    bom = Bom.from_records(batteries=[{"battery_id": "PACK-A",
                                       "placed_in_service": "2025-03-01"}],
                           components=COMPONENTS, minerals=minerals, entities=ENTITIES)
    loaded = rulesets()
    (battery,) = plan(compliance.audit(bom, loaded), loaded, bom).batteries
    (share,) = battery.shares
    assert share.needed_usd == D(500)
    assert not share.reachable
    assert share.fewest_lines is None and share.least_value is None
    assert any("not enough on its own" in w for w in share.words)


def write_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    rows = {
        "batteries": [["battery_id", "placed_in_service"], ["PACK-A", "2025-03-01"]],
        "components": [list(COMPONENTS[0]), list(COMPONENTS[0].values())],
        "minerals": [list(MINERALS[0]), *[list(m.values()) for m in MINERALS]],
        "entities": [list(ENTITIES[0]), *[list(e.values()) for e in ENTITIES]],
    }
    for name, data in rows.items():
        ws = wb.create_sheet(name)
        for row in data:
            ws.append(row)
    wb.save(path)
    return path


def test_plan_command_text_and_csv(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "bom.xlsx")
    runner = CliRunner()
    result = runner.invoke(main, ["plan", str(path)])
    assert result.exit_code == 1, result.output
    assert "Least value moved: re-source 2 lines" in " ".join(result.stdout.split())
    result = runner.invoke(main, ["plan", str(path), "--format", "csv"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("battery_id,ruleset,battery_status,requirement,action")
    assert any(",least_value,minerals,7,M-06,25.00," in line for line in lines)
    assert any("replace supplier,processing,minerals,4,M-03,100.00,GRAPHCO" in line
               for line in lines)


def test_a_provisional_fail_gets_the_plan_of_a_fail() -> None:
    """MOD-DEBT fails the 45X taxpayer test on values marked unconfirmed (the 15 % debt test):
    its verdict is provisional, and the plan still says what to change."""
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "regimes" / "component-45x.xlsx"
    loaded = [compliance.load_ruleset("us-45x-pfe")]
    bom = compliance.read_bom(fixture)
    report = compliance.audit(bom, loaded)
    plans = {b.battery_id: b for b in plan(report, loaded, bom).batteries}
    debt = plans["MOD-DEBT"]
    assert debt.status.value == "provisional"
    assert [(p.requirement, p.status.value) for p in debt.prohibitions] == [
        ("taxpayer_not_prohibited", "provisional")]
    assert [e.entity_id for line in debt.prohibitions[0].lines for e in line.entities
            if e.replace_entity] == ["TNMODCO"]
    assert debt.words[0] == ("MOD-DEBT fails provisionally (on ruleset values marked "
                             "unconfirmed).")
    assert debt.words[-1] == "Suppliers to replace: TNMODCO."
    assert plans["MOD-0102"].words == [
        "MOD-0102 passes provisionally (on ruleset values marked unconfirmed): nothing to "
        "change."]
    result = CliRunner().invoke(main, ["plan", str(fixture), "-r", "us-45x-pfe"])
    assert "  MOD-DEBT fails provisionally (on ruleset values marked unconfirmed).\n" \
        in result.output

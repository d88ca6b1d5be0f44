"""`compliance explain`: every line's contribution, blockers by impact, and data-gap effects."""

from __future__ import annotations

from decimal import Decimal as D

import compliance
from compliance.explain import explain
from compliance.reader.bom import Bom

CLEAN = {"incorporated_in": "US", "headquartered_in": "US", "covered_government_voting_pct": 0,
         "covered_government_board_pct": 0, "covered_government_equity_pct": 0,
         "effective_control": False, "restricted_lists": ""}


def entity(eid: str, **over: object) -> dict[str, object]:
    return {"entity_id": eid, "name": eid, **CLEAN, **over}


ENTITIES = [entity("MINE"), entity("REF"), entity("CELL")]


def mineral(line: str, value: str | None, ext: str | None, proc: str | None, *,
            proc_e: str | None = "REF", **over: object) -> dict[str, object]:
    return {"battery_id": "B1", "line_id": line, "mineral": "nickel", "value_usd": value,
            "extraction_country": ext, "extraction_entity": "MINE",
            "processing_country": proc, "processing_entity": proc_e, **over}


def bom(minerals: list[dict[str, object]], entities: list[dict[str, object]] | None = None
        ) -> Bom:
    return Bom.from_records(
        batteries=[{"battery_id": "B1", "placed_in_service": "2025-03-01"}],
        components=[{"battery_id": "B1", "component_id": "C1", "component_type": "battery cell",
                     "country": "US", "manufacturer": "CELL", "incremental_value_usd": "100"}],
        minerals=minerals, entities=entities or ENTITIES)


def verdict_of(b: Bom, **kw: object):  # type: ignore[no-untyped-def]
    loaded = [compliance.load_ruleset("us-ira-30d")]
    report = compliance.audit(b, loaded)
    return explain(report, b, loaded, **kw).batteries[0].verdicts[0]


def requirement(v, rid: str):  # type: ignore[no-untyped-def]
    return next(r for r in v.requirements if r.id == rid)


def test_every_line_with_value_share_standing_and_reason() -> None:
    # Total 500 + 200 + 150 + 100 + 600 = 1,550. Qualifying: L1 (extracted in AU), L2
    # (processed in the US), L3 (recycled in Canada) = 850: 850 / 1550 = 54.83870... %, cut
    # to 54.8387. 60 % needed: 0.6 x 1550 - 850 = $80; 60 - 54.8387... = 5.16129... points,
    # rounded up to 5.1613. Blocking: L5 ($600, 600/1550 = 38.7097 %) then L4 ($100, 6.4516 %).
    v = verdict_of(bom([
        mineral("L1", "500", "AU", "ID"), mineral("L2", "200", "ID", "US"),
        mineral("L3", "150", "ID", "ID", recycled=True, recycling_country="CA",
                recycling_entity="REF"),
        mineral("L4", "100", "CD", "CD"), mineral("L5", "600", "ID", "ID")]))
    r = requirement(v, "critical_minerals")
    assert r.status == "fail"
    assert (r.actual_pct, r.required_pct) == (D("54.8387"), D("60"))
    assert (r.shortfall_pct, r.shortfall_usd) == (D("5.1613"), D("80.00"))
    assert r.blocking_lines == 2
    got = [(x.item_id, x.value_usd, x.share_pct, x.status, x.blocking, x.impact_rank)
           for x in r.lines]
    assert got == [
        ("L5", D("600.00"), D("38.7097"), "does_not_qualify", True, 1),
        ("L4", D("100.00"), D("6.4516"), "does_not_qualify", True, 2),
        ("L1", D("500.00"), D("32.2581"), "qualifies", False, None),
        ("L2", D("200.00"), D("12.9032"), "qualifies", False, None),
        ("L3", D("150.00"), D("9.6774"), "qualifies", False, None)]
    reasons = {x.item_id: x.reason for x in r.lines}
    assert reasons["L1"] == "extracted in AU (an FTA country)"
    assert reasons["L2"] == "processed in US (the US)"
    assert reasons["L3"] == "recycled in CA (North America)"
    assert reasons["L4"] == ("extracted in CD (not the US or an FTA country); processed in CD "
                             "(not the US or an FTA country); not recycled")
    feoc = requirement(v, "feoc_minerals")
    assert {x.status for x in feoc.lines} == {"clear"}
    assert next(x for x in feoc.lines if x.item_id == "L1").reason == (
        "extracted in AU by MINE; processed in ID by REF: cleared")
    assert v.gaps == []


def test_a_gap_that_can_change_the_verdict_either_way() -> None:
    # Known qualifying 500 of 1,000 = 50 %; L3 ($300, extracted in ID) has no processing
    # country. Filled with a US, Canadian, Australian or Japanese country it qualifies: 80 %,
    # pass. Filled with a country in no list (BR): 50 %, fail. Filled with CN: the share
    # fails and the processing is in a covered nation, fail.
    v = verdict_of(bom([mineral("L1", "500", "AU", "AU"), mineral("L2", "200", "ID", "ID"),
                        mineral("L3", "300", "ID", None)]))
    assert v.status == "insufficient_data"
    (gap,) = v.gaps
    assert (gap.cell, gap.item_id, gap.column) == ("H4", "L3", "processing_country")
    assert gap.requirements == ["critical_minerals", "feoc_minerals"]
    assert (gap.effect, gap.best, gap.worst) == ("can_change", "pass", "fail")
    outcome = {o.fill.split()[0]: o.status.value for o in gap.outcomes}
    assert outcome == {"AU": "pass", "BR": "fail", "CA": "pass", "CN": "fail", "JP": "pass",
                       "US": "pass"}
    line = next(x for x in requirement(v, "critical_minerals").lines if x.item_id == "L3")
    assert (line.status, line.blocking) == ("unknown", True)


def test_a_gap_on_a_decided_verdict_is_harmless() -> None:
    # Known qualifying 100 of 1,000; even if L3 ($100) qualified, 20 % < 60 %: fail either way.
    v = verdict_of(bom([mineral("L1", "100", "AU", "AU"), mineral("L2", "800", "ID", "ID"),
                        mineral("L3", "100", "ID", None)]))
    assert v.status == "fail"
    (gap,) = v.gaps
    assert (gap.effect, gap.best, gap.worst) == ("harmless", "fail", "fail")
    assert gap.note.startswith("harmless")


def test_gaps_that_matter_only_together() -> None:
    # Two values missing: filling one (0 or $1,000,000,000) leaves the other, so the total
    # stays unknown and the verdict insufficient_data either way.
    v = verdict_of(bom([mineral("L1", "500", "AU", "AU"), mineral("L2", None, "ID", "ID"),
                        mineral("L3", None, "AU", "AU")]))
    assert [(g.cell, g.effect) for g in v.gaps] == [("D3", "needs_other_gaps"),
                                                    ("D4", "needs_other_gaps")]
    assert {o.fill for o in v.gaps[0].outcomes} == {"0", "1,000,000,000"}


def test_supplier_gaps_are_filled_with_a_cleared_and_a_flagged_supplier() -> None:
    # 100 % qualifies; the FEOC test alone is undecided: L1's processor is not named, L2's is
    # not in the entities sheet, L3's has an empty government-share cell.
    entities = [*ENTITIES, entity("HALF", covered_government_voting_pct=None)]
    v = verdict_of(bom([mineral("L1", "100", "US", "US", proc_e=None),
                        mineral("L2", "100", "US", "US", proc_e="GHOST"),
                        mineral("L3", "100", "US", "US", proc_e="HALF")], entities))
    assert v.status == "insufficient_data"
    assert [(g.item_id, g.effect, g.best, g.worst) for g in v.gaps] == [
        ("L1", "can_change", "insufficient_data", "fail"),
        ("L2", "can_change", "insufficient_data", "fail"),
        ("L3", "can_change", "insufficient_data", "fail")]
    fills = [[o.fill for o in g.outcomes] for g in v.gaps]
    assert fills == [
        ["a supplier that clears every check", "a foreign entity of concern"],
        ["GHOST added as a supplier that clears every check",
         "GHOST added as a foreign entity of concern"],
        ["HALF's covered_government_voting_pct filled to clear it",
         "HALF's covered_government_voting_pct filled to flag it"]]


def test_one_supplier_gap_alone_decides() -> None:
    v = verdict_of(bom([mineral("L1", "100", "US", "US", proc_e="GHOST")]))
    (gap,) = v.gaps
    assert (gap.effect, gap.best, gap.worst) == ("can_change", "pass", "fail")
    assert gap.note == ("can change the verdict: pass if GHOST added as a supplier that clears "
                        "every check; fail if GHOST added as a foreign entity of concern")


def test_unreadable_rows_and_the_gap_limit() -> None:
    # A row without a line_id is left out by the reader: nothing to fill, not assessed.
    # With --max-gaps 1 only the first fillable gap (L2's value, row 3) is filled.
    v = verdict_of(bom([mineral("L1", "500", "AU", "AU"), mineral("L2", None, "ID", "ID"),
                        mineral("L3", None, "AU", "AU"), mineral(None, "5", "AU", "AU")]),
                   max_gaps=1)
    effects = [(g.row, g.column, g.effect) for g in v.gaps]
    assert effects == [(3, "value_usd", "needs_other_gaps"), (4, "value_usd", "not_assessed"),
                       (5, None, "not_assessed")]
    assert v.gaps_not_assessed == 1
    assert "--max-gaps" in v.gaps[1].note
    assert "could not be read" in v.gaps[2].note

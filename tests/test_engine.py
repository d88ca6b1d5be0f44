"""Worked examples of the 30D engine on in-memory BOMs, computed by hand in the comments."""

from __future__ import annotations

from decimal import Decimal

import compliance
from compliance.reader.bom import Bom

CLEAN = {"incorporated_in": "US", "headquartered_in": "US", "covered_government_voting_pct": 0,
         "covered_government_board_pct": 0, "covered_government_equity_pct": 0,
         "effective_control": False, "restricted_lists": ""}


def entity(eid: str, **over: object) -> dict[str, object]:
    return {"entity_id": eid, "name": f"{eid} Inc", **CLEAN, **over}


def mineral(line: str, value: str, ext: str, proc: str, *, battery: str = "B1",
            ext_e: str = "MINE", proc_e: str = "REF", **over: object) -> dict[str, object]:
    return {"battery_id": battery, "line_id": line, "mineral": "lithium", "value_usd": value,
            "extraction_country": ext, "extraction_entity": ext_e,
            "processing_country": proc, "processing_entity": proc_e, **over}


def component(cid: str, value: str, country: str, *, battery: str = "B1",
              maker: str = "CELL") -> dict[str, object]:
    return {"battery_id": battery, "component_id": cid, "component_type": "battery cell",
            "country": country, "manufacturer": maker, "incremental_value_usd": value}


ENTITIES = [entity("MINE"), entity("REF"), entity("CELL")]


def verdict(bom: Bom, battery: str = "B1", **kw: object):  # type: ignore[no-untyped-def]
    report = compliance.audit(bom, **kw)
    found = [b for b in report.batteries if b.battery_id == battery]
    assert found, f"{battery} not in report"
    return found[0].verdicts[0]


def req(v, rid: str):  # type: ignore[no-untyped-def]
    return next(r for r in v.requirements if r.id == rid)


def simple_bom(minerals: list[dict[str, object]], *, date: str = "2025-03-01",
               components: list[dict[str, object]] | None = None,
               entities: list[dict[str, object]] | None = None) -> Bom:
    return Bom.from_records(
        batteries=[{"battery_id": "B1", "placed_in_service": date}],
        components=components if components is not None else [component("C1", "100", "US")],
        minerals=minerals, entities=entities if entities is not None else ENTITIES)


def test_shortfall_is_threshold_times_total_minus_qualifying_rounded_up_to_the_cent() -> None:
    # Qualifying: 333.33 (AU) of total 333.33 + 666.68 = 1000.01 -> 33.3326...%
    # 2025 threshold 60 %: needed 0.6 x 1000.01 = 600.006 -> 600.006 - 333.33 = 266.676
    # rounded up to the cent: 266.68. Short by 60 - 33.33266... = 26.66733... -> 26.6674 (up).
    bom = simple_bom([mineral("L1", "333.33", "AU", "AU"), mineral("L2", "666.68", "CN", "CN",
                                                                  ext_e="MINE", proc_e="REF")])
    r = req(verdict(bom), "critical_minerals")
    assert r.status == "fail"
    assert r.actual_pct == Decimal("33.3326")
    assert r.required_pct == Decimal("60")
    assert r.shortfall_usd == Decimal("266.68")
    assert r.shortfall_pct == Decimal("26.6674")
    assert [line.item_id for line in r.lines] == ["L2"]
    assert r.lines[0].reason == ("extracted in CN (not the US or an FTA country); processed in CN "
                                 "(not the US or an FTA country); not recycled")
    assert r.lines[0].share_pct == Decimal("66.6673")  # 666.68 / 1000.01 = 66.66733...


def test_share_exactly_at_threshold_passes_and_one_cent_below_fails() -> None:
    at = simple_bom([mineral("L1", "600.00", "AU", "AU"), mineral("L2", "400.00", "ID", "ID")])
    assert req(verdict(at), "critical_minerals").status == "pass"
    below = simple_bom([mineral("L1", "5999.99", "AU", "AU"),
                        mineral("L2", "4000.01", "ID", "ID")])
    r = req(verdict(below), "critical_minerals")
    # 5999.99 / 10000.00 = 59.9999 % exactly: shown as 59.9999, never 60.
    assert r.status == "fail"
    assert r.actual_pct == Decimal("59.9999")
    assert r.shortfall_usd == Decimal("0.01")


def test_unknown_country_that_cannot_change_the_verdict_still_decides() -> None:
    # L1 (AU) qualifies on extraction whatever its processing country; L3 has no processing
    # country and was extracted in ID: unknown. Known qualifying 700 of 1000 = 70 % >= 60 %.
    bom = simple_bom([mineral("L1", "700", "AU", None), mineral("L3", "300", "ID", None)])
    r = req(verdict(bom), "critical_minerals")
    assert r.status == "pass"
    assert r.gaps and r.gaps[0].column == "processing_country"


def test_unknown_country_that_could_change_the_verdict_gives_insufficient_data() -> None:
    # Known qualifying 500 of 1000 = 50 %; the unknown 300 could lift it to 80 %.
    bom = simple_bom([mineral("L1", "500", "AU", "AU"), mineral("L2", "200", "ID", "ID"),
                      mineral("L3", "300", "ID", None)])
    v = verdict(bom)
    r = req(v, "critical_minerals")
    assert r.status == "insufficient_data"
    assert r.shortfall_usd == Decimal("100.00")
    assert v.status == "insufficient_data"
    assert v.credit_usd is None
    assert [(g.row, g.column) for g in r.gaps] == [(4, "processing_country")]


def test_feoc_processing_in_covered_nation_fails_and_names_the_entity() -> None:
    entities = [*ENTITIES, entity("GRAPHCO", incorporated_in="CN", headquartered_in="CN")]
    bom = simple_bom([mineral("L1", "900", "AU", "US"),
                      {**mineral("G1", "100", "MZ", "CN", proc_e="GRAPHCO"),
                       "mineral": "graphite"}], entities=entities)
    v = verdict(bom)
    r = req(v, "feoc_minerals")
    assert r.status == "fail"
    assert r.lines[0].item_id == "G1"
    assert r.lines[0].reason == (
        "processed in CN by GRAPHCO: performs processing in a covered nation; "
        "incorporated in a covered nation (CN); headquartered in a covered nation (CN)")
    assert r.shortfall_usd == Decimal("100")
    assert v.status == "fail"
    assert v.credit_usd == Decimal("0")


def test_impracticable_to_trace_relief_until_2027() -> None:
    entities = [*ENTITIES, entity("GRAPHCO", incorporated_in="CN", headquartered_in="CN")]
    lines = [mineral("L1", "900", "AU", "US"),
             {**mineral("G1", "100", "MZ", "CN", proc_e="GRAPHCO"), "mineral": "graphite",
              "impracticable_to_trace": True}]
    r = req(verdict(simple_bom(lines, entities=entities)), "feoc_minerals")
    assert r.status == "pass"
    assert [x.item_id for x in r.relieved] == ["G1"]
    r27 = req(verdict(simple_bom(lines, entities=entities), as_of="2027-01-01"), "feoc_minerals")
    assert r27.status == "fail"


def test_government_share_at_exactly_25_pct_is_a_feoc_and_just_below_is_not() -> None:
    at = [*ENTITIES[:2], entity("CELL", incorporated_in="KR", headquartered_in="KR",
                                covered_government_board_pct="25")]
    below = [*ENTITIES[:2], entity("CELL", incorporated_in="KR", headquartered_in="KR",
                                   covered_government_board_pct="24.99")]
    minerals = [mineral("L1", "100", "AU", "AU")]
    r = req(verdict(simple_bom(minerals, entities=at)), "feoc_components")
    assert r.status == "fail"
    assert r.lines[0].reason == ("made in US by CELL: a covered-nation government holds 25 % of "
                                 "its board seats")
    assert req(verdict(simple_bom(minerals, entities=below)), "feoc_components").status == "pass"


def test_entity_missing_from_entities_sheet_is_a_gap_not_a_pass() -> None:
    bom = simple_bom([mineral("L1", "100", "AU", "AU", proc_e="GHOST")])
    v = verdict(bom)
    r = req(v, "feoc_minerals")
    assert r.status == "insufficient_data"
    assert "GHOST" in r.gaps[0].message
    assert any(f.code == "unknown-entity" for f in compliance.audit(bom).findings)


def test_acquired_after_termination_is_ineligible_altogether() -> None:
    bom = Bom.from_records(
        batteries=[{"battery_id": "B1", "placed_in_service": "2025-10-15",
                    "acquired_on": "2025-10-01"}],
        components=[component("C1", "100", "US")],
        minerals=[mineral("L1", "100", "AU", "AU")], entities=ENTITIES)
    v = verdict(bom)
    assert req(v, "in_effect").status == "fail"
    assert v.status == "fail"
    assert v.credit_usd == Decimal("0")


def test_report_names_input_and_ruleset_hashes() -> None:
    import hashlib
    from pathlib import Path

    report = compliance.audit(simple_bom([mineral("L1", "100", "AU", "AU")]))
    path = Path(compliance.load_ruleset("us-ira-30d").path)
    assert report.rulesets[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert report.rulesets[0].id == "us-ira-30d"
    assert report.tool.version == compliance.__version__

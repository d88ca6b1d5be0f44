"""Properties of the audit that hold for every BOM (hypothesis).

BOMs are built with ``Bom.from_records`` from records read exactly as workbook cells, and
audited with the default rulesets. A battery's verdict is compared as its status, and each
requirement's status, per ruleset.

1. Row order does not change any verdict.
2. Splitting a mineral line into two lines with the same attributes and values summing to the
   original changes nothing.
3. Scaling every value by a positive constant changes no pass/fail.
4. Making a non-qualifying line qualifying never turns a pass into a fail.
5. Adding a line from a non-FEOC entity in a non-covered country never creates a FEOC failure.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import compliance
from compliance.reader.bom import Bom

pytestmark = pytest.mark.filterwarnings("ignore")

COUNTRIES = ["US", "CA", "MX", "AU", "JP", "KR", "CL", "DE", "BR", "ID", "CD", "CN", "RU"]
NOT_COVERED = ["US", "CA", "MX", "AU", "JP", "DE", "BR", "CL"]
MINERALS = ["lithium", "nickel", "cobalt", "graphite", "manganese"]
TYPES = ["battery cell", "battery module", "cathode electrode", "anode electrode", "separator"]
DATES = ["2023-06-01", "2024-06-30", "2025-03-01", "2025-09-15"]
ENTITY_IDS = ["E1", "E2", "E3"]

PROFILE = settings(max_examples=20, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

money = st.integers(min_value=1, max_value=1_000_000).map(lambda c: Decimal(c) / 100)


@st.composite
def entity(draw: Any, eid: str) -> dict[str, Any]:
    return {"entity_id": eid, "name": f"{eid} Ltd",
            "incorporated_in": draw(st.sampled_from(COUNTRIES)),
            "headquartered_in": draw(st.sampled_from(COUNTRIES)),
            "covered_government_voting_pct": draw(st.sampled_from([0, 10, 30])),
            "covered_government_board_pct": draw(st.sampled_from([0, 0, 40])),
            "covered_government_equity_pct": draw(st.sampled_from([0, 5, 25])),
            "effective_control": draw(st.booleans()),
            "restricted_lists": draw(st.sampled_from(["", "", "SDN"]))}


@st.composite
def boms(draw: Any) -> dict[str, list[dict[str, Any]]]:
    n_batteries = draw(st.integers(1, 2))
    batteries, components, minerals = [], [], []
    for b in range(n_batteries):
        bid = f"B{b + 1}"
        placed = draw(st.sampled_from(DATES))
        batteries.append({"battery_id": bid, "placed_in_service": placed,
                          "acquired_on": draw(st.sampled_from([placed, None]))})
        for c in range(draw(st.integers(1, 3))):
            components.append({
                "battery_id": bid, "component_id": f"C{c + 1}",
                "component_type": draw(st.sampled_from(TYPES)),
                "country": draw(st.sampled_from(COUNTRIES)),
                "manufacturer": draw(st.sampled_from([*ENTITY_IDS, None])),
                "incremental_value_usd": draw(money)})
        for m in range(draw(st.integers(1, 4))):
            minerals.append({
                "battery_id": bid, "line_id": f"M{m + 1}",
                "mineral": draw(st.sampled_from(MINERALS)), "value_usd": draw(money),
                "extraction_country": draw(st.sampled_from(COUNTRIES)),
                "extraction_entity": draw(st.sampled_from(ENTITY_IDS)),
                "processing_country": draw(st.sampled_from(COUNTRIES)),
                "processing_entity": draw(st.sampled_from(ENTITY_IDS)),
                "recycled": False, "impracticable_to_trace": draw(st.booleans())})
    entities = [draw(entity(eid)) for eid in ENTITY_IDS]
    return {"batteries": batteries, "components": components, "minerals": minerals,
            "entities": entities}


_RULESETS: list[Any] = []


def audit(records: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    if not _RULESETS:  # load (and check) the default rulesets once
        _RULESETS.extend(compliance.load_ruleset(r) for r in compliance.DEFAULT_RULESETS)
    report = compliance.audit(Bom.from_records(**records), rulesets=_RULESETS)
    return {b.battery_id: {"status": str(b.status), "verdicts": {
        v.ruleset: (str(v.status), {r.id: (str(r.status), r.kind) for r in v.requirements})
        for v in b.verdicts}} for b in report.batteries}


def _copy(records: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {k: [dict(r) for r in rows] for k, rows in records.items()}


def requirement_statuses(result: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    return {(bid, rs, rid): status for bid, b in result.items()
            for rs, (_, reqs) in b["verdicts"].items() for rid, (status, _) in reqs.items()}


@PROFILE
@given(boms(), st.randoms(use_true_random=False))
def test_row_order_changes_no_verdict(records: dict[str, Any], rnd: Any) -> None:
    shuffled = _copy(records)
    for rows in shuffled.values():
        rnd.shuffle(rows)
    assert audit(shuffled) == audit(records)


@PROFILE
@given(boms(), st.data())
def test_splitting_a_mineral_line_changes_nothing(records: dict[str, Any], data: Any) -> None:
    split = _copy(records)
    i = data.draw(st.integers(0, len(split["minerals"]) - 1))
    line = split["minerals"][i]
    value: Decimal = line["value_usd"]
    part = data.draw(st.integers(0, int(value * 100))).__truediv__(100)
    first, second = dict(line), dict(line)
    first["value_usd"] = Decimal(str(part))
    second["value_usd"] = value - Decimal(str(part))
    second["line_id"] = line["line_id"] + "-b"
    split["minerals"][i: i + 1] = [first, second]
    assert audit(split) == audit(records)


@PROFILE
@given(boms(), st.sampled_from(["0.5", "2", "3", "1.25", "10", "1000"]))
def test_scaling_values_changes_no_pass_or_fail(records: dict[str, Any], k: str) -> None:
    scaled = _copy(records)
    factor = Decimal(k)
    for row in scaled["minerals"]:
        row["value_usd"] = row["value_usd"] * factor
    for row in scaled["components"]:
        row["incremental_value_usd"] = row["incremental_value_usd"] * factor
    assert requirement_statuses(audit(scaled)) == requirement_statuses(audit(records))


@PROFILE
@given(boms(), st.data())
def test_qualifying_a_line_never_turns_pass_into_fail(records: dict[str, Any],
                                                      data: Any) -> None:
    better = _copy(records)
    if data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(better["minerals"]) - 1))
        better["minerals"][i]["extraction_country"] = "US"
        better["minerals"][i]["processing_country"] = "US"
    else:
        i = data.draw(st.integers(0, len(better["components"]) - 1))
        better["components"][i]["country"] = "US"
    before, after = audit(records), audit(better)
    for bid, result in before.items():
        if result["status"] == "pass":
            assert after[bid]["status"] != "fail", (bid, result, after[bid])
    old, new = requirement_statuses(before), requirement_statuses(after)
    for key, status in old.items():
        if status == "pass":
            assert new[key] != "fail", key


@PROFILE
@given(boms(), st.data())
def test_clean_line_never_creates_a_feoc_failure(records: dict[str, Any], data: Any) -> None:
    more = _copy(records)
    more["entities"].append({
        "entity_id": "E-CLEAN", "name": "Clean Co", "incorporated_in": "US",
        "headquartered_in": "US", "covered_government_voting_pct": 0,
        "covered_government_board_pct": 0, "covered_government_equity_pct": 0,
        "effective_control": False, "restricted_lists": ""})
    bid = data.draw(st.sampled_from([b["battery_id"] for b in more["batteries"]]))
    if data.draw(st.booleans()):
        more["minerals"].append({
            "battery_id": bid, "line_id": "M-NEW", "mineral": data.draw(st.sampled_from(MINERALS)),
            "value_usd": data.draw(money),
            "extraction_country": data.draw(st.sampled_from(NOT_COVERED)),
            "extraction_entity": "E-CLEAN",
            "processing_country": data.draw(st.sampled_from(NOT_COVERED)),
            "processing_entity": "E-CLEAN", "recycled": False, "impracticable_to_trace": False})
    else:
        more["components"].append({
            "battery_id": bid, "component_id": "C-NEW",
            "component_type": data.draw(st.sampled_from(TYPES)),
            "country": data.draw(st.sampled_from(NOT_COVERED)), "manufacturer": "E-CLEAN",
            "incremental_value_usd": data.draw(money)})
    before, after = audit(records), audit(more)
    for b, result in before.items():
        for rs, (_, reqs) in result["verdicts"].items():
            for rid, (status, kind) in reqs.items():
                if kind == "prohibited_entity" and status != "fail":
                    assert after[b]["verdicts"][rs][1][rid][0] != "fail", (b, rs, rid)

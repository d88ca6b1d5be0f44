"""Entity tests over the ownership sheet: how direct and indirect holdings are combined.

``compliance/engine/entities.py``: percentages multiply along each chain of holdings and the
chains add up per holder; chains are followed up to ``MAX_DEPTH`` links and never through the
same entity twice. Most tests use a small ruleset written here, so each rule is seen alone:

- ``root`` catches an entity organised in CN (an empty ``incorporated_in`` is unknown);
- ``held`` catches an entity when root-caught holders have at least 25 % of its equity
  (``single``: one holder), at least 40 % (``total``: all together), at least 15 % of its
  debt (``total``), or when one of them may appoint an officer;
- a taxpayer caught by ``held`` fails the one requirement; one that cannot be cleared is
  insufficient data.

The last tests use the bundled ``us-48e-storage-pfe`` entity tests.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import compliance
from compliance.engine.entities import MAX_DEPTH
from compliance.reader.bom import Bom
from compliance.report.model import RequirementResult, Status
from compliance.rules.loader import LoadedRuleset

PASS, FAIL, INSUFFICIENT = Status.PASS, Status.FAIL, Status.INSUFFICIENT_DATA

GRAPH_RULESET = """\
id: graph-test
version: "1.0.0"
title: Entity graph test
summary: Holdings through the ownership sheet, one rule at a time.
jurisdiction: test
last_reviewed: "2026-01-01"
date_bases:
  sold: {column: sold_on, label: sold}
parameters:
  switch: {description: always on, unit: boolean,
           values: {"2020-01-01": {value: true, status: confirmed, source: [{title: test}]}}}
  covered: {description: covered country, unit: countries,
            values: {"2020-01-01": {value: [CN], status: confirmed, source: [{title: test}]}}}
  single_pct: {description: one holder, unit: percent,
               values: {"2020-01-01": {value: 25, status: confirmed, source: [{title: test}]}}}
  total_pct: {description: all holders, unit: percent,
              values: {"2020-01-01": {value: 40, status: confirmed, source: [{title: test}]}}}
  debt_pct: {description: debt holders, unit: percent,
             values: {"2020-01-01": {value: 15, status: confirmed, source: [{title: test}]}}}
entity_tests:
  root:
    title: CN company
    checks:
      - {kind: country_in, column: incorporated_in, parameter: covered,
         says: "organised in {value}"}
  held:
    title: held entity
    checks:
      - {kind: held_by, test: root, measure: equity_pct, aggregate: single,
         parameter: single_pct, says: "{holder} holds {value} % of its equity"}
      - {kind: held_by, test: root, measure: equity_pct, aggregate: total,
         parameter: total_pct, says: "{holder} together hold {value} % of its equity"}
      - {kind: held_by, test: root, measure: debt_pct, aggregate: total,
         parameter: debt_pct, says: "{holder} hold {value} % of its debt"}
      - {kind: appointed_by, test: root, says: "{value} may appoint an officer"}
requirements:
  - id: clear
    kind: prohibited_entity
    title: The taxpayer is not a held entity
    date_basis: sold
    effect: condition
    in_force: switch
    sheet: batteries
    item_id: battery_id
    entity_test: held
    activities: [{name: claiming, verb: claimed, entity: taxpayer}]
    citation: [{title: test}]
"""


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> LoadedRuleset:
    path = tmp_path_factory.mktemp("graph") / "graph.yaml"
    path.write_text(GRAPH_RULESET, encoding="utf-8")
    return compliance.load_ruleset(str(path))


def ent(eid: str, country: str | None = "SG", **over: Any) -> dict[str, Any]:
    return {"entity_id": eid, "name": f"{eid} Ltd", "incorporated_in": country,
            "headquartered_in": country, "covered_government_voting_pct": 0,
            "covered_government_board_pct": 0, "covered_government_equity_pct": 0,
            "effective_control": False, **over}


def hold(owner: str, owned: str, equity: Any = None, **over: Any) -> dict[str, Any]:
    return {"owner_id": owner, "owned_id": owned, "equity_pct": equity, **over}


def judge(ruleset: LoadedRuleset | str, entities: list[dict[str, Any]],
          ownership: list[dict[str, Any]], *taxpayers: str) -> dict[str, RequirementResult]:
    """The requirement's result for each taxpayer, one battery per taxpayer."""
    bom = Bom.from_records(
        batteries=[{"battery_id": t, "sold_on": "2026-06-01", "taxpayer": t} for t in taxpayers],
        entities=entities, ownership=ownership)
    report = compliance.audit(bom, rulesets=[ruleset])
    return {b.battery_id: b.verdicts[0].requirements[-1] for b in report.batteries}


def why(r: RequirementResult) -> str:
    (line,) = r.lines
    return line.reason


# --------------------------------------------------------------------------------------------
# Chains multiply, paths add
# --------------------------------------------------------------------------------------------


def test_a_chain_multiplies_its_percentages(graph: LoadedRuleset) -> None:
    # CN holds 60 % of A (SG), A holds 50 % of T: CN holds 60 % x 50 % = 30 % of T >= 25 %.
    # With 40 % of A instead: 40 % x 50 % = 20 % < 25 %, and A itself is not caught by root.
    got = judge(graph, [ent("CN", "CN"), ent("A"), ent("T")],
                [hold("CN", "A", 60), hold("A", "T", 50)], "T")
    assert got["T"].status is FAIL
    assert why(got["T"]) == "claimed by T: CN holds 30 % of its equity"
    got = judge(graph, [ent("CN", "CN"), ent("A"), ent("T")],
                [hold("CN", "A", 40), hold("A", "T", 50)], "T")
    assert got["T"].status is PASS


def test_paths_to_the_same_holder_add(graph: LoadedRuleset) -> None:
    # CN holds 20 % of T directly and 50 % of A, which holds 20 % of T: 20 + 10 = 30 % >= 25 %,
    # though neither path reaches 25 % alone.
    got = judge(graph, [ent("CN", "CN"), ent("A"), ent("T")],
                [hold("CN", "T", 20), hold("CN", "A", 50), hold("A", "T", 20)], "T")
    assert why(got["T"]) == "claimed by T: CN holds 30 % of its equity"


def test_a_long_chain_of_fractions_is_exact(graph: LoadedRuleset) -> None:
    # 80 % x 75 % x 62.5 % x 66.6 % = 24.975 %: just under 25 %. With 66.7 %: 25.0125 %.
    def chain(last: str) -> RequirementResult:
        return judge(graph, [ent("CN", "CN"), ent("A"), ent("B"), ent("C"), ent("T")],
                     [hold("CN", "A", 80), hold("A", "B", 75), hold("B", "C", "62.5"),
                      hold("C", "T", last)], "T")["T"]

    assert chain("66.6").status is PASS
    r = chain("66.7")
    assert why(r) == "claimed by T: CN holds 25.0125 % of its equity"


# --------------------------------------------------------------------------------------------
# Cycles and the depth limit
# --------------------------------------------------------------------------------------------


def test_circular_holdings_terminate(graph: LoadedRuleset) -> None:
    # A and B hold 50 % of each other; CN holds 60 % of A.
    # A: CN 60 % directly (B's 50 % is not a CN company): >= 25 % alone and >= 40 % in total.
    # B: A 50 %, and CN 60 % x 50 % = 30 % through A (>= 25 %, < 40 %); the chain does not
    # come back through B.
    got = judge(graph, [ent("CN", "CN"), ent("A"), ent("B")],
                [hold("A", "B", 50), hold("B", "A", 50), hold("CN", "A", 60)], "A", "B")
    assert why(got["A"]) == ("claimed by A: CN holds 60 % of its equity; CN together hold 60 % "
                             "of its equity")
    assert why(got["B"]) == "claimed by B: CN holds 30 % of its equity"
    # A cycle with no CN holder at all: cleared, and it ends.
    got = judge(graph, [ent("A"), ent("B"), ent("C")],
                [hold("A", "B", 90), hold("B", "C", 90), hold("C", "A", 90)], "A", "B", "C")
    assert {k: r.status for k, r in got.items()} == {"A": PASS, "B": PASS, "C": PASS}


def test_chains_are_followed_up_to_the_depth_limit(graph: LoadedRuleset) -> None:
    # E0 <- E1 <- ... <- E9 <- CN, each link 100 %. E_k is held by CN through 10 - k links.
    n = MAX_DEPTH + 2
    entities = [ent(f"E{i}") for i in range(n)] + [ent("CN", "CN")]
    ownership = [hold(f"E{i + 1}", f"E{i}", 100) for i in range(n - 1)]
    ownership.append(hold("CN", f"E{n - 1}", 100))
    got = judge(graph, entities, ownership, *(f"E{i}" for i in range(n)))
    links = {f"E{i}": n - i for i in range(n)}
    assert MAX_DEPTH == 8
    for eid, r in got.items():
        # Beyond the limit the holder is not cleared: the chain goes on, so the status is unknown.
        expected = FAIL if links[eid] <= MAX_DEPTH else INSUFFICIENT
        assert r.status is expected, (eid, links[eid])


# --------------------------------------------------------------------------------------------
# Single holder, all holders together, debt, officers
# --------------------------------------------------------------------------------------------


def test_single_and_total_aggregation(graph: LoadedRuleset) -> None:
    # T: two CN holders with 20 % each: no single one reaches 25 %; together 40 % >= 40 %.
    # U: one CN holder with 25 %: reaches 25 % alone; 25 % < 40 % together.
    # V: two CN holders with 19.99 % each: 39.98 % < 40 %.
    got = judge(graph, [ent("CN1", "CN"), ent("CN2", "CN"), ent("T"), ent("U"), ent("V")],
                [hold("CN1", "T", 20), hold("CN2", "T", 20), hold("CN1", "U", 25),
                 hold("CN1", "V", "19.99"), hold("CN2", "V", "19.99")], "T", "U", "V")
    assert why(got["T"]) == "claimed by T: CN1, CN2 together hold 40 % of its equity"
    assert why(got["U"]) == "claimed by U: CN1 holds 25 % of its equity"
    assert got["V"].status is PASS


def test_debt_is_its_own_measure(graph: LoadedRuleset) -> None:
    # T: a CN bank holds 15 % of its debt (and none of its equity). U: 14.99 % of the debt.
    # W: a CN company holds 100 % of its equity but the debt cell is empty: equity only.
    got = judge(graph, [ent("BANK", "CN"), ent("T"), ent("U"), ent("W")],
                [hold("BANK", "T", 0, debt_pct=15), hold("BANK", "U", 0, debt_pct="14.99"),
                 hold("BANK", "W", 100)], "T", "U", "W")
    assert why(got["T"]) == "claimed by T: BANK hold 15 % of its debt"
    assert got["U"].status is PASS
    assert why(got["W"]) == ("claimed by W: BANK holds 100 % of its equity; BANK together hold "
                             "100 % of its equity")


def test_appointed_by_a_direct_holder_only(graph: LoadedRuleset) -> None:
    # T: CN holds 5 % and may appoint an officer: caught. U: A (SG) may appoint an officer of U
    # and CN may appoint one of A: CN does not appoint U's officer. V: a clear holder appoints.
    got = judge(graph, [ent("CN", "CN"), ent("A"), ent("T"), ent("U"), ent("V")],
                [hold("CN", "T", 5, appoints_officer=True),
                 hold("A", "U", 5, appoints_officer=True),
                 hold("CN", "A", 5, appoints_officer=True),
                 hold("A", "V", 60, appoints_officer=True)], "T", "U", "V")
    assert why(got["T"]) == "claimed by T: CN may appoint an officer"
    assert got["U"].status is PASS
    assert got["V"].status is PASS


# --------------------------------------------------------------------------------------------
# Unknown status
# --------------------------------------------------------------------------------------------


def test_a_holder_of_unknown_status_blocks_only_when_it_could_matter(
        graph: LoadedRuleset) -> None:
    # HOLDCO's incorporated_in is empty, so whether it is a CN company is unknown.
    # T: HOLDCO holds 30 % (it could reach 25 %): insufficient data.
    # U: HOLDCO holds 10 % (cannot reach 25 % or 40 %): cleared.
    got = judge(graph, [ent("HOLDCO", None), ent("T"), ent("U")],
                [hold("HOLDCO", "T", 30), hold("HOLDCO", "U", 10)], "T", "U")
    assert got["T"].status is INSUFFICIENT
    assert got["T"].explanation == ("no held entity found, but some rows cannot be cleared for "
                                    "missing data")
    (gap,) = got["T"].gaps
    assert (gap.column, gap.item_id) == ("taxpayer", "T")
    assert got["U"].status is PASS


def test_a_holder_missing_from_the_entities_sheet_is_unknown(graph: LoadedRuleset) -> None:
    bom = Bom.from_records(
        batteries=[{"battery_id": "T", "sold_on": "2026-06-01", "taxpayer": "T"}],
        entities=[ent("T")], ownership=[hold("GHOST", "T", 30)])
    assert [f.message for f in bom.findings] == [
        "owner_id 'GHOST' is not in the entities sheet; its foreign-entity status is unknown"]
    report = compliance.audit(bom, rulesets=[graph])
    assert report.batteries[0].verdicts[0].requirements[0].status is INSUFFICIENT


def test_the_gap_names_the_holder_of_unknown_status(graph: LoadedRuleset) -> None:
    got = judge(graph, [ent("HOLDCO", None), ent("T")], [hold("HOLDCO", "T", 30)], "T")
    (gap,) = got["T"].gaps
    assert "HOLDCO" in gap.message and "incorporated_in" in gap.message


# --------------------------------------------------------------------------------------------
# Known defects of the combination rule
# --------------------------------------------------------------------------------------------


def test_total_does_not_count_a_stake_twice_through_its_parent(graph: LoadedRuleset) -> None:
    got = judge(graph, [ent("A", "CN"), ent("B", "CN"), ent("T")],
                [hold("A", "B", 100), hold("B", "T", 24)], "T")
    assert got["T"].status is PASS  # 24 % < 25 % (single) and 24 % < 40 % (total)


def test_nested_covered_holders_are_not_counted_twice_in_48e() -> None:
    bom = Bom.from_records(
        batteries=[{"battery_id": "P1", "construction_start": "2026-05-01"}],
        costs=[{"battery_id": "P1", "item_id": "K1", "supplier": "USCO",
                "direct_cost_usd": "100"}],
        entities=[ent("GROUP", "CN"), ent("SUB", "CN"), ent("USCO", "US")],
        ownership=[hold("GROUP", "SUB", 100), hold("SUB", "USCO", 21)])
    (r,) = compliance.audit(bom, rulesets=["us-48e-storage-pfe"]).batteries[0].verdicts[0]\
        .requirements
    assert (r.status, r.actual_pct) == (PASS, 100)


def test_a_self_referring_test_does_not_depend_on_row_order(tmp_path: Path) -> None:
    # 'caught' = run from CN, or held more than 25 % by a caught entity. A (run from CN) and
    # B (SG) hold 60 % of each other, so B is caught through A whatever the row order.
    text = GRAPH_RULESET.replace(
        "      - {kind: appointed_by, test: root, says: \"{value} may appoint an officer\"}\n",
        textwrap.indent(textwrap.dedent("""\
            - {kind: held_by, test: held, measure: voting_pct, aggregate: single,
               compare: more_than, parameter: single_pct, says: "{holder} votes {value} %"}
            - {kind: country_in, column: headquartered_in, parameter: covered,
               says: "run from {value}"}
            - {kind: appointed_by, test: root, says: "{value} may appoint an officer"}
            """), "      "))
    path = tmp_path / "self.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = compliance.load_ruleset(str(path))
    a, b = ent("A", "SG", headquartered_in="CN"), ent("B")
    own = [hold("A", "B", 0, voting_pct=60), hold("B", "A", 0, voting_pct=60)]
    for order in ([b, a], [a, b]):
        assert judge(loaded, order, own, "B")["B"].status is FAIL, [e["entity_id"] for e in order]


# --------------------------------------------------------------------------------------------
# The bundled 48E tests: government_of (empty means "not a government") and FIE through a
# state agency.
# --------------------------------------------------------------------------------------------


def cost_line(supplier_entities: list[dict[str, Any]],
              ownership: list[dict[str, Any]]) -> RequirementResult:
    bom = Bom.from_records(
        batteries=[{"battery_id": "P1", "construction_start": "2026-05-01"}],
        costs=[{"battery_id": "P1", "item_id": "K1", "supplier": "SUPPLIER",
                "direct_cost_usd": "100"},
               {"battery_id": "P1", "item_id": "K2", "supplier": "CLEAN",
                "direct_cost_usd": "100"}],
        entities=[*supplier_entities, ent("CLEAN", "US")], ownership=ownership)
    (r,) = compliance.audit(bom, rulesets=["us-48e-storage-pfe"]).batteries[0].verdicts[0]\
        .requirements
    return r


def test_empty_government_of_means_not_a_government() -> None:
    # government_of is "when_empty: no": a US supplier with it empty is cleared (ratio 100 %).
    r = cost_line([ent("SUPPLIER", "US")], [])
    assert (r.status, r.actual_pct, r.gaps) == (PASS, 100, [])


def test_a_state_agency_holding_30_percent_makes_the_supplier_foreign_influenced() -> None:
    # SASAC-like agency (government_of CN, itself organised in CN) holds 30 % of a US supplier:
    # the agency is a specified foreign entity, 30 % >= 25 %: the supplier's 100 of 200 is
    # attributable, ratio 50 % < 55 %.
    r = cost_line([ent("SUPPLIER", "US"), ent("AGENCY", "CN", government_of="CN")],
                  [hold("AGENCY", "SUPPLIER", 30)])
    assert (r.status, r.actual_pct) == (FAIL, 50)
    assert r.lines[0].reason == (
        "supplied by SUPPLIER: foreign-influenced entity (a specified foreign entity (AGENCY) "
        "holds 30 % of its equity)")


def test_a_government_itself_is_a_covered_nation_person() -> None:
    # The supplier is an agency of a covered nation though organised elsewhere (HK).
    r = cost_line([ent("SUPPLIER", "HK", government_of="CN")], [])
    assert r.status is FAIL
    assert r.lines[0].reason == (
        "supplied by SUPPLIER: specified foreign entity (foreign-controlled entity: is the "
        "government, or an agency or official, of a covered nation (CN))")

"""The engine's shortcuts for big workbooks give what the plain ways give, and clean up after."""

from __future__ import annotations

import datetime as dt
import gc
import weakref
from decimal import Decimal

import polars as pl
import pytest
from test_engine import ENTITIES, component, mineral

import compliance
from compliance.engine import params
from compliance.engine.context import (
    BatteryContext,
    column_rows,
    line_result,
    number_distinct,
    share_of,
    usd,
)
from compliance.engine.scope import audit_scope, shared
from compliance.reader.bom import Bom
from compliance.report.model import LineResult

BATTERY = {"battery_id": "B1", "placed_in_service": "2024-06-01",
           "acquired_on": "2024-06-01"}


def test_line_result_is_what_model_construct_makes() -> None:
    fields = dict(sheet="minerals", row=7, item_id="M-1", value_usd=Decimal("12.30"),
                  share_pct=Decimal("4.1000"), reason="processed in CN", cells=["F7", "G7"])
    fast = line_result(**fields)  # type: ignore[arg-type]
    slow = LineResult.model_construct(**fields, mass_kg=None)
    assert fast == slow
    assert fast.__dict__ == slow.__dict__ and list(fast.__dict__) == list(slow.__dict__)
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.model_dump_json() == slow.model_dump_json()
    # Copies with changes get their own field set, as pydantic makes them.
    changed = fast.model_copy(update={"reason": "x"})
    assert changed.reason == "x" and fast.reason == "processed in CN"


@pytest.mark.parametrize(("value", "total"), [
    (Decimal("1.000000"), Decimal("3.000000")), ("2", 7), (Decimal("0.000000"), 5),
    (Decimal("12345.678901"), Decimal("99999.999999")), (None, 5), (5, 0)])
def test_share_and_usd_accept_decimals_and_plain_numbers_alike(value: object,
                                                                total: object) -> None:
    as_decimal = Decimal(value) if value is not None else None  # type: ignore[arg-type]
    assert share_of(value, total) == share_of(as_decimal, Decimal(total))  # type: ignore[arg-type]
    assert str(usd(value)) == str(usd(as_decimal))


def test_distinct_combinations_are_numbered_with_empty_cells_alike() -> None:
    frame = pl.DataFrame({"a": ["x", None, "x", None, "y"], "b": [True, None, True, None, False],
                          "n": [1, 2, 3, 4, 5]})
    numbered, combinations = number_distinct(frame, ["a", "b"], "__k")
    assert combinations == [("x", True), (None, None), ("y", False)]
    assert list(column_rows(numbered, "n", "__k")) == [(1, 0), (2, 1), (3, 0), (4, 1), (5, 2)]


def test_shared_work_lasts_one_audit() -> None:
    made: list[int] = []

    def make() -> int:
        made.append(1)
        return len(made)

    assert shared("k", make) == 1 and shared("k", make) == 2  # outside an audit: every time
    with audit_scope():
        assert shared("k", make) == 3 and shared("k", make) == 3
    with audit_scope():
        assert shared("k", make) == 4


def test_the_collector_runs_again_after_an_audit_and_stays_off_if_it_was() -> None:
    built = Bom.from_records(batteries=[BATTERY], minerals=[mineral("M1", "10", "US", "CN")],
                             components=[component("C1", "10", "US")], entities=ENTITIES)
    assert gc.isenabled()
    compliance.audit(built)
    assert gc.isenabled()
    gc.disable()
    try:
        compliance.audit(built)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_remembered_ruleset_values_go_with_their_ruleset() -> None:
    loaded = compliance.load_ruleset("us-ira-30d")
    rs = loaded.ruleset.model_copy(deep=True)
    lookup = params.ParamLookup(rs, dt.date(2024, 6, 1))
    assert lookup.get("covered_nations")
    assert id(rs) in params._MEMOS
    gone = weakref.ref(rs)
    key = id(rs)
    del rs, lookup
    gc.collect()
    assert gone() is None and key not in params._MEMOS


def test_values_read_once_per_group_are_what_each_battery_would_read() -> None:
    rs = compliance.load_ruleset("us-ira-30d").ruleset
    names = sorted(rs.parameters)
    days = [None, dt.date(2020, 1, 1), dt.date(2023, 3, 27), dt.date(2023, 3, 28),
            dt.date(2024, 6, 1), dt.date(2024, 6, 2), dt.date(2025, 12, 31), dt.date(2027, 1, 1)]
    batteries = [BatteryContext(f"B{i}", i, None, {"placed_in_service": d}, "workbook")
                 for i, d in enumerate(days)]
    lookups, groups = params.group_by_values(rs, batteries, "placed_in_service", names)
    assert any(len(ids) > 1 for ids in groups)  # some batteries take their group's values over
    params.read_in_groups(lookups, groups, names)
    for ctx in batteries:
        alone = params.ParamLookup(rs, ctx.dates["placed_in_service"])
        for name in names:
            alone.get(name)
        got = lookups[ctx.battery_id]
        assert list(got.used.items()) == list(alone.used.items())
        assert {n: got.get(n) for n in names} == {n: alone.get(n) for n in names}

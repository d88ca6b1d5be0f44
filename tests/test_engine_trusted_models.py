"""The engine builds report models without validation; they are what validation would make.

``compliance.engine.context`` builds lines, gaps, requirement results, verdicts and battery
reports from values that already have their declared types. These tests check, for
representative values and for whole audits, that each such model equals the validated model of
the same values: same fields in the same order, same types (a Decimal is not an int, a Status
is not a str), same JSON.
"""

from __future__ import annotations

import datetime as dt
import inspect
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import compliance
from compliance.engine.context import (
    battery_report,
    data_gap,
    line_result,
    requirement_result,
    verdict,
)
from compliance.report.model import (
    AuditReport,
    BatteryReport,
    Citation,
    DataGap,
    LineResult,
    ParameterUse,
    RequirementResult,
    Status,
    Verdict,
)

ROOT = Path(__file__).resolve().parents[1]
ALL_RULESETS = ("us-ira-30d", "us-45x-pfe", "us-48e-storage-pfe", "eu-2023-1542-recycled-content",
                str(ROOT / "rulesets/examples/banned-origin.yaml"),
                str(ROOT / "rulesets/examples/concentration-cap.yaml"))

LINE = dict(sheet="minerals", row=7, item_id="M-1", value_usd=Decimal("12.30"),
            share_pct=Decimal("4.1000"), reason="processed in CN", cells=["F7", "G7"])
GAP = dict(sheet="minerals", row=9, column="value_usd", cell="E9", item_id="M-3",
           message="value_usd is empty or invalid")
USE = ParameterUse(name="covered_nations", value=["CN", "RU"], in_force_from=dt.date(2024, 1, 1),
                   status="confirmed", source=[Citation(title="26 CFR 1.30D-6", href=None)])


def _result(**extra: Any) -> dict[str, Any]:
    return dict(id="critical_minerals", title="Critical minerals", kind="content_share",
                effect="credit", status=Status.FAIL, date_basis="placed_in_service",
                date=dt.date(2024, 6, 1), explanation="short by 0.5 points", **extra)


FULL_RESULT = _result(
    comparison="at_least", actual_pct=Decimal("59.5000"), required_pct=Decimal("60"),
    shortfall_pct=Decimal("0.5000"), shortfall_usd=Decimal("12.01"), shortfall_kg=None,
    total_usd=Decimal("2400.00"), qualifying_usd=Decimal("1428.000001"),
    credit_usd=Decimal("3750"), lines=[LineResult(**LINE)], relieved=[LineResult(**LINE)],
    gaps=[DataGap(**GAP)], parameters=[USE], provisional=True,
    provisional_outcome=Status.FAIL, citation=[Citation(title="IRC 30D(e)(1)", href="https://x")])
VERDICT = dict(ruleset="us-ira-30d", status=Status.PROVISIONAL, credit_usd=Decimal("0"),
               dates={"placed_in_service": dt.date(2024, 6, 1), "acquired": None},
               date_source="workbook", requirements=[RequirementResult(**FULL_RESULT)],
               gaps=[DataGap(**GAP)], provisional=True, provisional_outcome=Status.FAIL,
               summary="provisional (fail): fails critical_minerals")

# Only the fields without a default.
MINIMAL: dict[type[BaseModel], dict[str, Any]] = {
    LineResult: LINE, DataGap: GAP, RequirementResult: _result(),
    Verdict: {k: v for k, v in VERDICT.items()
              if k not in ("gaps", "provisional", "provisional_outcome")},
    BatteryReport: dict(battery_id="B2", row=None, status=Status.NOT_APPLICABLE, verdicts=[]),
}


def assert_same(fast: Any, slow: Any, path: str = "") -> None:
    """Equal values of identical types all the way down, models' fields in the same order,
    decimals with the same digits (Decimal("1.0") == Decimal("1.00") but prints otherwise)."""
    assert type(fast) is type(slow), f"{path}: {type(fast).__name__} != {type(slow).__name__}"
    if isinstance(fast, BaseModel):
        assert list(fast.__dict__) == list(slow.__dict__), path
        for name in fast.__dict__:
            assert_same(fast.__dict__[name], slow.__dict__[name], f"{path}.{name}")
    elif isinstance(fast, list):
        assert len(fast) == len(slow), path
        for i, (a, b) in enumerate(zip(fast, slow, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(fast, dict):
        assert list(fast) == list(slow), path
        for key in fast:
            assert_same(fast[key], slow[key], f"{path}[{key!r}]")
    else:
        assert fast == slow and str(fast) == str(slow), path


def assert_validated(fast: BaseModel, slow: BaseModel) -> None:
    assert fast == slow
    assert_same(fast, slow)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a value of the wrong type warns when serialised
        assert fast.model_dump_json() == slow.model_dump_json()


@pytest.mark.parametrize(("build", "model", "fields"), [
    (line_result, LineResult, LINE),
    (line_result, LineResult, {**LINE, "row": None, "value_usd": None, "share_pct": None,
                               "cells": [], "mass_kg": Decimal("12.500")}),
    (data_gap, DataGap, GAP),
    (data_gap, DataGap, {**GAP, "row": None, "column": None, "cell": None, "item_id": None}),
    (requirement_result, RequirementResult, _result()),
    (requirement_result, RequirementResult, FULL_RESULT),
    (verdict, Verdict, VERDICT),
    (verdict, Verdict, MINIMAL[Verdict]),
    (battery_report, BatteryReport, dict(battery_id="B1", row=2, description="pack",
                                         status=Status.FAIL, verdicts=[Verdict(**VERDICT)])),
    (battery_report, BatteryReport, MINIMAL[BatteryReport]),
])
def test_a_trusted_model_is_the_validated_model(build: Callable[..., BaseModel],
                                                model: type[BaseModel],
                                                fields: dict[str, Any]) -> None:
    fast = build(**fields)
    assert_validated(fast, model(**fields))
    # Copies with changes get their own field set and leave the original alone.
    field = next(iter(model.model_fields))
    changed = fast.model_copy(update={field: "x"})
    assert getattr(changed, field) == "x" and getattr(fast, field) == fields[field]
    assert changed.model_fields_set is not fast.model_fields_set


@pytest.mark.parametrize(("build", "model"), [
    (line_result, LineResult), (data_gap, DataGap), (requirement_result, RequirementResult),
    (verdict, Verdict), (battery_report, BatteryReport)])
def test_builders_take_every_field_with_the_models_defaults(build: Callable[..., BaseModel],
                                                            model: type[BaseModel]) -> None:
    """A field added to a model must be added to its builder too (the JSON follows the order
    in which the builder lists the fields). A builder may insist on a field the model has a
    default for (every caller gives it); a default it has is the model's."""
    params = inspect.signature(build).parameters
    assert sorted(params) == sorted(model.model_fields)
    for name, info in model.model_fields.items():
        default = params[name].default
        if info.is_required():
            assert default is inspect.Parameter.empty, name
        elif default is inspect.Parameter.empty:
            continue
        elif info.default_factory is not None:
            assert default == () and info.default_factory() == [], name  # type: ignore[call-arg]
        else:
            assert default == info.default, name
    assert list(build(**MINIMAL[model]).__dict__) == list(model.model_fields)


def test_results_do_not_share_their_lists_with_the_caller() -> None:
    """As validation does, a result copies the lists it is given: results may be handed the
    same list (a requirement's citations) and still be separate values."""
    citations = [Citation(title="IRC 30D")]
    first = requirement_result(**_result(citation=citations))
    second = requirement_result(**_result(citation=citations))
    assert first.citation == second.citation == citations
    assert first.citation is not citations and first.citation is not second.citation
    given = Verdict(**VERDICT)
    built = verdict(**VERDICT)
    assert built.dates is not VERDICT["dates"] and built.dates == given.dates
    assert built.requirements is not VERDICT["requirements"]


@pytest.mark.parametrize(("workbook", "rulesets", "as_of", "strict"), [
    ("fixtures/demo.xlsx", ALL_RULESETS, None, False),
    ("fixtures/demo.xlsx", ALL_RULESETS, None, True),
    ("fixtures/messy.xlsx", ALL_RULESETS, None, True),
    ("fixtures/feoc-graphite-itt.xlsx", ("us-ira-30d",), "2027-01-01", False),
    ("fixtures/regimes/component-45x.xlsx", ALL_RULESETS, None, True),
    ("fixtures/regimes/storage-project-48e.xlsx", ALL_RULESETS, None, False),
    ("fixtures/regimes/eu-recycled-content.xlsx", ALL_RULESETS, "2031-08-18", True),
    ("fixtures/regimes/policy-examples.xlsx", ALL_RULESETS, None, False),
    ("benchmarks/data/bom-20-g1.xlsx", ALL_RULESETS, None, True),
])
def test_an_audit_report_is_what_validation_makes_of_its_values(
        workbook: str, rulesets: tuple[str, ...], as_of: str | None, strict: bool) -> None:
    """Every model of a real report (built without validation) equals the model pydantic
    validates from the report's own values, down to the type of each value."""
    path = ROOT / workbook
    if not path.exists():
        pytest.skip(f"{workbook} is not there")
    report = compliance.audit(path, rulesets=rulesets, as_of=as_of, strict=strict)
    assert report.batteries
    assert_validated(report, AuditReport.model_validate(report.model_dump()))

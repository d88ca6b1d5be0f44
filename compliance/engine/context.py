"""Per-battery facts every requirement needs: its dates and the rows left out of it.

Also what every evaluator shares: reading frames row by row, building the report's models (without
validation, see "Report models built without validation") and the rounding of amounts and shares.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar

import polars as pl
from pydantic import BaseModel

from compliance.engine.scope import shared
from compliance.findings import Severity
from compliance.reader.bom import Bom
from compliance.report.model import (
    BatteryReport,
    Citation,
    DataGap,
    LineResult,
    ParameterUse,
    RequirementResult,
    Status,
    Verdict,
)
from compliance.rules.model import Ruleset

CENT = Decimal("0.01")
PCT_PLACES = Decimal("0.0001")
_HUNDRED = Decimal(100)


@dataclass(slots=True)
class BatteryContext:
    battery_id: str
    row: int | None
    description: str | None
    dates: dict[str, dt.date | None]
    date_source: str
    excluded: dict[str, list[int]] = field(default_factory=dict)  # sheet -> Excel rows


def battery_contexts(bom: Bom, ruleset: Ruleset, as_of: dt.date | None) -> list[BatteryContext]:
    """One context per battery, in workbook order, including batteries whose row was unusable."""
    excluded: dict[str, dict[str, list[int]]] = {}
    for sheet, row, battery in bom.excluded.select("sheet", "row", "battery_id").iter_rows():
        if battery is not None:
            excluded.setdefault(battery, {}).setdefault(sheet, []).append(row)
    out: list[BatteryContext] = []
    columns = {name: basis.column for name, basis in ruleset.date_bases.items()}
    # A cell that held something unreadable is unknown, not empty: it must not fall back to
    # another date (an unreadable acquisition date is not the placed-in-service date).
    sheet = bom.display_sheet("batteries")
    unreadable = {(f.row, f.column) for f in bom.findings
                  if f.sheet == sheet and f.severity is Severity.ERROR and f.column}
    wanted = {"_row", "battery_id", "description", *columns.values()}
    read = bom.batteries.select([c for c in bom.batteries.columns if c in wanted])
    for record in read.iter_rows(named=True):
        dates: dict[str, dt.date | None] = {}
        for name, basis in ruleset.date_bases.items():
            if as_of is not None:
                dates[name] = as_of
                continue
            value = record.get(columns[name])
            if (value is None and basis.fallback
                    and (record["_row"], columns[name]) not in unreadable):
                value = record.get(ruleset.date_bases[basis.fallback].column)
            dates[name] = value
        out.append(BatteryContext(
            record["battery_id"], record["_row"], record.get("description"), dates,
            "as_of" if as_of is not None else "workbook",
            excluded.get(record["battery_id"], {})))
    known = {c.battery_id for c in out}
    for battery, sheets in excluded.items():
        if battery not in known:
            out.append(BatteryContext(
                battery, None, None, dict.fromkeys(ruleset.date_bases, as_of),
                "as_of" if as_of is not None else "workbook", sheets))
    return out


def excluded_gaps(ctx: BatteryContext, sheet: str, bom: Bom) -> list[DataGap]:
    return [data_gap(sheet=bom.display_sheet(sheet), row=row, column=None, cell=None,
                     item_id=None,
                     message=f"row {row} of {bom.display_sheet(sheet)} could not be used (see "
                             "the findings for that row), so this result cannot count it")
            for row in ctx.excluded.get(sheet, [])]


def date_gap(ctx: BatteryContext, rs: Ruleset, basis_name: str, bom: Bom) -> DataGap:
    """The gap for a battery whose date (for one date basis) is missing or unusable."""
    basis = rs.date_bases[basis_name]
    sheet = bom.display_sheet("batteries")
    rows = ctx.excluded.get("batteries")
    if rows:
        listed = ", ".join(str(r) for r in rows)
        return data_gap(sheet=sheet, row=rows[0], column="battery_id", cell=None,
                        item_id=ctx.battery_id,
                        message=f"the battery's row ({listed}) could not be used, so its dates "
                                "are unknown; see the findings for those rows")
    letter = bom.letter("batteries", basis.column)
    also = (f" (and so is {rs.date_bases[basis.fallback].column})" if basis.fallback else "")
    return data_gap(sheet=sheet, row=ctx.row, column=basis.column,
                    cell=f"{letter}{ctx.row}" if letter and ctx.row else None,
                    item_id=ctx.battery_id,
                    message=f"{basis.column} is empty or invalid{also}; the date the battery "
                            f"was {basis.label} selects the rule values")


def result_base(req: Any, day: dt.date | None, comparison: str | None) -> dict[str, Any]:
    """The fields every requirement result shares, taken from the requirement itself.

    Its citations are made once per audit; each result copies the list."""
    citation = shared(("citations", id(req)),
                      lambda: [Citation(title=c.title, href=c.href) for c in req.citation])
    return dict(id=req.id, title=req.title, kind=req.kind, effect=req.effect.value,
                date_basis=req.date_basis, date=day, comparison=comparison, citation=citation)


def no_date_result(req: Any, rs: Ruleset, ctx: BatteryContext, bom: Bom, lookup: Any,
                   comparison: str | None) -> RequirementResult:
    """The result for a battery without the date that selects the requirement's values."""
    return requirement_result(
        **result_base(req, None, comparison), status=Status.INSUFFICIENT_DATA,
        parameters=lookup.uses(),
        explanation=f"no valid date the battery was {rs.date_bases[req.date_basis].label}",
        gaps=[date_gap(ctx, rs, req.date_basis, bom)])


def row_gap(bom: Bom, req: Any, rec: dict[str, Any], column: str, message: str) -> DataGap:
    """A gap at one cell of the requirement's sheet, located as a person finds it."""
    letter = bom.letter(req.sheet, column)
    return data_gap(sheet=bom.display_sheet(req.sheet), row=rec["_row"], column=column,
                    cell=f"{letter}{rec['_row']}" if letter else None,
                    item_id=str(rec[req.item_id]), message=message)


def column_rows(frame: pl.DataFrame, *names: str) -> Iterator[tuple[Any, ...]]:
    """The rows of ``frame`` as tuples of the named columns, in order.

    Read column by column, which costs a fraction of ``iter_rows(named=True)`` on big sheets."""
    return zip(*(frame.get_column(n).to_list() for n in names), strict=True)


def number_distinct(frame: pl.DataFrame, columns: Sequence[str],
                    key: str) -> tuple[pl.DataFrame, list[tuple[Any, ...]]]:
    """Number each row of ``frame`` (in column ``key``) by its combination of ``columns``, and
    list the distinct combinations in that numbering.

    Work that depends only on those cells (say, a reason in words) is then done once per
    combination instead of once per row. Empty cells match each other."""
    distinct = frame.select(columns).unique(maintain_order=True)
    numbered = frame.join(distinct.with_row_index(key), on=list(columns), how="left",
                          nulls_equal=True, maintain_order="left")
    return numbered, distinct.rows()


# Report models built without validation.
#
# A big audit builds hundreds of thousands of lines and tens of thousands of results; pydantic
# validation of each costs several times the work of making it. The builders below take values
# that already have their declared types (Decimal, not int or str; Status, not str; models, not
# dicts) and give every field, in declared order (the order of the JSON). The result is what
# validation makes of the same values (tests/test_engine_trusted_models.py checks it), except
# that nothing is checked: a value of another type would be written to the report as it is.

M = TypeVar("M", bound=BaseModel)
_new = object.__new__
# The four slots pydantic declares on BaseModel, set through their descriptors: what
# object.__setattr__ does (frozen models refuse plain assignment), without looking them up.
_set_dict, _set_given, _set_extra, _set_private = (
    BaseModel.__dict__[name].__set__ for name in
    ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"))


def _trusted(cls: type[M], fields: dict[str, Any], given: set[str]) -> M:
    """An instance of ``cls`` holding ``fields`` as they are, as ``model_construct`` makes it.

    ``given`` becomes the set of fields given; it is shared by every instance, which is safe
    because pydantic copies it before changing it (``model_copy``)."""
    model = _new(cls)
    _set_dict(model, fields)
    _set_given(model, given)
    _set_extra(model, None)
    _set_private(model, None)
    return model


_LINE_FIELDS = set(LineResult.model_fields)


def line_result(sheet: str, row: int | None, item_id: str, value_usd: Decimal | None,
                share_pct: Decimal | None, reason: str, cells: list[str],
                mass_kg: Decimal | None = None) -> LineResult:
    """A :class:`LineResult` from values that already have their declared types.

    ``cells`` is kept, not copied: every caller makes it for the line."""
    return _trusted(LineResult, {"sheet": sheet, "row": row, "item_id": item_id,
                                 "value_usd": value_usd, "share_pct": share_pct,
                                 "mass_kg": mass_kg, "reason": reason, "cells": cells},
                    _LINE_FIELDS)


_GAP_FIELDS = set(DataGap.model_fields)


def data_gap(*, sheet: str, row: int | None, column: str | None, cell: str | None,
             item_id: str | None, message: str) -> DataGap:
    """A :class:`DataGap` from values that already have their declared types."""
    return _trusted(DataGap, {"sheet": sheet, "row": row, "column": column, "cell": cell,
                              "item_id": item_id, "message": message}, _GAP_FIELDS)


_RESULT_FIELDS = set(RequirementResult.model_fields)


def requirement_result(
    *, id: str, title: str, kind: str, effect: str, status: Status, date_basis: str,
    date: dt.date | None, comparison: str | None = None, actual_pct: Decimal | None = None,
    required_pct: Decimal | None = None, shortfall_pct: Decimal | None = None,
    shortfall_usd: Decimal | None = None, shortfall_kg: Decimal | None = None,
    total_usd: Decimal | None = None, qualifying_usd: Decimal | None = None,
    credit_usd: Decimal | None = None, explanation: str, lines: Sequence[LineResult] = (),
    relieved: Sequence[LineResult] = (), gaps: Sequence[DataGap] = (),
    parameters: Sequence[ParameterUse] = (), provisional: bool = False,
    provisional_outcome: Status | None = None, citation: Sequence[Citation] = (),
) -> RequirementResult:
    """A :class:`RequirementResult` from values that already have their declared types.

    Its lists are new, as validation makes them: results may be given the same list (the
    requirement's citations) without sharing it."""
    return _trusted(RequirementResult, {
        "id": id, "title": title, "kind": kind, "effect": effect, "status": status,
        "date_basis": date_basis, "date": date, "comparison": comparison,
        "actual_pct": actual_pct, "required_pct": required_pct, "shortfall_pct": shortfall_pct,
        "shortfall_usd": shortfall_usd, "shortfall_kg": shortfall_kg, "total_usd": total_usd,
        "qualifying_usd": qualifying_usd, "credit_usd": credit_usd, "explanation": explanation,
        "lines": list(lines), "relieved": list(relieved), "gaps": list(gaps),
        "parameters": list(parameters), "provisional": provisional,
        "provisional_outcome": provisional_outcome, "citation": list(citation)},
        _RESULT_FIELDS)


_VERDICT_FIELDS = set(Verdict.model_fields)


def verdict(*, ruleset: str, status: Status, credit_usd: Decimal | None,
            dates: dict[str, dt.date | None], date_source: str,
            requirements: Sequence[RequirementResult], gaps: Sequence[DataGap] = (),
            provisional: bool = False, provisional_outcome: Status | None = None,
            summary: str) -> Verdict:
    """A :class:`Verdict` from values that already have their declared types (new containers,
    as validation makes them)."""
    return _trusted(Verdict, {
        "ruleset": ruleset, "status": status, "credit_usd": credit_usd, "dates": dict(dates),
        "date_source": date_source, "requirements": list(requirements), "gaps": list(gaps),
        "provisional": provisional, "provisional_outcome": provisional_outcome,
        "summary": summary}, _VERDICT_FIELDS)


_BATTERY_FIELDS = set(BatteryReport.model_fields)


def battery_report(*, battery_id: str, row: int | None, description: str | None = None,
                   status: Status, verdicts: Sequence[Verdict]) -> BatteryReport:
    """A :class:`BatteryReport` from values that already have their declared types."""
    return _trusted(BatteryReport, {"battery_id": battery_id, "row": row,
                                    "description": description, "status": status,
                                    "verdicts": list(verdicts)}, _BATTERY_FIELDS)


def decimal_or_zero(x: Any) -> Decimal:
    """A sum from polars (None when there was nothing to add) as a Decimal."""
    return Decimal(0) if x is None else Decimal(x)


# The rounding of a quantize is given by position: a keyword costs as much as the quantize.


def pct_down(x: Decimal) -> Decimal:
    """A percentage for display, cut (never rounded up) to 4 places: 59.99999 shows 59.9999."""
    return x.quantize(PCT_PLACES, ROUND_DOWN)


def pct_up(x: Decimal) -> Decimal:
    return x.quantize(PCT_PLACES, ROUND_CEILING)


def share_of(value: object, total: object) -> Decimal | None:
    """A row's share of a total in percent, to 4 places (for display, never for a verdict)."""
    if value is None or not total:
        return None
    # Most values come from polars as Decimals already; Decimal(x) would only copy them.
    value = value if type(value) is Decimal else Decimal(value)  # type: ignore[arg-type]
    total = total if type(total) is Decimal else Decimal(total)  # type: ignore[arg-type]
    return (value * _HUNDRED / total).quantize(PCT_PLACES, ROUND_HALF_EVEN)


def cents_up(x: Decimal) -> Decimal:
    return x.quantize(CENT, ROUND_CEILING)


def usd(x: object) -> Decimal | None:
    """An amount as read (scale 6) shown with cents, keeping sub-cent digits only if present."""
    if x is None:
        return None
    d = x if type(x) is Decimal else Decimal(x)  # type: ignore[arg-type]
    cents = d.quantize(CENT)
    return cents if cents == d else d.normalize()


def money(x: Decimal | None) -> str:
    if x is None:
        return "unknown"
    return f"${x.quantize(CENT, ROUND_HALF_EVEN):,}"


def num(x: Decimal) -> str:
    """A decimal without trailing zeros: 60.0000 -> 60, 7.5000 -> 7.5."""
    text = format(x.normalize(), "f")
    return text

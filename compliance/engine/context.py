"""Per-battery facts every requirement needs: its dates and the rows left out of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any

import polars as pl

from compliance.findings import Severity
from compliance.reader.bom import Bom
from compliance.report.model import Citation, DataGap, LineResult, RequirementResult, Status
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
    return [DataGap(sheet=bom.display_sheet(sheet), row=row, column=None, cell=None,
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
        return DataGap(sheet=sheet, row=rows[0], column="battery_id", cell=None,
                       item_id=ctx.battery_id,
                       message=f"the battery's row ({listed}) could not be used, so its dates "
                               "are unknown; see the findings for those rows")
    letter = bom.letter("batteries", basis.column)
    also = (f" (and so is {rs.date_bases[basis.fallback].column})" if basis.fallback else "")
    return DataGap(sheet=sheet, row=ctx.row, column=basis.column,
                   cell=f"{letter}{ctx.row}" if letter and ctx.row else None,
                   item_id=ctx.battery_id,
                   message=f"{basis.column} is empty or invalid{also}; the date the battery was "
                           f"{basis.label} selects the rule values")


def result_base(req: Any, day: dt.date | None, comparison: str | None) -> dict[str, Any]:
    """The fields every requirement result shares, taken from the requirement itself."""
    return dict(id=req.id, title=req.title, kind=req.kind, effect=req.effect.value,
                date_basis=req.date_basis, date=day, comparison=comparison,
                citation=[Citation(title=c.title, href=c.href) for c in req.citation])


def no_date_result(req: Any, rs: Ruleset, ctx: BatteryContext, bom: Bom, lookup: Any,
                   comparison: str | None) -> RequirementResult:
    """The result for a battery without the date that selects the requirement's values."""
    return RequirementResult(
        **result_base(req, None, comparison), status=Status.INSUFFICIENT_DATA,
        parameters=lookup.uses(),
        explanation=f"no valid date the battery was {rs.date_bases[req.date_basis].label}",
        gaps=[date_gap(ctx, rs, req.date_basis, bom)])


def row_gap(bom: Bom, req: Any, rec: dict[str, Any], column: str, message: str) -> DataGap:
    """A gap at one cell of the requirement's sheet, located as a person finds it."""
    letter = bom.letter(req.sheet, column)
    return DataGap(sheet=bom.display_sheet(req.sheet), row=rec["_row"], column=column,
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


# Every field of a line is given, and frozen models never change this set in place.
_LINE_FIELDS = set(LineResult.model_fields)
_new = object.__new__
_set = object.__setattr__


def line_result(sheet: str, row: int | None, item_id: str, value_usd: Decimal | None,
                share_pct: Decimal | None, reason: str, cells: list[str]) -> LineResult:
    """A :class:`LineResult` from values that already have their declared types.

    Equivalent to ``LineResult.model_construct(...)`` with every field given (``mass_kg``
    None), which costs ten times as much: big workbooks report hundreds of thousands of lines.
    """
    line = _new(LineResult)
    _set(line, "__dict__", {"sheet": sheet, "row": row, "item_id": item_id,
                            "value_usd": value_usd, "share_pct": share_pct, "mass_kg": None,
                            "reason": reason, "cells": cells})
    _set(line, "__pydantic_fields_set__", _LINE_FIELDS)
    _set(line, "__pydantic_extra__", None)
    _set(line, "__pydantic_private__", None)
    return line


def decimal_or_zero(x: Any) -> Decimal:
    """A sum from polars (None when there was nothing to add) as a Decimal."""
    return Decimal(0) if x is None else Decimal(x)


def pct_down(x: Decimal) -> Decimal:
    """A percentage for display, cut (never rounded up) to 4 places: 59.99999 shows 59.9999."""
    return x.quantize(PCT_PLACES, rounding=ROUND_DOWN)


def pct_up(x: Decimal) -> Decimal:
    return x.quantize(PCT_PLACES, rounding=ROUND_CEILING)


def share_of(value: object, total: object) -> Decimal | None:
    """A row's share of a total in percent, to 4 places (for display, never for a verdict)."""
    if value is None or not total:
        return None
    # Most values come from polars as Decimals already; Decimal(x) would only copy them.
    value = value if type(value) is Decimal else Decimal(value)  # type: ignore[arg-type]
    total = total if type(total) is Decimal else Decimal(total)  # type: ignore[arg-type]
    return (value * _HUNDRED / total).quantize(PCT_PLACES, ROUND_HALF_EVEN)


def cents_up(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_CEILING)


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
    return f"${x.quantize(CENT, rounding=ROUND_HALF_EVEN):,}"


def num(x: Decimal) -> str:
    """A decimal without trailing zeros: 60.0000 -> 60, 7.5000 -> 7.5."""
    text = format(x.normalize(), "f")
    return text

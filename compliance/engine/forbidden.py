"""Rule kind ``forbidden_rows``: rows in scope must not match a banned condition.

"No graphite processed in country X" is ``when: mineral is graphite`` and ``forbidden:
processing_country in banned_countries``. Both conditions are three-valued: a graphite row with
an empty processing country cannot be cleared and is a data gap.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl

from compliance.engine import predicate as P
from compliance.engine.context import (
    BatteryContext,
    data_gap,
    date_gap,
    excluded_gaps,
    line_result,
    money,
    pct_down,
    requirement_result,
    result_base,
    share_of,
    usd,
)
from compliance.engine.params import group_by_values, read_in_groups
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW
from compliance.report.model import DataGap, LineResult, RequirementResult, Status
from compliance.rules.model import ForbiddenRows, Ruleset

HIT = "__forbidden"


def evaluate_forbidden(
    req: ForbiddenRows, rs: Ruleset, bom: Bom, batteries: list[BatteryContext],
    *, list_lines: bool = True,
) -> dict[str, RequirementResult]:
    """Each battery's result; without ``list_lines`` the banned rows are not listed (see
    :func:`compliance.engine.audit.run_audit`)."""
    names = sorted({*P.params_in(req.when), *P.params_in(req.forbidden)})
    lookups, groups = group_by_values(rs, batteries, req.date_basis, names)
    columns = sorted({ROW, "battery_id", req.item_id, req.measure, *P.columns(req.forbidden),
                      *(P.columns(req.when) if req.when else [])})
    lines = bom.frame(req.sheet).select(columns)
    parts: list[pl.DataFrame] = []
    lists_of: dict[str, dict[str, list[str]]] = {}
    read_in_groups(lookups, groups, names)
    for ids in groups:
        found = {n: lookups[ids[0]].get(n) for n in names}
        lists = {n: list(v or []) for n, v in found.items()}
        for bid in ids:
            lists_of[bid] = lists
        expr = P.to_expr(req.forbidden, lists)
        if req.when is not None:
            expr = P.to_expr(req.when, lists) & expr
        parts.append(lines.filter(pl.col("battery_id").is_in(ids)).with_columns(expr.alias(HIT)))
    frame = pl.concat(parts) if parts else lines.with_columns(pl.lit(None).alias(HIT))
    totals = {b: t for b, t in frame.group_by("battery_id").agg(
        pl.col(req.measure).sum()).iter_rows()}
    flagged: dict[str, list[dict[str, Any]]] = {}
    for rec in frame.filter(pl.col(HIT).is_null() | pl.col(HIT)).iter_rows(named=True):
        flagged.setdefault(rec["battery_id"], []).append(rec)

    sheet = bom.display_sheet(req.sheet)
    results: dict[str, RequirementResult] = {}
    for ctx in batteries:
        lookup = lookups[ctx.battery_id]
        day = ctx.dates.get(req.date_basis)
        base = {**result_base(req, day, "at_most"), "parameters": lookup.uses(),
                "provisional": lookup.provisional}
        if day is None:
            results[ctx.battery_id] = requirement_result(
                **base, status=Status.INSUFFICIENT_DATA,
                explanation=f"no valid date the battery was {rs.date_bases[req.date_basis].label}",
                gaps=[date_gap(ctx, rs, req.date_basis, bom)])
            continue
        if any(lookup.get(n) is None for n in names):
            results[ctx.battery_id] = requirement_result(
                **base, status=Status.NOT_APPLICABLE,
                explanation=f"the policy's lists are not in force on {day}")
            continue
        lists = lists_of.get(ctx.battery_id, {})
        total = Decimal(totals.get(ctx.battery_id) or 0)
        gaps: list[DataGap] = excluded_gaps(ctx, req.sheet, bom)
        hits: list[LineResult] = []
        hit_value = Decimal(0)
        for rec in flagged.get(ctx.battery_id, []):
            if rec[HIT]:
                value = Decimal(rec[req.measure] or 0)
                hit_value += value
                why = P.matching(req.when, rec, lists) if req.when else []
                why += P.matching(req.forbidden, rec, lists)
                hits.append(line_result(
                    sheet=sheet, row=rec[ROW], item_id=str(rec[req.item_id]),
                    value_usd=usd(rec[req.measure]), share_pct=share_of(value, total),
                    reason=", ".join(why) + ": not allowed", cells=[]))
            else:
                unknown = sorted({c for c in P.columns(req.forbidden) if rec.get(c) is None}
                                 | ({c for c in P.columns(req.when) if rec.get(c) is None}
                                    if req.when else set()))
                for column in unknown:
                    letter = bom.letter(req.sheet, column)
                    gaps.append(data_gap(sheet=sheet, row=rec[ROW], column=column,
                                         cell=f"{letter}{rec[ROW]}" if letter else None,
                                         item_id=str(rec[req.item_id]),
                                         message=f"{column} is empty or invalid, so the row "
                                                 "cannot be cleared"))
        hits.sort(key=lambda x: (-(x.value_usd or 0), x.row))
        status = Status.FAIL if hits else (Status.INSUFFICIENT_DATA if gaps else Status.PASS)
        share = hit_value * 100 / total if total else None
        if hits:
            explanation = (f"{len(hits)} row{'s' if len(hits) != 1 else ''} "
                           f"({money(hit_value)}) not allowed: {hits[0].reason}")
        elif gaps:
            explanation = "no banned row found, but some rows cannot be cleared"
        else:
            explanation = "no row matches the banned conditions"
        results[ctx.battery_id] = requirement_result(
            **base, status=status, actual_pct=pct_down(share) if share is not None else None,
            required_pct=Decimal(0), shortfall_usd=usd(hit_value) if hits else None,
            shortfall_pct=pct_down(share) if hits and share else None,
            total_usd=usd(total) if total else None, explanation=explanation,
            lines=hits if list_lines else [], gaps=gaps)
    return results

"""Rule kind ``content_share``: the share of value carried by qualifying rows vs a threshold.

Lines are classified in one vectorised pass per group of batteries that share the same country
lists (lists change on dated boundaries, e.g. Japan joins the FTA list on 2023-03-28). Totals are
exact decimals; the comparison is ``qualifying * 100 >= threshold * total`` with no division, so
59.999999 % never passes a 60 % threshold.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import polars as pl

from compliance.engine import predicate as P
from compliance.engine.context import (
    BatteryContext,
    cents_up,
    column_rows,
    data_gap,
    date_gap,
    decimal_or_zero,
    excluded_gaps,
    line_result,
    money,
    num,
    number_distinct,
    pct_down,
    pct_up,
    requirement_result,
    result_base,
    row_gap,
    share_of,
    usd,
)
from compliance.engine.params import group_by_values, read_in_groups
from compliance.engine.traced import TracedLines, trace
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW
from compliance.report.model import DataGap, LineResult, RequirementResult, Status
from compliance.rules.model import ContentShare, Ruleset, Unit

Q = "__qualifies"
QV = "__qualifying_value"
UV = "__unknown_value"
TRACED = "__traced"
GROUP = "__group"  # which lists in force (by the battery's date) classified the row
WHY = "__why"  # which combination of lists and condition cells the row has


def list_params(pred: Any, rs: Ruleset) -> list[str]:
    names: set[str] = set()

    def walk(p: Any) -> None:
        if isinstance(p, P.AnyOf):
            for s in p.any:
                walk(s)
        elif isinstance(p, P.AllOf):
            for s in p.all:
                walk(s)
        else:
            names.update(p.in_ or ())

    walk(pred)
    return sorted(n for n in names if rs.parameters[n].unit in (Unit.COUNTRIES, Unit.NAMES))


def evaluate_share(
    req: ContentShare, rs: Ruleset, bom: Bom, batteries: list[BatteryContext],
    *, list_lines: bool = True,
) -> dict[str, RequirementResult]:
    """Each battery's share; without ``list_lines`` the rows that do not qualify are not
    listed (see :func:`compliance.engine.audit.run_audit`)."""
    lists_used = sorted({*list_params(req.qualifies, rs), *P.params_in(req.scope)})
    cols = sorted({ROW, "battery_id", req.item_id, req.measure, *P.columns(req.qualifies),
                   *(P.columns(req.scope) if req.scope else [])})
    lines = bom.frame(req.sheet).select(cols)

    lookups, groups = group_by_values(rs, batteries, req.date_basis, lists_used)

    classified: list[pl.DataFrame] = []
    lists_of_group: list[dict[str, list[str]]] = []
    no_lists: set[str] = set()
    read_in_groups(lookups, groups, lists_used)
    for group, ids in enumerate(groups):
        probe = lookups[ids[0]]
        found = {n: probe.get(n) for n in lists_used}
        lists_of_group.append({n: list(v or []) for n, v in found.items()})
        part = lines.filter(pl.col("battery_id").is_in(ids)).with_columns(
            pl.lit(group).alias(GROUP))
        if any(v is None for v in found.values()):
            # No list in force (no valid date, or a date before the ruleset's first): the rows
            # cannot be classified, which is not the same as not qualifying.
            no_lists.update(ids)
            classified.append(part.with_columns(pl.lit(None, pl.Boolean).alias(Q)))
            continue
        if req.scope is not None:
            # Rows outside the scope (say, lead under 30D) are not part of the share at all.
            part = part.filter(P.to_expr(req.scope, lists_of_group[group]).fill_null(True))
        classified.append(part.with_columns(
            P.to_expr(req.qualifies, lists_of_group[group]).alias(Q)))
    frame = (pl.concat(classified) if classified
             else lines.clear().with_columns(pl.lit(None, pl.Boolean).alias(Q),
                                             pl.lit(0).alias(GROUP)))

    m = pl.col(req.measure)
    # Qualifying and unknown value per row: all or nothing from the row's condition, or, for a
    # line whose value added is traced per stage, the traced amounts.
    wide = pl.Decimal(38, 12)
    frame = frame.with_columns(
        pl.when(pl.col(Q) == True).then(m).otherwise(pl.lit(0)).cast(wide).alias(QV),  # noqa: E712
        pl.when(pl.col(Q).is_null()).then(m).otherwise(pl.lit(0)).cast(wide).alias(UV))
    traced = trace(req, rs, bom, batteries, lookups)
    if traced is not None and traced.frame.height:
        frame = frame.join(traced.frame, on=["battery_id", req.item_id], how="left").with_columns(
            pl.coalesce("__tqv", QV).alias(QV), pl.coalesce("__tuv", UV).alias(UV),
            pl.when(pl.col("__tqv").is_null()).then(pl.col(Q))
            .otherwise(pl.col("__tuv") == 0).alias(Q),
            pl.col("__tqv").is_not_null().alias(TRACED)).drop("__tqv", "__tuv")
    else:
        frame = frame.with_columns(pl.lit(False).alias(TRACED))
    sums = frame.group_by("battery_id").agg(
        m.sum().alias("total"),
        pl.col(QV).sum().alias("qualifying"),
        pl.col(UV).sum().alias("unknown"),
        m.is_null().sum().alias("missing_measure"),
        pl.len().alias("lines"),
    )
    agg = {r["battery_id"]: r for r in sums.iter_rows(named=True)}
    partial = pl.col(TRACED) & (pl.col(QV) < m.cast(wide))
    not_qualifying = ((pl.col(Q) == False) & ~pl.col(TRACED)) | partial  # noqa: E712
    unknown_qualification = (pl.col(Q).is_null() & ~pl.col(TRACED)) | m.is_null()
    # A row's reason depends only on the cells the condition reads, and many rows share them.
    # Unlisted rows need none: then only rows whose qualification is unknown are explained.
    explain = (not_qualifying | unknown_qualification) if list_lines else unknown_qualification
    explained, whys = _explain_rows(frame.filter(explain), req, rs, lists_of_group)
    total_of = {b: decimal_or_zero(r["total"]) for b, r in agg.items()}
    lines_of = (_lines(explained.filter(not_qualifying), req, bom, whys, total_of, traced)
                if list_lines else {})
    # Rows that could not be classified at all are not gaps of their own (the date is).
    row_gaps = _row_gaps(explained.filter(unknown_qualification
                                          & ~pl.col("battery_id").is_in(list(no_lists))),
                         req, bom, whys)

    sheet_name = bom.display_sheet(req.sheet)
    base = result_base(req, None, "at_least")  # the same for every battery but the date
    results: dict[str, RequirementResult] = {}
    for ctx in batteries:
        lookup = lookups[ctx.battery_id]
        day = ctx.dates.get(req.date_basis)
        threshold: Decimal | None = lookup.get(req.threshold)
        credit: Decimal | None = lookup.get(req.credit) if req.credit else None
        row = agg.get(ctx.battery_id)
        total = decimal_or_zero(row["total"]) if row else Decimal(0)
        qualifying = decimal_or_zero(row["qualifying"]) if row else Decimal(0)
        unknown = decimal_or_zero(row["unknown"]) if row else Decimal(0)

        gaps = excluded_gaps(ctx, req.sheet, bom)
        if day is None:
            gaps.append(date_gap(ctx, rs, req.date_basis, bom))
        elif ctx.battery_id not in no_lists:
            gaps.extend(row_gaps.get(ctx.battery_id, []))
            if row is None and threshold is not None:
                gaps.append(data_gap(
                    sheet=sheet_name, row=None, column=None, cell=None, item_id=ctx.battery_id,
                    message=f"the {sheet_name} sheet has no rows for battery {ctx.battery_id}"))

        if traced is not None:
            gaps.extend(traced.gaps.get(ctx.battery_id, []))

        actual = (qualifying * 100 / total) if total and ctx.battery_id not in no_lists else None
        blocking = bool(ctx.excluded.get(req.sheet)) or bool(row and row["missing_measure"])
        status, shortfall_pct, shortfall_usd = _verdict(
            threshold, total, qualifying, unknown, blocking, row is not None and total > 0,
            day is not None)
        explanation = _explain(req, rs, status, day, actual, threshold, shortfall_pct,
                               shortfall_usd, total, qualifying, unknown, row, gaps)
        if traced is not None and ctx.battery_id in traced.notes:
            explanation += f" (method: {traced.notes[ctx.battery_id]})"
        results[ctx.battery_id] = requirement_result(
            **{**base, "date": day}, status=status,
            actual_pct=pct_down(actual) if actual is not None else None,
            required_pct=threshold, shortfall_pct=shortfall_pct, shortfall_usd=shortfall_usd,
            total_usd=usd(total) if row else None,
            qualifying_usd=usd(qualifying) if row else None,
            credit_usd=credit if status is Status.PASS else None,
            explanation=explanation, lines=lines_of.get(ctx.battery_id, []), gaps=gaps,
            parameters=lookup.uses(), provisional=lookup.provisional)
    return results


def _verdict(
    threshold: Decimal | None, total: Decimal, qualifying: Decimal, unknown: Decimal,
    blocking: bool, has_lines: bool, has_date: bool,
) -> tuple[Status, Decimal | None, Decimal | None]:
    """Three-valued verdict. Unknown-qualification value bounds the share from above; a
    blocking gap (a row left out, a value missing) leaves the total itself unknown."""
    if not has_date:
        return Status.INSUFFICIENT_DATA, None, None
    if threshold is None:
        return Status.NOT_APPLICABLE, None, None
    if not has_lines:
        return Status.INSUFFICIENT_DATA, None, None
    reaches = qualifying * 100 >= threshold * total
    shortfall_pct = shortfall_usd = None
    if not reaches:
        shortfall_pct = pct_up(threshold - qualifying * 100 / total)
        shortfall_usd = cents_up(threshold * total / 100 - qualifying)
    if blocking:
        return Status.INSUFFICIENT_DATA, shortfall_pct, shortfall_usd
    if reaches:
        return Status.PASS, None, None
    if (qualifying + unknown) * 100 < threshold * total:
        return Status.FAIL, shortfall_pct, shortfall_usd
    return Status.INSUFFICIENT_DATA, shortfall_pct, shortfall_usd


def _explain(req, rs, status, day, actual, threshold, shortfall_pct, shortfall_usd, total,  # type: ignore[no-untyped-def]
             qualifying, unknown, row, gaps) -> str:
    basis = rs.date_bases[req.date_basis].label
    if day is None:
        return f"no valid date the battery was {basis}, so no threshold can be chosen"
    if row is None or not total:
        if threshold is None:
            return f"no {req.title.lower()} threshold applies for batteries {basis} on {day}"
        return f"no usable {req.sheet} rows with a value for this battery"
    if actual is None:
        return f"the rows cannot be classified: no country list of the ruleset applies on {day}"
    share = f"{num(pct_down(actual))} % of {money(total)} qualifies ({money(qualifying)})"
    if threshold is None:
        return f"{share}; no threshold applies for batteries {basis} on {day}"
    need = f"{num(threshold)} % is required for batteries {basis} on {day}"
    if status is Status.PASS:
        return f"{share}; {need}"
    if status is Status.FAIL:
        return (f"{share}; {need}: short by {num(shortfall_pct)} points, "
                f"{money(shortfall_usd)} more qualifying value needed")
    if unknown:
        return (f"{share}, and {money(unknown)} cannot be classified for missing data; {need}")
    return f"{share}; {need}; rows this result depends on could not be used"


Why = tuple[str, list[str]]  # why a row does not qualify, in words; the empty cells it needs


def _explain_rows(frame: pl.DataFrame, req: ContentShare, rs: Ruleset,
                  lists_of_group: list[dict[str, list[str]]]) -> tuple[pl.DataFrame, list[Why]]:
    """Number the rows of ``frame`` (column ``WHY``) by the lists in force and the cells the
    condition reads, and explain each distinct combination once."""
    columns = P.columns(req.qualifies)
    labels = {n: (p.label or n) for n, p in rs.parameters.items()}
    numbered, combinations = number_distinct(frame, [GROUP, *columns], WHY)
    whys: list[Why] = []
    for group, *cells in combinations:
        phrases, unknown = P.explain(req.qualifies, dict(zip(columns, cells, strict=True)),
                                     lists_of_group[group], labels.__getitem__)
        whys.append(("; ".join(phrases) or "does not qualify", unknown))
    return numbered, whys


def _lines(frame: pl.DataFrame, req: ContentShare, bom: Bom, whys: list[Why],
           totals: dict[str, Decimal], traced: TracedLines | None) -> dict[str, list[LineResult]]:
    """Each battery's rows that do not (fully) qualify, as report lines: the largest value
    first (an empty one counts as 0), then by row."""
    sheet = bom.display_sheet(req.sheet)
    letters = [x for x in (bom.letter(req.sheet, c) for c in P.columns(req.qualifies)) if x]
    ordered = frame.sort([pl.col(req.measure).fill_null(0), ROW], descending=[True, False],
                         maintain_order=True)
    out: dict[str, list[LineResult]] = defaultdict(list)
    for battery, row, item, value, is_traced, why in column_rows(
            ordered, "battery_id", ROW, req.item_id, req.measure, TRACED, WHY):
        reason = (traced.reasons[(battery, str(item))] if is_traced  # type: ignore[union-attr]
                  else whys[why][0])
        out[battery].append(line_result(
            sheet, row, str(item), usd(value), share_of(value, totals[battery]), reason,
            [f"{letter}{row}" for letter in letters]))
    return out


def _row_gaps(frame: pl.DataFrame, req: ContentShare, bom: Bom,
              whys: list[Why]) -> dict[str, list[DataGap]]:
    """Each battery's gaps for rows whose value or qualification is unknown, in sheet order."""
    out: dict[str, list[DataGap]] = defaultdict(list)
    for battery, row, item, value, why in column_rows(
            frame, "battery_id", ROW, req.item_id, req.measure, WHY):
        rec = {ROW: row, req.item_id: item}
        if value is None:
            out[battery].append(row_gap(bom, req, rec, req.measure,
                                        f"{req.measure} is empty or invalid"))
        out[battery].extend(
            row_gap(bom, req, rec, col,
                    f"{col} is empty or invalid, so the row's qualification is unknown")
            for col in dict.fromkeys(whys[why][1]))
    return out

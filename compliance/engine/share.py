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
    date_gap,
    excluded_gaps,
    money,
    num,
    pct_down,
    pct_up,
    row_gap,
    share_of,
    usd,
)
from compliance.engine.params import ParamLookup
from compliance.engine.traced import trace
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW
from compliance.report.model import Citation, DataGap, LineResult, RequirementResult, Status
from compliance.rules.model import ContentShare, Ruleset, Unit

Q = "__qualifies"
QV = "__qualifying_value"
UV = "__unknown_value"
TRACED = "__traced"


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
    req: ContentShare, rs: Ruleset, bom: Bom, batteries: list[BatteryContext]
) -> dict[str, RequirementResult]:
    lists_used = sorted({*list_params(req.qualifies, rs), *P.params_in(req.scope)})
    cols = sorted({ROW, "battery_id", req.item_id, req.measure, *P.columns(req.qualifies),
                   *(P.columns(req.scope) if req.scope else [])})
    lines = bom.frame(req.sheet).select(cols)

    lookups: dict[str, ParamLookup] = {}
    groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for ctx in batteries:
        day = ctx.dates.get(req.date_basis)
        lookup = ParamLookup(rs, day)
        lookups[ctx.battery_id] = lookup
        groups[tuple(lookup.start(n) for n in lists_used)].append(ctx.battery_id)

    classified: list[pl.DataFrame] = []
    lists_by_battery: dict[str, dict[str, list[str]]] = {}
    no_lists: set[str] = set()
    for ids in groups.values():
        probe = lookups[ids[0]]
        found = {n: probe.get(n) for n in lists_used}
        lists = {n: list(v or []) for n, v in found.items()}
        for bid in ids:
            for n in lists_used:
                lookups[bid].get(n)
            lists_by_battery[bid] = lists
        part = lines.filter(pl.col("battery_id").is_in(ids))
        if any(v is None for v in found.values()):
            # No list in force (no valid date, or a date before the ruleset's first): the rows
            # cannot be classified, which is not the same as not qualifying.
            no_lists.update(ids)
            classified.append(part.with_columns(pl.lit(None, pl.Boolean).alias(Q)))
            continue
        if req.scope is not None:
            # Rows outside the scope (say, lead under 30D) are not part of the share at all.
            part = part.filter(P.to_expr(req.scope, lists).fill_null(True))
        classified.append(part.with_columns(P.to_expr(req.qualifies, lists).alias(Q)))
    frame = pl.concat(classified) if classified else lines.with_columns(pl.lit(None).alias(Q))

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
    totals = frame.group_by("battery_id").agg(
        m.sum().alias("total"),
        pl.col(QV).sum().alias("qualifying"),
        pl.col(UV).sum().alias("unknown"),
        m.is_null().sum().alias("missing_measure"),
        pl.len().alias("lines"),
    )
    agg = {r["battery_id"]: r for r in totals.iter_rows(named=True)}
    partial = pl.col(TRACED) & (pl.col(QV) < m.cast(wide))
    non_qualifying = _by_battery(frame.filter(((pl.col(Q) == False) & ~pl.col(TRACED))  # noqa: E712
                                              | partial))
    unknown_rows = _by_battery(frame.filter((pl.col(Q).is_null() & ~pl.col(TRACED))
                                            | m.is_null()))

    sheet_name = bom.display_sheet(req.sheet)
    labels = {n: (p.label or n) for n, p in rs.parameters.items()}
    # A reason depends only on the cells the condition reads, and many rows share them.
    reasons = _Reasons(req, bom)
    results: dict[str, RequirementResult] = {}
    for ctx in batteries:
        lookup = lookups[ctx.battery_id]
        day = ctx.dates.get(req.date_basis)
        threshold: Decimal | None = lookup.get(req.threshold)
        credit: Decimal | None = lookup.get(req.credit) if req.credit else None
        row = agg.get(ctx.battery_id)
        total = _dec(row["total"]) if row else Decimal(0)
        qualifying = _dec(row["qualifying"]) if row else Decimal(0)
        unknown = _dec(row["unknown"]) if row else Decimal(0)
        lists = lists_by_battery.get(ctx.battery_id, {})

        gaps = excluded_gaps(ctx, req.sheet, bom)
        if day is None:
            gaps.append(date_gap(ctx, rs, req.date_basis, bom))
        elif ctx.battery_id not in no_lists:
            for rec in unknown_rows.get(ctx.battery_id, []):
                gaps.extend(_gaps_for(rec, req, lists, labels, bom))
            if row is None and threshold is not None:
                gaps.append(DataGap(
                    sheet=sheet_name, row=None, column=None, cell=None, item_id=ctx.battery_id,
                    message=f"the {sheet_name} sheet has no rows for battery {ctx.battery_id}"))

        bad_lines = [
            _line(rec, req, total, lists, labels, sheet_name, bom, reasons, traced)
            for rec in non_qualifying.get(ctx.battery_id, [])
        ]
        if traced is not None:
            gaps.extend(traced.gaps.get(ctx.battery_id, []))
        bad_lines.sort(key=lambda x: (-(x.value_usd or 0), x.row))

        actual = (qualifying * 100 / total) if total and ctx.battery_id not in no_lists else None
        blocking = bool(ctx.excluded.get(req.sheet)) or bool(row and row["missing_measure"])
        status, shortfall_pct, shortfall_usd = _verdict(
            threshold, total, qualifying, unknown, blocking, row is not None and total > 0,
            day is not None)
        explanation = _explain(req, rs, status, day, actual, threshold, shortfall_pct,
                               shortfall_usd, total, qualifying, unknown, row, gaps)
        if traced is not None and ctx.battery_id in traced.notes:
            explanation += f" (method: {traced.notes[ctx.battery_id]})"
        results[ctx.battery_id] = RequirementResult(
            id=req.id, title=req.title, kind=req.kind, effect=req.effect.value, status=status,
            date_basis=req.date_basis, date=day, comparison="at_least",
            actual_pct=pct_down(actual) if actual is not None else None,
            required_pct=threshold, shortfall_pct=shortfall_pct, shortfall_usd=shortfall_usd,
            total_usd=usd(total) if row else None,
            qualifying_usd=usd(qualifying) if row else None,
            credit_usd=credit if status is Status.PASS else None,
            explanation=explanation, lines=bad_lines, gaps=gaps,
            parameters=lookup.uses(), provisional=lookup.provisional,
            citation=[Citation(title=c.title, href=c.href) for c in req.citation])
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


def _dec(x: Any) -> Decimal:
    return Decimal(0) if x is None else Decimal(x)


def _by_battery(frame: pl.DataFrame) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in frame.iter_rows(named=True):
        out[rec["battery_id"]].append(rec)
    return out


class _Reasons:
    """Memoised plain-English reasons, keyed by the values of the cells the condition reads."""

    def __init__(self, req: ContentShare, bom: Bom):
        self.req = req
        self.columns = P.columns(req.qualifies)
        self.letters = [x for x in (bom.letter(req.sheet, c) for c in self.columns) if x]
        self.cache: dict[tuple[Any, ...], str] = {}

    def __call__(self, rec: dict[str, Any], lists: Any, labels: dict[str, str]) -> str:
        key = (id(lists), *(rec[c] for c in self.columns))
        text = self.cache.get(key)
        if text is None:
            phrases, _ = P.explain(self.req.qualifies, rec, lists, labels.__getitem__)
            text = self.cache[key] = "; ".join(phrases) or "does not qualify"
        return text


def _line(rec, req, total, lists, labels, sheet_name, bom, reasons, traced) -> LineResult:  # type: ignore[no-untyped-def]
    value = rec[req.measure]
    if rec[TRACED]:
        reason = traced.reasons[(rec["battery_id"], str(rec[req.item_id]))]
    else:
        reason = reasons(rec, lists, labels)
    share = share_of(value, total)
    row = rec[ROW]
    cells = [f"{letter}{row}" for letter in reasons.letters]
    # Built without re-validation: every field is already of its declared type.
    return LineResult.model_construct(
        sheet=sheet_name, row=rec[ROW], item_id=str(rec[req.item_id]), value_usd=usd(value),
        share_pct=share, reason=reason, cells=cells, mass_kg=None)


def _gaps_for(rec, req, lists, labels, bom) -> list[DataGap]:  # type: ignore[no-untyped-def]
    gaps: list[DataGap] = []
    if rec[req.measure] is None:
        gaps.append(row_gap(bom, req, rec, req.measure, f"{req.measure} is empty or invalid"))
    _, unknown_cols = P.explain(req.qualifies, rec, lists, lambda n: labels[n])
    for col in dict.fromkeys(unknown_cols):
        gaps.append(row_gap(bom, req, rec, col, f"{col} is empty or invalid, so the row's "
                                                "qualification is unknown"))
    return gaps

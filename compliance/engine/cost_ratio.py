"""Rule kind ``cost_ratio``: the material assistance cost ratio of IRC 45X / 48E.

ratio = (total direct costs - costs attributable to prohibited foreign entities) / total. A row's
attributable cost is the supplier-certified figure when one is given (Notice 2026-15's
certification safe harbour), otherwise all of its cost when the supplier is caught by the entity
test and none when it is cleared. A supplier whose status is unknown leaves its cost unknown,
which bounds the ratio from both sides; the verdict waits for data only when the bounds
straddle the threshold. Comparison is exact: ``(total - attributable) * 100 >= threshold *
total``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from compliance.engine.context import (
    BatteryContext,
    cents_up,
    excluded_gaps,
    line_result,
    money,
    no_date_result,
    num,
    pct_down,
    pct_up,
    requirement_result,
    result_base,
    row_gap,
    share_of,
    usd,
)
from compliance.engine.entities import (
    EntitySheets,
    EntityTests,
    describe_unknown,
    parameters_of,
)
from compliance.engine.params import group_by_values
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW
from compliance.report.model import DataGap, RequirementResult, Status
from compliance.rules.model import CostRatio, Ruleset


def evaluate_cost_ratio(
    req: CostRatio, rs: Ruleset, bom: Bom, batteries: list[BatteryContext],
    *, list_lines: bool = True,
) -> dict[str, RequirementResult]:
    """Each battery's ratio; without ``list_lines`` the attributable rows are not listed (see
    :func:`compliance.engine.audit.run_audit`)."""
    names = [req.threshold, *([req.in_force] if req.in_force else []),
             *parameters_of(rs, req.entity_test)]
    lookups, groups = group_by_values(rs, batteries, req.date_basis, names)
    tests: dict[str, EntityTests] = {}
    sheets = EntitySheets.of(bom.entities, bom.ownership)
    for ids in groups:
        shared = EntityTests(rs, sheets, lookups[ids[0]])
        for bid in ids:
            tests[bid] = shared
    rows: dict[str, list[dict[str, Any]]] = {}
    columns = [ROW, "battery_id", req.item_id, req.cost, req.supplier,
               *([req.certified_cost] if req.certified_cost else [])]
    for rec in bom.frame(req.sheet).select(columns).iter_rows(named=True):
        rows.setdefault(rec["battery_id"], []).append(rec)

    title = rs.entity_tests[req.entity_test].title
    sheet = bom.display_sheet(req.sheet)
    results: dict[str, RequirementResult] = {}
    for ctx in batteries:
        lookup = lookups[ctx.battery_id]
        day = ctx.dates.get(req.date_basis)
        threshold = lookup.get(req.threshold)
        active = lookup.get(req.in_force) if req.in_force else True
        for name in parameters_of(rs, req.entity_test):
            lookup.get(name)
        base = result_base(req, day, "at_least")
        if day is None:
            results[ctx.battery_id] = no_date_result(req, rs, ctx, bom, lookup, "at_least")
            continue
        if threshold is None or active is not True:
            results[ctx.battery_id] = requirement_result(
                **base, status=Status.NOT_APPLICABLE, parameters=lookup.uses(),
                provisional=lookup.provisional,
                explanation=f"no cost-ratio threshold applies on {day}")
            continue
        total = Decimal(0)
        attributable = Decimal(0)
        unknown = Decimal(0)
        gaps: list[DataGap] = excluded_gaps(ctx, req.sheet, bom)
        caught_rows: list[tuple[dict[str, Any], Decimal, str]] = []
        blocking = bool(gaps)
        for rec in rows.get(ctx.battery_id, []):
            cost = rec[req.cost]
            if cost is None:
                blocking = True
                gaps.append(row_gap(bom, req, rec, req.cost, f"{req.cost} is empty or invalid"))
                continue
            cost = Decimal(cost)
            total += cost
            certified = rec.get(req.certified_cost) if req.certified_cost else None
            supplier = rec[req.supplier]
            if certified is not None:
                part = min(Decimal(certified), cost)
                attributable += part
                if part:
                    caught_rows.append((rec, part, f"supplier certifies {money(part)} of the "
                                                   f"cost as attributable to a {title}"))
                continue
            if supplier is None:
                unknown += cost
                gaps.append(row_gap(bom, req, rec, req.supplier,
                                 f"{req.supplier} is empty: the cost cannot be cleared"))
                continue
            caught, why, missing = tests[ctx.battery_id].judge(req.entity_test, supplier)
            if caught:
                attributable += cost
                caught_rows.append((rec, cost, f"supplied by {supplier}: " + "; ".join(why)))
            elif caught is None:
                unknown += cost
                gaps.append(row_gap(bom, req, rec, req.supplier,
                                 f"supplier {supplier}'s cost cannot be cleared: "
                                 f"{describe_unknown(missing)}"))
        if total == 0:
            results[ctx.battery_id] = requirement_result(
                **base, status=Status.INSUFFICIENT_DATA, required_pct=threshold,
                parameters=lookup.uses(), provisional=lookup.provisional, gaps=gaps,
                explanation=f"no usable {sheet} rows with a cost for this battery")
            continue
        clean = total - attributable
        worst = clean - unknown
        ratio = clean * 100 / total
        reaches_best = clean * 100 >= threshold * total
        reaches_worst = worst * 100 >= threshold * total
        shortfall_pct = shortfall_usd = None
        if not reaches_worst:
            shortfall_pct = pct_up(threshold - worst * 100 / total)
            shortfall_usd = cents_up(threshold * total / 100 - worst)
        if blocking:
            status = Status.INSUFFICIENT_DATA
        elif reaches_worst:
            status = Status.PASS
        elif not reaches_best:
            status = Status.FAIL
        else:
            status = Status.INSUFFICIENT_DATA
        lines = [line_result(sheet, rec[ROW], str(rec[req.item_id]), usd(part),
                             share_of(part, total), reason, [])
                 for rec, part, reason in caught_rows] if list_lines else []
        lines.sort(key=lambda x: (-(x.value_usd or 0), x.row))
        shown = pct_down(worst * 100 / total)
        explanation = (f"cost ratio {num(shown)} % ({money(worst)} of {money(total)} not "
                       f"attributable to a {title}); {num(threshold)} % required on {day}")
        if unknown:
            explanation += (f"; {money(unknown)} of cost has unknown status, so the ratio is "
                            f"between {num(shown)} % and {num(pct_down(ratio))} %")
        if status is Status.FAIL:
            explanation += (f": short by {num(shortfall_pct)} points; {money(shortfall_usd)} "
                            "of attributable cost must be replaced")
        results[ctx.battery_id] = requirement_result(
            **base, status=status, actual_pct=shown, required_pct=threshold,
            shortfall_pct=shortfall_pct if status is not Status.PASS else None,
            shortfall_usd=shortfall_usd if status is not Status.PASS else None,
            total_usd=usd(total), qualifying_usd=usd(worst), explanation=explanation,
            lines=lines, gaps=gaps, parameters=lookup.uses(), provisional=lookup.provisional)
    return results


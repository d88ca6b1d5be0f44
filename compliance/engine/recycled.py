"""Rule kind ``recycled_content``: per material, the mass share recovered from waste.

For each material with a minimum in force (EU 2023/1542 Art. 8: cobalt, lead, lithium, nickel),
the share is the mass of the battery's rows of that material marked as recovered from waste over
the mass of all its rows of that material. A minimum of 0 % is the documentation phase: the share
must be computable (every row has its mass), whatever it is.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Any

from compliance.engine.context import (
    BatteryContext,
    data_gap,
    excluded_gaps,
    line_result,
    no_date_result,
    num,
    pct_down,
    requirement_result,
    result_base,
)
from compliance.engine.params import ParamLookup
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW
from compliance.report.model import DataGap, LineResult, RequirementResult, Status
from compliance.rules.model import RecycledContent, Ruleset

GRAM = Decimal("0.001")


def evaluate_recycled(
    req: RecycledContent, rs: Ruleset, bom: Bom, batteries: list[BatteryContext],
    *, list_lines: bool = True,
) -> dict[str, RequirementResult]:
    """Each battery's shares; without ``list_lines`` the failing materials are not listed (see
    :func:`compliance.engine.audit.run_audit`)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    columns = [ROW, "battery_id", req.item_id, req.material, req.mass, req.recovered]
    for rec in bom.frame(req.sheet).select(columns).iter_rows(named=True):
        rows.setdefault(rec["battery_id"], []).append(rec)
    sheet = bom.display_sheet(req.sheet)
    results: dict[str, RequirementResult] = {}
    for ctx in batteries:
        day = ctx.dates.get(req.date_basis)
        lookup = ParamLookup(rs, day)
        table = lookup.get(req.minimums)
        base = result_base(req, day, "at_least")
        if day is None:
            results[ctx.battery_id] = no_date_result(req, rs, ctx, bom, lookup, "at_least")
            continue
        if not table:
            results[ctx.battery_id] = requirement_result(
                **base, status=Status.NOT_APPLICABLE, parameters=lookup.uses(),
                explanation=f"no recycled-content obligation in force on {day}")
            continue
        minimums = {k.lower(): Decimal(str(v)) for k, v in table.items()}
        gaps: list[DataGap] = excluded_gaps(ctx, req.sheet, bom)
        totals: dict[str, list[Decimal]] = {m: [Decimal(0), Decimal(0)] for m in minimums}
        for rec in rows.get(ctx.battery_id, []):
            material = rec[req.material]
            if material not in minimums:
                continue
            if rec[req.mass] is None:
                letter = bom.letter(req.sheet, req.mass)
                gaps.append(data_gap(sheet=sheet, row=rec[ROW], column=req.mass,
                                     cell=f"{letter}{rec[ROW]}" if letter else None,
                                     item_id=str(rec[req.item_id]),
                                     message=f"{req.mass} is empty or invalid; the recycled "
                                             f"share of {material} cannot be computed"))
                continue
            mass = Decimal(rec[req.mass])
            totals[material][0] += mass
            if rec[req.recovered] is True:
                totals[material][1] += mass
        per_material: list[LineResult] = []
        # (margin, material, share, minimum, missing kg) of the material furthest below its minimum
        worst: tuple[Decimal, str, Decimal, Decimal, Decimal] | None = None
        for material, (total, recovered) in totals.items():
            if total == 0:
                continue
            minimum = minimums[material]
            share = recovered * 100 / total
            missing_kg = Decimal(0)
            if recovered * 100 < minimum * total:
                # x more recovered mass replacing virgin mass: (recovered + x) / total >= min.
                missing_kg = (minimum * total / 100 - recovered).quantize(
                    GRAM, rounding=ROUND_CEILING)
            reason = (f"{material}: {num(pct_down(share))} % of {num(total)} kg recovered from "
                      f"waste; {num(minimum)} % required")
            if missing_kg:
                reason += f"; {num(missing_kg)} kg more recovered {material} needed"
            per_material.append(line_result(sheet=sheet, row=None, item_id=material,
                                            value_usd=None, share_pct=pct_down(share),
                                            reason=reason, cells=[], mass_kg=total))
            margin = share - minimum
            if worst is None or margin < worst[0]:
                worst = (margin, material, share, minimum, missing_kg)
        blocking = bool(gaps)
        if worst is None:
            status = Status.INSUFFICIENT_DATA if blocking else Status.NOT_APPLICABLE
            explanation = ("no rows of " + ", ".join(minimums) + " with a mass"
                           if blocking else "the battery holds none of " + ", ".join(minimums))
            results[ctx.battery_id] = requirement_result(
                **base, status=status, explanation=explanation, gaps=gaps,
                parameters=lookup.uses(), provisional=lookup.provisional)
            continue
        margin, material, share, minimum, missing_kg = worst
        failing = [line for line in per_material if "more recovered" in line.reason]
        if blocking:
            status = Status.INSUFFICIENT_DATA
        elif failing:
            status = Status.FAIL
        else:
            status = Status.PASS
        explanation = "; ".join(line.reason for line in per_material)
        results[ctx.battery_id] = requirement_result(
            **base, status=status, actual_pct=pct_down(share), required_pct=minimum,
            shortfall_pct=(minimum - share).quantize(Decimal("0.0001"), rounding=ROUND_CEILING)
            if margin < 0 else None,
            shortfall_kg=missing_kg or None, explanation=explanation,
            lines=failing if status is not Status.PASS and list_lines else [], gaps=gaps,
            parameters=lookup.uses(), provisional=lookup.provisional)
        # Every material's share is in the explanation; failing ones are also listed as lines.
    return results

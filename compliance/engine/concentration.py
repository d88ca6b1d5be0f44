"""Rule kind ``concentration_cap``: no single country supplies more than a cap of a material.

For each battery, material (``group_by``) and stage (extraction, processing, ...), the value of
the rows whose stage took place in each country is summed and compared with the material's total
value. A country above the cap breaks the rule unless it is exempt (e.g. the EU's own member
states under the Critical Raw Materials Act benchmark). Rows with no country for a stage are
unknown: they could belong to the top country.
"""

from __future__ import annotations

from collections import defaultdict
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
    requirement_result,
    result_base,
    row_gap,
    share_of,
    usd,
)
from compliance.engine.params import ParamLookup
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW
from compliance.report.model import DataGap, LineResult, RequirementResult, Status
from compliance.rules.model import ConcentrationCap, Ruleset


def evaluate_concentration(
    req: ConcentrationCap, rs: Ruleset, bom: Bom, batteries: list[BatteryContext],
    *, list_lines: bool = True,
) -> dict[str, RequirementResult]:
    """Each battery's result; without ``list_lines`` the rows over the cap are not listed (see
    :func:`compliance.engine.audit.run_audit`)."""
    columns = {ROW, "battery_id", req.item_id, req.group_by, req.measure,
               *(s.country for s in req.stages if s.country)}
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in bom.frame(req.sheet).select(sorted(columns)).iter_rows(named=True):
        rows[rec["battery_id"]].append(rec)
    sheet = bom.display_sheet(req.sheet)
    results: dict[str, RequirementResult] = {}
    for ctx in batteries:
        day = ctx.dates.get(req.date_basis)
        lookup = ParamLookup(rs, day)
        cap = lookup.get(req.cap)
        exempt = set(lookup.get(req.exempt) or []) if req.exempt else set()
        base = result_base(req, day, "at_most")
        if day is None:
            results[ctx.battery_id] = no_date_result(req, rs, ctx, bom, lookup, "at_most")
            continue
        if cap is None:
            results[ctx.battery_id] = requirement_result(
                **base, status=Status.NOT_APPLICABLE, parameters=lookup.uses(),
                explanation=f"no concentration cap in force on {day}")
            continue
        gaps: list[DataGap] = excluded_gaps(ctx, req.sheet, bom)
        blocking = bool(gaps)
        by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for rec in rows.get(ctx.battery_id, []):
            if rec[req.measure] is None:
                blocking = True
                gaps.append(row_gap(bom, req, rec, req.measure,
                                    f"{req.measure} is empty or invalid"))
                continue
            by_group[rec[req.group_by]].append(rec)
        breaches: list[LineResult] = []
        worst_share = Decimal(0)
        must_move = Decimal(0)
        unsure = False
        notes: list[str] = []
        for group, recs in sorted(by_group.items(), key=lambda kv: str(kv[0])):
            total = sum((Decimal(r[req.measure]) for r in recs), Decimal(0))
            if total == 0:
                continue
            for stage in req.stages:
                per_country: dict[str, Decimal] = defaultdict(Decimal)
                unknown = Decimal(0)
                for r in recs:
                    country = r[stage.country] if stage.country else None
                    if country is None:
                        unknown += Decimal(r[req.measure])
                        gaps.append(row_gap(bom, req, r, stage.country or "",
                                         f"{stage.country} is empty: the {stage.name} country "
                                         f"of this {group} is unknown"))
                    else:
                        per_country[country] += Decimal(r[req.measure])
                counted = {c: v for c, v in per_country.items() if c not in exempt}
                if not counted and not unknown:
                    continue
                top = max(counted, key=counted.__getitem__) if counted else None
                top_value = counted.get(top, Decimal(0)) if top else Decimal(0)
                share = top_value * 100 / total
                worst_share = max(worst_share, share)
                if top and top_value * 100 > cap * total:
                    excess = cents_up(top_value - cap * total / 100)
                    must_move += excess
                    notes.append(f"{group} {stage.verb} in {top}: {num(pct_down(share))} % of "
                                 f"{money(total)} (cap {num(cap)} %); {money(excess)} must move "
                                 "to other countries")
                    for r in recs:
                        if r[stage.country] == top:
                            value = Decimal(r[req.measure])
                            breaches.append(line_result(
                                sheet=sheet, row=r[ROW], item_id=str(r[req.item_id]),
                                value_usd=usd(value), share_pct=share_of(value, total),
                                reason=f"{group} {stage.verb} in {top}, which supplies "
                                       f"{num(pct_down(share))} % of the battery's {group} "
                                       f"value at this stage (cap {num(cap)} %)", cells=[]))
                elif (top_value + unknown) * 100 > cap * total:
                    unsure = True
        if breaches:
            status = Status.FAIL
        elif blocking or unsure:
            status = Status.INSUFFICIENT_DATA
        elif not by_group:
            status = Status.INSUFFICIENT_DATA
            notes.append(f"no {req.sheet} rows with a value for this battery")
        else:
            status = Status.PASS
        explanation = ("; ".join(notes) if notes else
                       f"no country supplies more than {num(cap)} % of any {req.group_by} at "
                       f"any stage (largest {num(pct_down(worst_share))} %)")
        results[ctx.battery_id] = requirement_result(
            **base, status=status, actual_pct=pct_down(worst_share), required_pct=cap,
            shortfall_pct=pct_down(worst_share - cap) if breaches else None,
            shortfall_usd=must_move if breaches else None, explanation=explanation,
            lines=breaches if list_lines else [], gaps=gaps, parameters=lookup.uses(),
            provisional=lookup.provisional)
    return results


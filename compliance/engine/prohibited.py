"""Rule kind ``prohibited_entity``: no row may have an activity performed by a flagged entity.

An entity test (say, "foreign entity of concern") is a list of checks from the ruleset: the
activity's country is a covered nation, the entity is incorporated or headquartered in one, a
government holds at least a threshold of votes, seats or equity, a contract gives effective
control, or the entity is on a named list. Each check is three-valued: an empty cell is unknown,
and a line whose entity cannot be cleared (no entity named, entity not in the entities sheet,
ownership cells empty) is a data gap rather than a silent pass.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import polars as pl

from compliance.engine.context import (
    BatteryContext,
    date_gap,
    excluded_gaps,
    money,
    num,
    pct_down,
    share_of,
    usd,
)
from compliance.engine.entities import EntityTests, describe_unknown, parameters_of
from compliance.engine.params import ParamLookup
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW
from compliance.report.model import Citation, DataGap, LineResult, RequirementResult, Status
from compliance.rules.model import Activity, ProhibitedEntity, Ruleset


def evaluate_prohibited(
    req: ProhibitedEntity, rs: Ruleset, bom: Bom, batteries: list[BatteryContext]
) -> dict[str, RequirementResult]:
    test = rs.entity_tests[req.entity_test]
    measure = req.measure or ROW  # a sheet without amounts (batteries) still has rows
    cols = {ROW, "battery_id", req.item_id, measure}
    for act in req.activities:
        cols.update({act.entity, *([act.country] if act.country else []),
                     *([act.when] if act.when else [])})
    if req.relief:
        cols.add(req.relief.flag)
    lines = bom.frame(req.sheet).select(sorted(cols))
    if measure == ROW:
        lines = lines.with_columns(pl.lit(None, pl.Decimal(38, 6)).alias("__measure"))
        measure = "__measure"

    lookups: dict[str, ParamLookup] = {}
    groups: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    names = [req.in_force, *parameters_of(rs, req.entity_test),
             *([req.relief.in_force] if req.relief else [])]
    for ctx in batteries:
        lookup = ParamLookup(rs, ctx.dates.get(req.date_basis))
        lookups[ctx.battery_id] = lookup
        groups[tuple(lookup.start(n) for n in names)].append(ctx.battery_id)

    verdict_of: dict[str, EntityTests] = {}
    evaluated: list[pl.DataFrame] = []
    in_force: dict[str, bool] = {}
    for ids in groups.values():
        probe = lookups[ids[0]]
        active = probe.get(req.in_force) is True
        relief = req.relief is not None and probe.get(req.relief.in_force) is True
        verdicts = EntityTests(rs, bom.entities, bom.ownership, probe)
        for name in names:
            probe.get(name)
        for bid in ids:
            for name in names:
                lookups[bid].get(name)
            verdict_of[bid] = verdicts
            in_force[bid] = active
        if not active:
            continue
        part = lines.filter(pl.col("battery_id").is_in(ids))
        evaluated.append(_classify(part, req, verdicts, relief))
    frame = pl.concat(evaluated) if evaluated else None

    by_battery: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if frame is not None:
        interesting = frame.filter(pl.col("__hit").is_null() | pl.col("__hit")
                                   | pl.col("__relieved"))
        for rec in interesting.iter_rows(named=True):
            by_battery[rec["battery_id"]].append(rec)
        totals = {r[0]: (r[1], r[2]) for r in frame.group_by("battery_id").agg(
            pl.col(measure).sum().alias("total"),
            pl.col(measure).is_null().sum().alias("missing")).iter_rows()}
    else:
        totals = {}

    sheet_name = bom.display_sheet(req.sheet)
    # Reasons depend only on the activity cells and the entity verdicts: many rows share them.
    explained: dict[tuple[Any, ...], tuple[list[str], list[tuple[str, str]], list[Activity]]] = {}
    reason_columns = [c for act in req.activities
                      for c in (act.country, act.entity, act.when) if c]
    results: dict[str, RequirementResult] = {}
    for ctx in batteries:
        lookup = lookups[ctx.battery_id]
        day = ctx.dates.get(req.date_basis)
        citation = [Citation(title=c.title, href=c.href) for c in req.citation]
        common = dict(id=req.id, title=req.title, kind=req.kind, effect=req.effect.value,
                      date_basis=req.date_basis, date=day, comparison="at_most",
                      parameters=lookup.uses(), provisional=lookup.provisional,
                      citation=citation)
        if day is None:
            basis = rs.date_bases[req.date_basis]
            results[ctx.battery_id] = RequirementResult(
                **common, status=Status.INSUFFICIENT_DATA,
                explanation=f"no valid date the battery was {basis.label}",
                gaps=[date_gap(ctx, rs, req.date_basis, bom)])
            continue
        if not in_force.get(ctx.battery_id):
            results[ctx.battery_id] = RequirementResult(
                **common, status=Status.NOT_APPLICABLE,
                explanation=f"not in force for batteries {rs.date_bases[req.date_basis].label} "
                            f"on {day}")
            continue
        verdicts = verdict_of[ctx.battery_id]
        total_raw, _missing = totals.get(ctx.battery_id, (None, 0))
        total = Decimal(total_raw) if total_raw is not None else Decimal(0)
        hits: list[LineResult] = []
        relieved: list[LineResult] = []
        gaps = excluded_gaps(ctx, req.sheet, bom)
        hit_value = Decimal(0)
        for rec in by_battery.get(ctx.battery_id, []):
            value = rec[measure]
            share = share_of(value, total)
            if rec["__relieved"]:
                relieved.append(LineResult.model_construct(
                    sheet=sheet_name, row=rec[ROW], item_id=str(rec[req.item_id]),
                    value_usd=usd(value), share_pct=share, reason=req.relief.says, cells=[],
                    mass_kg=None))
                continue
            key = (id(verdicts), *(rec[c] for c in reason_columns))
            if key not in explained:
                explained[key] = _line_reasons(rec, req, verdicts, test.title)
            reasons, unknown, involved = explained[key]
            if rec["__hit"]:
                hit_value += Decimal(value or 0)
                # Built without re-validation: every field already has its declared type.
                hits.append(LineResult.model_construct(
                    sheet=sheet_name, row=rec[ROW], item_id=str(rec[req.item_id]),
                    value_usd=usd(value), share_pct=share, reason="; ".join(reasons),
                    cells=_cells(bom, req, rec, involved), mass_kg=None))
            else:
                for column, message in unknown:
                    letter = bom.letter(req.sheet, column)
                    gaps.append(DataGap(
                        sheet=sheet_name, row=rec[ROW], column=column,
                        cell=f"{letter}{rec[ROW]}" if letter else None,
                        item_id=str(rec[req.item_id]), message=message))
        hits.sort(key=lambda x: (-(x.value_usd or 0), x.row))
        if hits:
            status = Status.FAIL
        elif gaps:
            status = Status.INSUFFICIENT_DATA
        else:
            status = Status.PASS
        actual = (hit_value * 100 / total) if total else None
        noun = "rows involve" if len(hits) != 1 else "row involves"
        if status is Status.FAIL and req.measure is None:
            explanation = "; ".join(h.reason for h in hits) + f": no {test.title} is allowed"
        elif status is Status.FAIL:
            explanation = (f"{len(hits)} {noun.split()[0]} ({money(hit_value)}"
                           + (f", {num(pct_down(actual))} % of the value" if actual else "")
                           + f") {noun.split()[1]} a {test.title}; none is allowed")
        elif status is Status.PASS:
            explanation = f"no row involves a {test.title}"
        else:
            explanation = f"no {test.title} found, but some rows cannot be cleared for missing data"
        if relieved:
            explanation += f"; {len(relieved)} {'rows' if len(relieved) != 1 else 'row'} " \
                           "left out under transition relief"
        results[ctx.battery_id] = RequirementResult(
            **common, status=status, actual_pct=pct_down(actual) if actual is not None else None,
            required_pct=Decimal(0), shortfall_pct=pct_down(actual) if hits and actual else None,
            shortfall_usd=usd(hit_value) if hits and req.measure else None,
            total_usd=usd(total) if total_raw is not None else None,
            explanation=explanation, lines=hits, relieved=relieved, gaps=gaps)
    return results


def _classify(
    part: pl.DataFrame, req: ProhibitedEntity, verdicts: EntityTests, relief: bool
) -> pl.DataFrame:
    """Add ``__hit`` (bool/None) and ``__relieved`` to each line, vectorised."""
    ent = verdicts.frame(req.entity_test)
    covered = verdicts.activity_countries(req.entity_test)
    hit_exprs = []
    for i, act in enumerate(req.activities):
        caught = f"__caught_{i}"
        part = part.join(ent.rename({"__caught": caught}), left_on=act.entity,
                         right_on="__eid", how="left", coalesce=True)
        # An activity with no entity named, or one not in the sheet, cannot be cleared.
        entity_hit = pl.when(pl.col(act.entity).is_null()).then(None).otherwise(pl.col(caught))
        country_hit = (pl.col(act.country).is_in(covered)
                       if covered is not None and act.country else pl.lit(False))
        hit = country_hit | entity_hit
        if act.when:
            hit = pl.when(pl.col(act.when) == True).then(hit).otherwise(False)  # noqa: E712
        hit_exprs.append(hit)
    total = hit_exprs[0]
    for e in hit_exprs[1:]:
        total = total | e
    relieved = (pl.col(req.relief.flag) == True) if (relief and req.relief) else pl.lit(False)  # noqa: E712
    out = part.with_columns(total.alias("__hit"), relieved.fill_null(False).alias("__relieved"))
    return out.drop([c for c in out.columns if c.startswith("__caught_")])


def _line_reasons(
    rec: dict[str, Any], req: ProhibitedEntity, verdicts: EntityTests, title: str
) -> tuple[list[str], list[tuple[str, str]], list[Activity]]:
    """(reasons for each prohibited activity, unknown cells with messages, the activities
    that broke the rule)."""
    covered = verdicts.activity_countries(req.entity_test)
    reasons: list[str] = []
    unknown: list[tuple[str, str]] = []
    involved: list[Activity] = []
    for act in req.activities:
        if act.when and rec.get(act.when) is not True:
            continue
        country = rec.get(act.country) if act.country else None
        entity = rec.get(act.entity)
        who = f" by {entity}" if entity else ""
        where = f" in {country}" if country else ""
        found: list[str] = []
        if covered is not None and country in covered:
            found.append(verdicts.activity_reason(req.entity_test, act.name))
        if entity is not None and entity in verdicts.rows:
            caught, why, missing = verdicts.judge(req.entity_test, entity)
            found += why
            if caught is None and not found:
                unknown.append((act.entity, f"{act.entity} {entity} cannot be cleared as a "
                                            f"{title}: {describe_unknown(missing)}"))
        elif not found:
            if entity is None:
                unknown.append((act.entity, f"{act.entity} is empty: who performed the "
                                            f"{act.name} is unknown, so it cannot be cleared as "
                                            f"a {title}"))
            else:
                unknown.append((act.entity, f"{act.entity} '{entity}' is not in the entities "
                                            "sheet, so it cannot be cleared"))
        if act.country and country is None and covered is not None and not found:
            unknown.append((act.country, f"{act.country} is empty: where the {act.name} took "
                                         "place is unknown"))
        if found:
            involved.append(act)
            reasons.append(f"{act.verb}{where}{who}: {'; '.join(dict.fromkeys(found))}")
    return reasons, unknown, involved


def _cells(bom: Bom, req: ProhibitedEntity, rec: dict[str, Any],
           involved: list[Activity]) -> list[str]:
    """Excel references of the country and entity cells of the activities that broke it."""
    out = []
    for act in involved:
        for col in (act.country, act.entity):
            if col is None:
                continue
            letter = bom.letter(req.sheet, col)
            if letter:
                out.append(f"{letter}{rec[ROW]}")
    return out

"""Every line's part in every requirement: value, share of the total, standing and why.

The audit report lists only the lines that break a requirement. Explaining a verdict also needs
the lines that carry it, so this module walks the BOM's rows for each battery and classifies them
*from the report*: a row the report lists as non-qualifying (or violating, or relieved) is that;
a row a data gap points at is unknown; every other row qualifies (or is clear). The engine stays
the single source of verdicts; only the words for qualifying rows ("extracted in AU (an FTA
country)") are derived here from the ruleset's condition.

Every line is a workbook row. Where the report sums rows up (recycled content lists one line
per material, with no row), the explanation lists the rows behind the sum instead: each row of
a material with a minimum in force, its mass, whether it was recovered from waste, and its
share of that material's mass, so every figure can be traced to the cells it came from.

A provisional requirement (a pass or fail resting on an unconfirmed ruleset value) is explained
like the outcome it rests on: the lines of a provisional fail block it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import polars as pl

from compliance.engine.context import num, pct_down, share_of, usd
from compliance.explain.gaps import analyse_gaps
from compliance.explain.model import (
    BatteryExplanation,
    Explanation,
    LineContribution,
    RequirementExplanation,
    VerdictExplanation,
)
from compliance.explain.words import lists_at, value_at, why_qualifies
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW
from compliance.report.model import AuditReport, RequirementResult, Status
from compliance.rules.loader import LoadedRuleset
from compliance.rules.model import ContentShare, ProhibitedEntity, RecycledContent, Ruleset

_ROW_KINDS = ContentShare | ProhibitedEntity | RecycledContent  # explained row by row


def explain(
    report: AuditReport, bom: Bom, rulesets: Sequence[LoadedRuleset], *,
    max_gaps: int = 20,
) -> Explanation:
    """Line contributions and gap analysis for every battery and requirement of ``report``."""
    by_id = {r.id: r for r in rulesets}
    parts = _Partitions(bom)
    batteries = []
    for battery in report.batteries:
        verdicts = []
        for verdict in battery.verdicts:
            loaded = by_id[verdict.ruleset]
            rs = loaded.ruleset
            requirements = []
            for req in verdict.requirements:
                spec = rs.requirement(req.id)
                rows = (parts.rows(spec.sheet, battery.battery_id)
                        if isinstance(spec, _ROW_KINDS) else [])
                requirements.append(explain_requirement(req, spec, rs, bom, rows))
            gaps, skipped = analyse_gaps(bom, loaded, battery.battery_id, verdict,
                                         as_of=report.as_of, limit=max_gaps)
            verdicts.append(VerdictExplanation(
                ruleset=verdict.ruleset, status=verdict.status, summary=verdict.summary,
                requirements=requirements, gaps=gaps, gaps_not_assessed=skipped))
        batteries.append(BatteryExplanation(battery_id=battery.battery_id,
                                            status=battery.status, verdicts=verdicts))
    return Explanation(input=report.input, as_of=report.as_of, batteries=batteries)


class _Partitions:
    """Each sheet split by battery once, so explaining N batteries is not N full scans."""

    def __init__(self, bom: Bom):
        self.bom = bom
        self.cache: dict[str, dict[str, pl.DataFrame]] = {}

    def rows(self, sheet: str, battery_id: str) -> list[dict[str, Any]]:
        if sheet not in self.cache:
            frame = self.bom.frame(sheet)
            self.cache[sheet] = {
                str(key[0]): part for key, part in
                frame.partition_by("battery_id", as_dict=True, maintain_order=True).items()}
        part = self.cache[sheet].get(battery_id)
        return [] if part is None else part.sort(ROW).to_dicts()


def explain_requirement(
    req: RequirementResult, spec: Any, rs: Ruleset, bom: Bom, rows: list[dict[str, Any]],
) -> RequirementExplanation:
    """One requirement's line table for one battery, blocking lines first by impact."""
    lines: list[LineContribution] = []
    if isinstance(spec, ContentShare):
        lines = _share_lines(req, spec, rs, bom, rows)
    elif isinstance(spec, ProhibitedEntity) and req.status is not Status.NOT_APPLICABLE \
            and req.date is not None:
        lines = _prohibited_lines(req, spec, bom, rows)
    elif isinstance(spec, RecycledContent):
        if req.status is not Status.NOT_APPLICABLE and req.date is not None:
            lines = _recycled_lines(req, spec, rs, bom, rows)
    elif req.lines:
        # A kind this module has no line model for: the report's own lines, as blocking. A
        # line without a row would be a summary of rows, not a row; its figures are in the
        # requirement's explanation.
        standing = "violates" if req.comparison == "at_most" else "does_not_qualify"
        lines = [LineContribution(sheet=x.sheet, row=x.row, item_id=x.item_id,
                                  value_usd=x.value_usd, share_pct=x.share_pct,
                                  mass_kg=x.mass_kg, status=standing,  # type: ignore[arg-type]
                                  reason=x.reason, blocking=_outcome(req) is Status.FAIL,
                                  cells=x.cells)
                 for x in req.lines if x.row is not None]

    def impact(x: LineContribution) -> tuple[Decimal, int]:
        # Value for value-based rules, mass for mass-based ones (recycled content).
        size = x.value_usd if x.value_usd is not None else x.mass_kg
        return -(size or Decimal(0)), x.row

    blocking = sorted((x for x in lines if x.blocking), key=impact)
    rest = sorted((x for x in lines if not x.blocking), key=impact)
    ranked = [x.model_copy(update={"impact_rank": i}) for i, x in enumerate(blocking, 1)]
    return RequirementExplanation(
        id=req.id, title=req.title, kind=req.kind, status=req.status,
        comparison=req.comparison, actual_pct=req.actual_pct, required_pct=req.required_pct,
        shortfall_pct=req.shortfall_pct, shortfall_usd=req.shortfall_usd,
        total_usd=req.total_usd, qualifying_usd=req.qualifying_usd,
        explanation=req.explanation, blocking_lines=len(ranked), lines=ranked + rest)


def _outcome(req: RequirementResult) -> Status:
    """The pass or fail a provisional requirement rests on; any other status as it is."""
    return req.provisional_outcome or req.status


def _gap_rows(req: RequirementResult, sheet: str) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for gap in req.gaps:
        if gap.sheet == sheet and gap.row is not None:
            out.setdefault(gap.row, []).append(gap.message)
    return out


def _share_lines(req: RequirementResult, spec: ContentShare, rs: Ruleset, bom: Bom,
                 rows: list[dict[str, Any]]) -> list[LineContribution]:
    sheet = bom.display_sheet(spec.sheet)
    bad = {x.row: x for x in req.lines if x.sheet == sheet}
    unknown = _gap_rows(req, sheet)
    lists = lists_at(rs, spec.qualifies, req.date)
    undecided = _outcome(req) in (Status.FAIL, Status.INSUFFICIENT_DATA)
    total = req.total_usd
    out = []
    for rec in rows:
        row = rec[ROW]
        value = rec.get(spec.measure)
        common = dict(sheet=sheet, row=row, item_id=str(rec[spec.item_id]),
                      value_usd=usd(value), share_pct=share_of(value, total))
        if row in bad:
            line = bad[row]
            out.append(LineContribution(**common, status="does_not_qualify", reason=line.reason,
                                        blocking=undecided, cells=line.cells))
        elif row in unknown:
            out.append(LineContribution(**common, status="unknown",
                                        reason="; ".join(dict.fromkeys(unknown[row])),
                                        blocking=req.status is Status.INSUFFICIENT_DATA))
        elif req.date is None:
            out.append(LineContribution(**common, status="unknown", blocking=False,
                                        reason="no date, so the lists in force are unknown"))
        else:
            why = why_qualifies(spec.qualifies, rec, lists, rs) or "qualifies"
            out.append(LineContribution(**common, status="qualifies", reason=why,
                                        blocking=False))
    return out


def _prohibited_lines(req: RequirementResult, spec: ProhibitedEntity, bom: Bom,
                      rows: list[dict[str, Any]]) -> list[LineContribution]:
    sheet = bom.display_sheet(spec.sheet)
    hits = {x.row: x for x in req.lines if x.sheet == sheet}
    relieved = {x.row: x for x in req.relieved if x.sheet == sheet}
    unknown = _gap_rows(req, sheet)
    total = req.total_usd
    out = []
    for rec in rows:
        row = rec[ROW]
        value = rec.get(spec.measure)
        common = dict(sheet=sheet, row=row, item_id=str(rec[spec.item_id]),
                      value_usd=usd(value), share_pct=share_of(value, total))
        if row in hits:
            out.append(LineContribution(**common, status="violates", reason=hits[row].reason,
                                        blocking=True, cells=hits[row].cells))
        elif row in relieved:
            out.append(LineContribution(**common, status="relieved",
                                        reason=relieved[row].reason, blocking=False))
        elif row in unknown:
            out.append(LineContribution(**common, status="unknown",
                                        reason="; ".join(dict.fromkeys(unknown[row])),
                                        blocking=req.status is Status.INSUFFICIENT_DATA))
        else:
            out.append(LineContribution(**common, status="clear", blocking=False,
                                        reason=_cleared(spec, rec)))
    return out


def _recycled_lines(req: RequirementResult, spec: RecycledContent, rs: Ruleset, bom: Bom,
                    rows: list[dict[str, Any]]) -> list[LineContribution]:
    """The rows behind each material's recycled share: every row of a material with a minimum
    in force on the requirement's date, with its mass and its share of the material's mass.

    A row recovered from waste counts towards its material's share (qualifies); any other row
    does not, and blocks the requirement when its material is short of its minimum (the report
    lists those materials as lines without a row).
    """
    sheet = bom.display_sheet(spec.sheet)
    minimums = {str(k).lower(): Decimal(str(v))
                for k, v in (value_at(rs, spec.minimums, req.date) or {}).items()}
    short = {x.item_id: x.reason for x in req.lines if x.row is None}
    unknown = _gap_rows(req, sheet)
    undecided = _outcome(req) in (Status.FAIL, Status.INSUFFICIENT_DATA)
    mine = [rec for rec in rows if rec.get(spec.material) in minimums]
    totals: dict[str, list[Decimal]] = {}  # material -> [mass, recovered mass], as the engine
    for rec in mine:
        mass = rec.get(spec.mass)
        if mass is None:
            continue
        total = totals.setdefault(rec[spec.material], [Decimal(0), Decimal(0)])
        total[0] += Decimal(mass)
        if rec.get(spec.recovered) is True:
            total[1] += Decimal(mass)
    cells_of = [c for c in (bom.letter(spec.sheet, spec.mass),
                            bom.letter(spec.sheet, spec.recovered)) if c]
    out = []
    for rec in mine:
        row = rec[ROW]
        material = rec[spec.material]
        mass = rec.get(spec.mass)
        mass_total, recovered = totals.get(material, [Decimal(0), Decimal(0)])
        common = dict(sheet=sheet, row=row, item_id=str(rec[spec.item_id]), value_usd=None,
                      mass_kg=None if mass is None else Decimal(mass),
                      share_pct=share_of(mass, mass_total),
                      cells=[f"{letter}{row}" for letter in cells_of])
        if row in unknown or mass is None:
            out.append(LineContribution(**common, status="unknown",
                                        reason="; ".join(dict.fromkeys(unknown.get(row, [])))
                                        or f"{spec.mass} is empty",
                                        blocking=req.status is Status.INSUFFICIENT_DATA))
            continue
        share = recovered * 100 / mass_total if mass_total else Decimal(0)
        below = material in short  # the report's line for a material short of its minimum
        standing = (f"{material} {num(pct_down(share))} % recovered, "
                    f"{num(minimums[material])} % required"
                    + (": below the minimum" if below else ""))
        of = f"{num(Decimal(mass))} of {num(mass_total)} kg of {material}"
        if rec.get(spec.recovered) is True:
            out.append(LineContribution(**common, status="qualifies", blocking=False,
                                        reason=f"recovered from waste: {of}; {standing}"))
        else:
            out.append(LineContribution(**common, status="does_not_qualify",
                                        reason=f"not recovered from waste: {of}; {standing}",
                                        blocking=undecided and below))
    return out


def _cleared(spec: ProhibitedEntity, rec: dict[str, Any]) -> str:
    parts = []
    for act in spec.activities:
        if act.when and rec.get(act.when) is not True:
            continue
        where = f" in {rec.get(act.country)}" if rec.get(act.country) else ""
        who = f" by {rec.get(act.entity)}" if rec.get(act.entity) else ""
        parts.append(f"{act.verb}{where}{who}")
    return "; ".join(parts) + ": cleared" if parts else "cleared"

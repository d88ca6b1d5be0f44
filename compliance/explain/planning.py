"""Remediation plans: what to change so each failing battery passes, in a buyer's words.

For a failing share requirement (say, critical minerals at 48 % of value where 60 % is needed),
the plan lists the non-qualifying lines to re-source to a qualifying origin: the fewest lines,
and separately the least value moved (see :mod:`compliance.explain.optimize`). For a failing
prohibition (foreign entity of concern), every violating line must change, so the plan names the
lines, the activity (extraction, processing, ...) and the supplier to replace. A requirement no
sourcing can fix (the credit ended on the acquisition date) is said so plainly.

Plans are computed from the audit report alone: the report lists every non-qualifying line with
its value, and the exact amount needed follows from its threshold, total and qualifying value.
With the ruleset the plan can say what "qualifying" means; with the BOM it can name the exact
supplier on each violating line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import polars as pl

from compliance.engine.context import pct_down
from compliance.engine.scope import audit_scope
from compliance.explain.model import (
    BatteryPlan,
    EntityToReplace,
    OtherStep,
    Plan,
    PlanLine,
    ProhibitionPlan,
    ReplaceLine,
    ShareOption,
    SharePlan,
)
from compliance.explain.optimize import Selection, fewest_lines, least_value
from compliance.explain.words import condition_words, money, pct, points, value_at
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW
from compliance.report.model import AuditReport, LineResult, RequirementResult, Status
from compliance.rules.loader import LoadedRuleset
from compliance.rules.model import (
    Activity,
    ContentShare,
    EntityCheck,
    ProhibitedEntity,
    Ruleset,
)


def plan(
    report: AuditReport, rulesets: Sequence[LoadedRuleset] = (), bom: Bom | None = None,
) -> Plan:
    """A plan for every battery and ruleset of ``report`` (passing ones say nothing to do)."""
    # A plan of a big workbook is as many small objects as its report, none of them garbage:
    # like an audit, it runs with the collector paused (see compliance.engine.scope), which
    # otherwise walks the report again and again (a third of the time at a million lines).
    with audit_scope():
        return _plan(report, rulesets, bom)


def _plan(report: AuditReport, rulesets: Sequence[LoadedRuleset], bom: Bom | None) -> Plan:
    by_id = {r.id: r.ruleset for r in rulesets}
    lookup = _Lookup(report, by_id, bom) if bom is not None else None
    out: list[BatteryPlan] = []
    for battery in report.batteries:
        for verdict in battery.verdicts:
            rs = by_id.get(verdict.ruleset)
            shares: list[SharePlan] = []
            share_reqs: list[RequirementResult] = []
            prohibitions: list[ProhibitionPlan] = []
            other: list[OtherStep] = []
            blocked: list[OtherStep] = []
            for req in verdict.requirements:
                spec = rs.requirement(req.id) if rs else None
                standing = _standing(req.status, req.provisional_outcome)
                if req.kind == "content_share" and standing is Status.FAIL:
                    shares.append(share_plan(req, spec, rs))
                    share_reqs.append(req)
                elif req.kind == "prohibited_entity" and standing is Status.FAIL:
                    prohibitions.append(prohibition_plan(req, spec, rs, lookup))
                elif standing in (Status.FAIL, Status.INSUFFICIENT_DATA):
                    other.append(_other(req, standing))
                    if standing is Status.FAIL and req.kind == "in_force":
                        blocked.append(other[-1])
            shares = [_with_required_changes(s, r, prohibitions)
                      for s, r in zip(shares, share_reqs, strict=True)]
            words = _battery_words(battery.battery_id, verdict.status,
                                   verdict.provisional_outcome, shares, prohibitions, other,
                                   blocked)
            out.append(BatteryPlan(battery_id=battery.battery_id, ruleset=verdict.ruleset,
                                   status=verdict.status, shares=shares,
                                   prohibitions=prohibitions, other=other, words=words))
    return Plan(input=report.input, as_of=report.as_of, batteries=out)


def needed_usd(req: RequirementResult) -> Decimal | None:
    """Exactly how much more value must qualify: threshold x total / 100 - qualifying."""
    if req.required_pct is None or req.total_usd is None or req.qualifying_usd is None:
        return None
    return req.required_pct * req.total_usd / 100 - req.qualifying_usd


def share_plan(req: RequirementResult, spec: Any = None, rs: Ruleset | None = None) -> SharePlan:
    needed = needed_usd(req)
    candidates = [x for x in req.lines if x.value_usd is not None and x.value_usd > 0]
    values = [Decimal(x.value_usd) for x in candidates]  # type: ignore[arg-type]
    qualifies_when = (condition_words(spec.qualifies, rs)
                      if isinstance(spec, ContentShare) and rs is not None else None)
    fewest = least = None
    reachable = needed is not None and sum(values, Decimal(0)) >= needed
    if needed is not None and reachable:
        fewest = _option("fewest_lines", fewest_lines(values, needed), candidates, req)
        least = _option("least_value", least_value(values, needed), candidates, req)
    plan_ = SharePlan(
        requirement=req.id, title=req.title, status=req.status, actual_pct=req.actual_pct,
        required_pct=req.required_pct, needed_usd=needed, total_usd=req.total_usd,
        qualifying_usd=req.qualifying_usd, reachable=reachable, qualifies_when=qualifies_when,
        fewest_lines=fewest, least_value=least, words=[])
    return plan_.model_copy(update={"words": _share_words(plan_, req, values)})


def _option(objective: str, sel: Selection | None, candidates: list[LineResult],
            req: RequirementResult) -> ShareOption | None:
    if sel is None or req.total_usd is None or req.qualifying_usd is None:
        return None
    chosen = [candidates[i] for i in sel.indices]
    moved = sum((Decimal(x.value_usd or 0) for x in chosen), Decimal(0))
    share = ((req.qualifying_usd + moved) * 100 / req.total_usd) if req.total_usd else Decimal(0)
    return ShareOption(
        objective=objective,  # type: ignore[arg-type]
        lines=[PlanLine(sheet=x.sheet, row=x.row, item_id=x.item_id,
                        value_usd=Decimal(x.value_usd or 0), share_pct=x.share_pct,
                        now=x.reason) for x in chosen],
        moved_usd=moved, resulting_pct=pct_down(share),
        exact=sel.exact, method=sel.method, lower_bound_usd=sel.lower_bound)


def _items(lines: Sequence[PlanLine]) -> str:
    shown = [f"{x.item_id} ({money(x.value_usd)})" for x in lines[:12]]
    more = len(lines) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _share_words(p: SharePlan, req: RequirementResult, values: list[Decimal]) -> list[str]:
    shortfall = req.shortfall_usd if req.shortfall_usd is not None else p.needed_usd
    words = [f"{p.requirement} fails: {pct(p.actual_pct)} of the {money(p.total_usd)} of value "
             f"qualifies and {pct(p.required_pct)} is required, so {money(shortfall)} more "
             f"must qualify ({points(req.shortfall_pct)} short)."]
    if p.qualifies_when:
        words.append(f"A line qualifies when it is {p.qualifies_when}.")
    if not p.reachable:
        words.append(f"Re-sourcing every non-qualifying line ({money(sum(values, Decimal(0)))})"
                     " is not enough on its own: lines with missing data must be filled in "
                     "and qualify too.")
        return words
    few, least = p.fewest_lines, p.least_value
    if few is not None:
        n = len(few.lines)
        words.append(f"Fewest changes: re-source {n} line{'s' if n != 1 else ''} - "
                     f"{_items(few.lines)} - moving {money(few.moved_usd)}; the share becomes "
                     f"{pct(few.resulting_pct)}.")
    if least is not None:
        same = few is not None and {x.row for x in few.lines} == {x.row for x in least.lines}
        if same:
            words.append("That is also the least value that can be moved.")
        else:
            n = len(least.lines)
            words.append(f"Least value moved: re-source {n} line{'s' if n != 1 else ''} - "
                         f"{_items(least.lines)} - moving {money(least.moved_usd)}; the share "
                         f"becomes {pct(least.resulting_pct)}.")
        if not least.exact:
            words.append(f"Note: the least-value plan is approximate ({least.method}); no plan "
                         f"can move less than {money(least.lower_bound_usd)}.")
    return words


class _Lookup:
    """The BOM rows and entities a plan needs, indexed once (not once per violating line)."""

    def __init__(self, report: AuditReport, rulesets: dict[str, Ruleset], bom: Bom):
        wanted: dict[str, set[int]] = {}
        # Only the cells _culprits reads are fetched: a row has dozens of other columns.
        columns: dict[str, set[str]] = {}
        for battery in report.batteries:
            for verdict in battery.verdicts:
                rs = rulesets.get(verdict.ruleset)
                for req in verdict.requirements:
                    if rs is None or req.kind != "prohibited_entity" or not req.lines:
                        continue
                    spec = rs.requirement(req.id)
                    wanted.setdefault(spec.sheet, set()).update(x.row for x in req.lines)
                    cells = columns.setdefault(spec.sheet, {ROW})
                    if isinstance(spec, ProhibitedEntity):
                        cells.update(c for act in spec.activities
                                     for c in (act.when, act.country, act.entity) if c)
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}
        for sheet, rows in wanted.items():
            frame = bom.frame(sheet)
            part = (frame.select([c for c in frame.columns if c in columns[sheet]])
                    .filter(pl.col(ROW).is_in(sorted(rows))))
            for rec in part.iter_rows(named=True):
                self.rows[(sheet, rec[ROW])] = rec
        self.entities = ({r["entity_id"]: r for r in bom.entities.iter_rows(named=True)}
                         if wanted else {})
        # What _culprits found for an activity, by its cells and day: many lines share them.
        self.activities: dict[tuple[Any, ...], EntityToReplace] = {}
        self._checks: dict[tuple[Any, ...], list[tuple[EntityCheck, Any]]] = {}

    def checks(self, rs: Ruleset, spec: ProhibitedEntity,
               day: dt.date | None) -> list[tuple[EntityCheck, Any]]:
        """The checks of ``spec``'s entity test with their values on ``day``, looked up once."""
        key = (id(rs), spec.entity_test, day)
        found = self._checks.get(key)
        if found is None:
            found = self._checks[key] = [(check, value_at(rs, check.parameter, day))
                                         for check in rs.entity_tests[spec.entity_test].checks]
        return found


def prohibition_plan(req: RequirementResult, spec: Any, rs: Ruleset | None,
                     lookup: _Lookup | None) -> ProhibitionPlan:
    lines = []
    for line in req.lines:
        entities: list[EntityToReplace] = []
        if isinstance(spec, ProhibitedEntity) and rs is not None and lookup is not None:
            rec = lookup.rows.get((spec.sheet, line.row))
            if rec is not None:
                entities = _culprits(rec, spec, rs, lookup, req)
        lines.append(ReplaceLine(sheet=line.sheet, row=line.row, item_id=line.item_id,
                                 value_usd=line.value_usd, reason=line.reason,
                                 entities=entities))
    distinct = sorted({e.entity_id for x in lines for e in x.entities
                       if e.entity_id and e.replace_entity})
    words = [f"{req.id} fails: {len(lines)} line{'s' if len(lines) != 1 else ''} "
             f"({money(req.shortfall_usd)}) must change, whatever the shares: every one blocks "
             "the verdict on its own."]
    for x in lines[:20]:
        steps = []
        for e in x.entities:
            if e.replace_entity:
                steps.append(f"replace {e.entity_id} as the {e.activity} supplier")
            if e.move_activity:
                steps.append(f"move the {e.activity} out of {e.country}")
        todo = "; ".join(dict.fromkeys(steps)) or "re-source it"
        words.append(f"{x.item_id} ({money(x.value_usd)}): {x.reason}. To fix: {todo}.")
    if len(lines) > 20:
        words.append(f"... and {len(lines) - 20} more lines (see --format json or csv).")
    if distinct:
        words.append(f"Suppliers to replace: {', '.join(distinct)}.")
    return ProhibitionPlan(requirement=req.id, title=req.title, status=req.status, lines=lines,
                           entities=distinct, words=words)


def _culprits(rec: dict[str, Any], spec: ProhibitedEntity, rs: Ruleset, lookup: _Lookup,
              req: RequirementResult) -> list[EntityToReplace]:
    """Which activity of a violating line is at fault, and by whom.

    This names the supplier to replace; it mirrors the ruleset's entity test (covered-nation
    activity, incorporation, headquarters, government shares, control, lists) on the line's
    own cells. The verdict that the line violates comes from the engine; if this mirror finds
    no culprit, every supplier on the line is listed instead, never none.
    """
    found: list[EntityToReplace] = []
    everyone: list[EntityToReplace] = []
    for act in spec.activities:
        if act.when and rec.get(act.when) is not True:
            continue
        country, entity = rec.get(act.country), rec.get(act.entity)
        # An activity's culprit depends only on these (the result models are frozen, so lines
        # with the same cells share one).
        key = (id(rs), id(spec), id(act), req.date, country, entity)
        item = lookup.activities.get(key)
        if item is None:
            item = lookup.activities[key] = _activity_culprit(
                act, country, entity, lookup.checks(rs, spec, req.date), lookup.entities)
        everyone.append(item)
        if item.reasons:
            found.append(item)
    if found:
        return found
    # The mirror found nothing: name every supplier on the line rather than none.
    return [e.model_copy(update={"replace_entity": e.entity_id is not None}) for e in everyone]


def _activity_culprit(act: Activity, country: Any, entity: Any,
                      checks: list[tuple[EntityCheck, Any]],
                      entities: dict[str, dict[str, Any]]) -> EntityToReplace:
    """One activity of a violating line (see :func:`_culprits`): what is wrong with it, by the
    entity test's ``checks`` and their values on the line's day."""
    reasons: list[str] = []
    moved = replaced = False
    for check, value in checks:
        if value is None:
            continue
        if check.kind == "activity_in":
            if country in value:
                moved = True
                reasons.append(check.says.format(activity=act.name))
            continue
        erec = entities.get(entity) if entity else None
        cell = erec.get(check.column or "") if erec else None
        if cell is None:
            continue
        hit = False
        shown: Any = cell
        if check.kind == "country_in":
            hit = cell in value
        elif check.kind in ("at_least", "more_than"):
            number = Decimal(cell)
            hit = number >= value if check.kind == "at_least" else number > value
            shown = format(number.normalize(), "f")
        elif check.kind == "flag":
            hit = value is True and cell is True
        elif check.kind == "listed":
            named = sorted(set(cell) & {n.upper() for n in value})
            hit, shown = bool(named), ", ".join(named)
        if hit:
            replaced = True
            reasons.append(check.says.format(value=shown))
    return EntityToReplace(entity_id=entity, column=act.entity, activity=act.name,
                           country=country, reasons=reasons, replace_entity=replaced,
                           move_activity=moved)


def _with_required_changes(share: SharePlan, req: RequirementResult,
                           prohibitions: list[ProhibitionPlan]) -> SharePlan:
    """Count the lines a failing prohibition forces to change anyway.

    A line that must leave a foreign entity of concern is re-sourced in any case; if it is
    also a non-qualifying line here, re-sourcing it to a qualifying origin (with a cleared
    supplier) counts towards the share for free. This option takes those lines first, then
    the least value among the rest, and is often cheaper than either plan alone.
    """
    forced_rows = {(x.sheet, x.row) for p in prohibitions for x in p.lines}
    candidates = [x for x in req.lines if x.value_usd is not None and x.value_usd > 0]
    forced = [x for x in candidates if (x.sheet, x.row) in forced_rows]
    needed = share.needed_usd
    if not forced or needed is None or not share.reachable:
        return share
    rest = [x for x in candidates if (x.sheet, x.row) not in forced_rows]
    forced_value = sum((Decimal(x.value_usd or 0) for x in forced), Decimal(0))
    remaining = needed - forced_value
    chosen = list(forced)
    method = "the lines that must change anyway cover the need"
    exact, lower = True, None
    if remaining > 0:
        sel = least_value([Decimal(x.value_usd or 0) for x in rest], remaining)
        if sel is None:
            return share
        chosen += [rest[i] for i in sel.indices]
        method = f"the lines that must change anyway, then the least value ({sel.method})"
        exact, lower = sel.exact, sel.lower_bound
    option = _option("with_required_changes",
                     Selection(tuple(range(len(chosen))), Decimal(0), exact, method, lower),
                     chosen, req)
    assert option is not None
    names = ", ".join(x.item_id for x in forced)
    rules = ", ".join(p.requirement for p in prohibitions)
    extra = [x for x in option.lines if (x.sheet, x.row) not in forced_rows]
    if extra:
        tail = (f"; add {_items(extra)} and the share becomes {pct(option.resulting_pct)} "
                f"({money(option.moved_usd)} moved in all).")
    else:
        tail = (f", and that alone brings the share to {pct(option.resulting_pct)}: nothing "
                "else needs to move.")
    words = (f"{names} must change anyway for {rules}; re-sourced to a qualifying origin with "
             f"a cleared supplier {'they count' if len(forced) > 1 else 'it counts'} here "
             f"too{tail}")
    return share.model_copy(update={"with_required_changes": option,
                                    "words": [*share.words, words]})


def _standing(status: Status, provisional_outcome: Status | None) -> Status:
    """What a result stands for in a plan: a provisional one, what it rests on (it fails or
    passes on ruleset values marked unconfirmed, and the plan for it is the same)."""
    if status is Status.PROVISIONAL and provisional_outcome is not None:
        return provisional_outcome
    return status


def _other(req: RequirementResult, standing: Status) -> OtherStep:
    if standing is Status.INSUFFICIENT_DATA:
        gaps = len(req.gaps)
        extra = ""
        if req.kind == "content_share" and req.shortfall_usd is not None:
            extra = (f" If the lines with missing data turn out not to qualify, "
                     f"{money(req.shortfall_usd)} more qualifying value is needed.")
        words = (f"{req.id} cannot be decided: fill in the {gaps} missing or invalid "
                 f"cell{'s' if gaps != 1 else ''} first (see compliance explain).{extra}")
    elif req.kind == "in_force":
        words = f"{req.id} fails and no change of sourcing can fix it: {req.explanation}."
    else:
        words = (f"{req.id} fails: {req.explanation}. This plan does not compute changes for "
                 f"{req.kind} requirements; compliance explain lists the lines involved.")
    return OtherStep(requirement=req.id, kind=req.kind, status=req.status, words=words)


def _battery_words(battery_id: str, status: Status, provisional_outcome: Status | None,
                   shares: list[SharePlan], prohibitions: list[ProhibitionPlan],
                   other: list[OtherStep], blocked: list[OtherStep]) -> list[str]:
    standing = _standing(status, provisional_outcome)
    unconfirmed = (" provisionally (on ruleset values marked unconfirmed)"
                   if standing is not status else "")
    if standing is Status.PASS:
        return [f"{battery_id} passes{unconfirmed}: nothing to change."]
    if standing is Status.NOT_APPLICABLE:
        return [f"{battery_id}: no requirement applies on its dates; nothing to change."]
    said = {Status.FAIL: "fails", Status.INSUFFICIENT_DATA: "cannot be decided yet"}
    words = [f"{battery_id} {said.get(standing, standing.value)}{unconfirmed}."]
    if blocked:
        words.append("No sourcing change makes it pass: "
                     + " ".join(o.words for o in blocked))
    for p in prohibitions:
        words += p.words
    for s in shares:
        words += s.words
    words += [o.words for o in other if o not in blocked]
    return words

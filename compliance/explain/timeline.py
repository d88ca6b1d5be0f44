"""The same BOM over time: its verdicts on every date a selected ruleset changes.

A battery's verdict can only change on a day some ruleset value starts (a threshold rises, a list
gains a country, a prohibition comes into force, the credit ends), so auditing on each of those
days with ``as_of`` gives the complete timeline. ``as_of`` sets every date of the battery (placed
in service, acquired) to that day: "would this battery pass if placed in service then?".
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence

from compliance.engine.audit import run_audit
from compliance.engine.scope import audit_scope
from compliance.explain.model import (
    BatteryHorizon,
    Horizon,
    HorizonChange,
    HorizonPoint,
    HorizonRequirement,
)
from compliance.explain.words import pct
from compliance.reader.bom import Bom
from compliance.report.model import AuditReport, Status
from compliance.rules.loader import LoadedRuleset


def change_dates(rulesets: Iterable[LoadedRuleset]) -> list[dt.date]:
    """Every day on which any parameter of any of the rulesets takes a new value."""
    return sorted({day for loaded in rulesets for p in loaded.ruleset.parameters.values()
                   for day in p.values})


def horizon(
    bom: Bom, rulesets: Sequence[LoadedRuleset], dates: Sequence[dt.date] | None = None,
    *, start: dt.date | None = None, end: dt.date | None = None,
) -> Horizon:
    days = sorted(set(dates)) if dates is not None else change_dates(rulesets)
    days = [d for d in days if (start is None or d >= start) and (end is None or d <= end)]
    # Only verdicts and figures are kept, so the audits need not list the rows behind them;
    # in one scope, they share what does not depend on the date (the entity tests, say). Each
    # report is read as soon as it is made and then dropped: at a million lines, thirteen held
    # at once took a gigabyte.
    with audit_scope():
        return build(((day, run_audit(bom, rulesets, day, list_lines=False)) for day in days),
                     [r.id for r in rulesets])


def build(reports: Iterable[tuple[dt.date, AuditReport]], ruleset_ids: list[str]) -> Horizon:
    """The horizon of the ``(date, report)`` pairs, which are read once, in order."""
    order: list[str] = []
    points: dict[str, list[HorizonPoint]] = {}
    # Most requirements read the same on many dates and batteries: each distinct one is made
    # once (models are frozen, so sharing is safe). Decimals are keyed by their text, as 60 and
    # 60.0000 are equal but are written differently.
    made: dict[tuple[object, ...], HorizonRequirement] = {}
    days: list[dt.date] = []
    input_ref = None
    for day, report in reports:
        days.append(day)
        if input_ref is None:
            input_ref = report.input
        for battery in report.batteries:
            if battery.battery_id not in points:
                order.append(battery.battery_id)
                points[battery.battery_id] = []
            reqs = []
            for v in battery.verdicts:
                for r in v.requirements:
                    key = (v.ruleset, r.id, r.status, r.comparison, str(r.actual_pct),
                           str(r.required_pct), str(r.shortfall_usd))
                    req = made.get(key)
                    if req is None:
                        req = made[key] = HorizonRequirement(
                            ruleset=v.ruleset, id=r.id, status=r.status,
                            comparison=r.comparison, actual_pct=r.actual_pct,
                            required_pct=r.required_pct, shortfall_usd=r.shortfall_usd)
                    reqs.append(req)
            points[battery.battery_id].append(HorizonPoint(date=day, status=battery.status,
                                                           requirements=reqs))
    batteries = []
    for bid in order:
        series = points[bid]
        changes = [_change(a, b) for a, b in itertools.pairwise(series)
                   if a.status is not b.status]
        batteries.append(BatteryHorizon(battery_id=bid, points=series, changes=changes,
                                        summary=_summary(bid, series, changes)))
    if input_ref is None:
        from compliance.report.model import InputRef

        input_ref = InputRef(name="<no dates>", sha256=None, size_bytes=None)
    return Horizon(input=input_ref, rulesets=ruleset_ids, dates=days, batteries=batteries)


def _change(before: HorizonPoint, after: HorizonPoint) -> HorizonChange:
    old = {(r.ruleset, r.id): r for r in before.requirements}
    moved = [r for r in after.requirements
             if (r.ruleset, r.id) in old and old[(r.ruleset, r.id)].status is not r.status]
    # Name the requirements that took the verdict where it went (a fail is explained by what
    # started failing, not by a prohibition that came into force and passes).
    leading = [r for r in moved if r.status is after.status] or moved
    parts = []
    for r in leading:
        prev = old[(r.ruleset, r.id)]
        detail = ""
        if r.comparison == "at_least" and r.actual_pct is not None:
            detail = f" ({pct(r.actual_pct)} qualifies, {pct(r.required_pct)} required)"
        elif r.comparison == "at_least" and r.required_pct is not None:
            detail = f" ({pct(r.required_pct)} required)"
        parts.append(f"{r.id} {prev.status.value} -> {r.status.value}{detail}")
    return HorizonChange(date=after.date, before=before.status, after=after.status,
                         because="; ".join(parts) or "verdict changed")


def _summary(bid: str, series: list[HorizonPoint], changes: list[HorizonChange]) -> str:
    if not series:
        return f"{bid}: no dates"
    first = series[0]
    parts = [f"{first.status.value} on {first.date}"]
    for ch in changes:
        if ch.after is Status.PASS:
            parts.append(f"starts passing on {ch.date}")
        elif ch.before is Status.PASS:
            parts.append(f"stops passing on {ch.date} ({ch.after.value}: {ch.because})")
        else:
            parts.append(f"{ch.after.value} from {ch.date} ({ch.because})")
    if not changes:
        parts.append("no change over the horizon")
    return f"{bid}: " + "; ".join(parts)

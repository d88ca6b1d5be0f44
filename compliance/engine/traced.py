"""Value added per stage: the traced qualifying value of 30D and its 50 % safe harbour.

When the workbook's ``value_added`` sheet splits a mineral line's value across stages
(extraction, processing, recycling) and countries, the line no longer counts all-or-nothing:

- **traced qualifying value** (the default of the final regulations, 26 CFR 1.30D-3(a)(3)): the
  line's qualifying value is its value times the share of its value added that took place at a
  qualifying stage and place (extraction or processing in the US or an FTA country, recycling in
  North America);
- **50 % value-added safe harbour** (26 CFR 1.30D-3(a)(4), for periodic written reports before
  2027-01-01), when the battery elects it in ``minerals_method``: a line whose qualifying value
  added reaches the ruleset's share counts in full, and otherwise not at all.

Lines without value-added rows keep the row-level test of the requirement. A value-added row
with no country is unknown; the line's result is then bounded, as elsewhere in the engine.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl

from compliance.engine.context import BatteryContext, data_gap, money, num, pct_down
from compliance.engine.params import ParamLookup
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW
from compliance.report.model import DataGap
from compliance.rules.model import ContentShare, Ruleset

SAFE_HARBOUR = "value_added_50"


@dataclass(slots=True)
class TracedLines:
    """Per traced line: qualifying and unknown value, the reason, and per battery the method."""

    frame: pl.DataFrame  # battery_id, item id, __tqv, __tuv (Decimal)
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)
    gaps: dict[str, list[DataGap]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # battery -> method used, in words


def trace(req: ContentShare, rs: Ruleset, bom: Bom, batteries: list[BatteryContext],
          lookups: dict[str, ParamLookup]) -> TracedLines | None:
    spec = req.traced
    if spec is None or bom.value_added.height == 0:
        return None
    rows: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for rec in bom.value_added.iter_rows(named=True):
        rows[(rec["battery_id"], rec["line_id"])].append(rec)
    values = {(r[0], r[1]): r[2] for r in bom.frame(req.sheet).select(
        "battery_id", req.item_id, req.measure).iter_rows()}
    methods = {r["battery_id"]: r.get(spec.election_column)
               for r in bom.batteries.iter_rows(named=True)}
    out_ids: list[str] = []
    out_items: list[str] = []
    out_q: list[Decimal | None] = []
    out_u: list[Decimal | None] = []
    result = TracedLines(frame=pl.DataFrame())
    for ctx in batteries:
        lookup = lookups[ctx.battery_id]
        stage_lists = {s.stage: {c for n in s.countries for c in (lookup.get(n) or [])}
                       for s in spec.stages}
        elected = methods.get(ctx.battery_id) == SAFE_HARBOUR
        harbour = False
        share = lookup.get(spec.safe_harbour_share) if spec.safe_harbour_share else None
        if elected:
            day = ctx.dates.get(spec.safe_harbour_date_basis or req.date_basis)
            on_report = ParamLookup(rs, day)
            available = (on_report.get(spec.safe_harbour_available)
                         if spec.safe_harbour_available else None)
            if spec.safe_harbour_available:
                # Recorded among the values the verdict used, as in force on the report date.
                lookup.used[spec.safe_harbour_available] = (
                    on_report.used[spec.safe_harbour_available])
            if available is True and share is not None:
                harbour = True
                result.notes[ctx.battery_id] = (
                    f"the {num(share)} % value-added safe harbour elected in "
                    f"{spec.election_column}")
            else:
                result.notes[ctx.battery_id] = (
                    f"the value-added safe harbour elected in {spec.election_column} is not "
                    f"available for a report dated {day}; traced qualifying value used")
        for (battery, line), parts in rows.items():
            if battery != ctx.battery_id or (battery, line) not in values:
                continue
            value = values[(battery, line)]
            if value is None:
                continue
            value = Decimal(value)
            total = sum((Decimal(p["value_added_usd"] or 0) for p in parts), Decimal(0))
            if total == 0:
                continue
            good = unknown = Decimal(0)
            phrases: list[str] = []
            for p in parts:
                added = Decimal(p["value_added_usd"] or 0)
                if p["country"] is None or p["stage"] not in stage_lists:
                    unknown += added
                    result.gaps.setdefault(battery, []).append(data_gap(
                        sheet=bom.display_sheet("value_added"), row=p[ROW],
                        column="country" if p["country"] is None else "stage", cell=None,
                        item_id=line, message="the stage or country of this value added is "
                                              "empty or invalid"))
                    continue
                ok = p["country"] in stage_lists[p["stage"]]
                if ok:
                    good += added
                phrases.append(f"{p['stage']} in {p['country']} {money(added)}"
                               + ("" if ok else " (not qualifying)"))
            if harbour:
                if good * 100 >= share * total:
                    q, u = value, Decimal(0)
                elif (good + unknown) * 100 >= share * total:
                    q, u = Decimal(0), value
                else:
                    q, u = Decimal(0), Decimal(0)
                how = (f"{num(pct_down(good * 100 / total))} % of its value added qualifies "
                       f"(safe harbour needs {num(share)} %)")
            else:
                q, u = value * good / total, value * unknown / total
                how = (f"traced: {num(pct_down(good * 100 / total))} % of its value added "
                       f"qualifies, so {money(q)} of {money(value)} counts")
            result.reasons[(battery, line)] = how + " - " + "; ".join(phrases)
            out_ids.append(battery)
            out_items.append(line)
            out_q.append(q)
            out_u.append(u)
    result.frame = pl.DataFrame(
        {"battery_id": out_ids, req.item_id: out_items, "__tqv": out_q, "__tuv": out_u},
        schema={"battery_id": pl.String, req.item_id: pl.String,
                "__tqv": pl.Decimal(38, 12), "__tuv": pl.Decimal(38, 12)})
    return result

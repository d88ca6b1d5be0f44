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
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

import polars as pl

from compliance.engine.context import (
    BatteryContext,
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
    requirement_result,
    result_base,
    share_of,
    usd,
)
from compliance.engine.entities import (
    EntitySheets,
    EntityTests,
    describe_unknown,
    parameters_of,
)
from compliance.engine.params import group_by_values, read_in_groups
from compliance.engine.scope import shared
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW
from compliance.report.model import DataGap, LineResult, RequirementResult, Status
from compliance.rules.model import Activity, ProhibitedEntity, Ruleset

TEST = "__test"  # which evaluation of the entity test (by the values in force) a row used
WHY = "__why"  # which combination of activity cells and entity test values a row has


def evaluate_prohibited(
    req: ProhibitedEntity, rs: Ruleset, bom: Bom, batteries: list[BatteryContext],
    *, list_lines: bool = True,
) -> dict[str, RequirementResult]:
    """Each battery's result; without ``list_lines`` the prohibited and relieved rows are only
    counted, not listed (see :func:`compliance.engine.audit.run_audit`)."""
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

    entity_params = list(dict.fromkeys(parameters_of(rs, req.entity_test)))  # once each
    names = list(dict.fromkeys([req.in_force, *entity_params,
                                *([req.relief.in_force] if req.relief else [])]))
    lookups, groups = group_by_values(rs, batteries, req.date_basis, names)

    # Groups that differ only in whether the rule or its relief is in force judge entities
    # alike, as do other requirements of the audit with the same entity test: they share one
    # evaluation of it (the costly part).
    sheets = shared(("entity sheets", id(bom.entities), id(bom.ownership)),
                    lambda: EntitySheets.of(bom.entities, bom.ownership))
    tests: list[EntityTests] = []
    test_index: dict[tuple[Any, ...], int] = {}
    evaluated: list[pl.DataFrame] = []
    in_force: dict[str, bool] = {}
    # First, so every battery lists the values it used in the same order.
    read_in_groups(lookups, groups, names)
    for ids in groups:
        probe = lookups[ids[0]]
        active = probe.get(req.in_force) is True
        relief = req.relief is not None and probe.get(req.relief.in_force) is True
        values = tuple(probe.start(n) for n in entity_params)
        if values not in test_index:
            test_index[values] = len(tests)
            tests.append(shared(("entity tests", id(rs), id(sheets), req.entity_test, values),
                                lambda probe=probe: EntityTests(rs, sheets, probe)))
        index = test_index[values]
        for bid in ids:
            in_force[bid] = active
        if not active:
            continue
        part = lines.filter(pl.col("battery_id").is_in(ids))
        evaluated.append(_classify(part, req, tests[index], relief)
                         .with_columns(pl.lit(index).alias(TEST)))
    frame = pl.concat(evaluated) if evaluated else None

    if frame is not None:
        totals = {r[0]: (r[1], r[2]) for r in frame.group_by("battery_id").agg(
            pl.col(measure).sum().alias("total"),
            pl.col(measure).is_null().sum().alias("missing")).iter_rows()}
        listed = _listed(frame, req, measure, tests, bom, test.title,
                         {b: decimal_or_zero(t) for b, (t, _) in totals.items()},
                         # Without amounts, the explanation names every prohibited row.
                         list_lines or req.measure is None)
    else:
        totals, listed = {}, {}

    results: dict[str, RequirementResult] = {}
    base = result_base(req, None, "at_most")  # the same for every battery but the date
    for ctx in batteries:
        lookup = lookups[ctx.battery_id]
        day = ctx.dates.get(req.date_basis)
        common = {**base, "date": day, "parameters": lookup.uses(),
                  "provisional": lookup.provisional}
        if day is None:
            basis = rs.date_bases[req.date_basis]
            results[ctx.battery_id] = requirement_result(
                **common, status=Status.INSUFFICIENT_DATA,
                explanation=f"no valid date the battery was {basis.label}",
                gaps=[date_gap(ctx, rs, req.date_basis, bom)])
            continue
        if not in_force.get(ctx.battery_id):
            results[ctx.battery_id] = requirement_result(
                **common, status=Status.NOT_APPLICABLE,
                explanation=f"not in force for batteries {rs.date_bases[req.date_basis].label} "
                            f"on {day}")
            continue
        total_raw, _missing = totals.get(ctx.battery_id, (None, 0))
        total = decimal_or_zero(total_raw)
        found = listed.get(ctx.battery_id) or _Listed()
        hits, hit_count, hit_value = found.hits, found.hit_count, found.hit_value
        relieved, relieved_count = found.relieved, found.relieved_count
        gaps = [*excluded_gaps(ctx, req.sheet, bom), *found.gaps]
        hits.sort(key=lambda x: (-(x.value_usd or 0), x.row))
        if hit_count:
            status = Status.FAIL
        elif gaps:
            status = Status.INSUFFICIENT_DATA
        else:
            status = Status.PASS
        actual = (hit_value * 100 / total) if total else None
        noun = "rows involve" if hit_count != 1 else "row involves"
        if status is Status.FAIL and req.measure is None:
            explanation = "; ".join(h.reason for h in hits) + f": no {test.title} is allowed"
        elif status is Status.FAIL:
            explanation = (f"{hit_count} {noun.split()[0]} ({money(hit_value)}"
                           + (f", {num(pct_down(actual))} % of the value" if actual else "")
                           + f") {noun.split()[1]} a {test.title}; none is allowed")
        elif status is Status.PASS:
            explanation = f"no row involves a {test.title}"
        else:
            explanation = f"no {test.title} found, but some rows cannot be cleared for missing data"
        if relieved_count:
            explanation += f"; {relieved_count} {'rows' if relieved_count != 1 else 'row'} " \
                           "left out under transition relief"
        results[ctx.battery_id] = requirement_result(
            **common, status=status, actual_pct=pct_down(actual) if actual is not None else None,
            required_pct=Decimal(0),
            shortfall_pct=pct_down(actual) if hit_count and actual else None,
            shortfall_usd=usd(hit_value) if hit_count and req.measure else None,
            total_usd=usd(total) if total_raw is not None else None,
            explanation=explanation, lines=hits if list_lines else [],
            relieved=relieved if list_lines else [], gaps=gaps)
    return results


@dataclass(slots=True)
class _Listed:
    """A battery's rows the report lists: prohibited, left out under relief, not clearable.

    The counts are kept also when the rows are not listed (``hits`` and ``relieved`` empty)."""

    hits: list[LineResult] = field(default_factory=list)
    relieved: list[LineResult] = field(default_factory=list)
    gaps: list[DataGap] = field(default_factory=list)
    hit_value: Decimal = Decimal(0)
    hit_count: int = 0
    relieved_count: int = 0


class _Why(NamedTuple):
    """Why a row (or one of its activities) is listed, in words, with the cells involved."""

    reason: str  # the prohibited activities
    letters: list[str]  # columns of the country and entity cells of those activities
    unknown: list[tuple[str, str | None, str]]  # (column, its letter, message) not clearable


def _listed(frame: pl.DataFrame, req: ProhibitedEntity, measure: str, tests: list[EntityTests],
            bom: Bom, title: str, totals: dict[str, Decimal],
            list_lines: bool) -> dict[str, _Listed]:
    """The listed rows of every battery, in sheet order, from the classified ``frame``; without
    ``list_lines``, only how many there are, their value and the gaps.

    A row's reasons depend only on its activity cells and the values of the entity test, so
    each distinct combination of them is explained once."""
    hit, relieved = pl.col("__hit"), pl.col("__relieved")
    cells = list(dict.fromkeys(c for act in req.activities
                               for c in (act.country, act.entity, act.when) if c))
    frame = frame.select(list(dict.fromkeys(["battery_id", ROW, req.item_id, measure, "__hit",
                                             "__relieved", TEST, *cells])))  # read here
    # Unlisted prohibited rows need no reason: only rows that cannot be cleared are explained.
    explain = (hit.is_null() | hit) if list_lines else hit.is_null()
    explained, combinations = number_distinct(frame.filter(~relieved & explain), [TEST, *cells],
                                              WHY)
    reasons = _Reasons(req, tests, title, bom, cells)
    whys = [reasons.of_row(index, values) for index, *values in combinations]
    sheet = bom.display_sheet(req.sheet)
    out: dict[str, _Listed] = defaultdict(_Listed)
    says = req.relief.says if req.relief else ""
    if list_lines:
        for battery, row, item, value in column_rows(
                frame.filter(relieved), "battery_id", ROW, req.item_id, measure):
            found = out[battery]
            found.relieved_count += 1
            found.relieved.append(line_result(
                sheet, row, str(item), usd(value), share_of(value, totals[battery]), says, []))
        for battery, row, item, value, why in column_rows(
                explained.filter(hit), "battery_id", ROW, req.item_id, measure, WHY):
            found, reason = out[battery], whys[why]
            found.hit_count += 1
            found.hit_value += Decimal(value or 0)
            found.hits.append(line_result(
                sheet, row, str(item), usd(value), share_of(value, totals[battery]),
                reason.reason, [f"{letter}{row}" for letter in reason.letters]))
    else:
        for (battery,) in column_rows(frame.filter(relieved), "battery_id"):
            out[battery].relieved_count += 1
        for battery, value in column_rows(frame.filter(~relieved & hit), "battery_id", measure):
            found = out[battery]
            found.hit_count += 1
            found.hit_value += Decimal(value or 0)
    for battery, row, item, why in column_rows(
            explained.filter(hit.is_null()), "battery_id", ROW, req.item_id, WHY):
        out[battery].gaps.extend(
            data_gap(sheet=sheet, row=row, column=column,
                     cell=f"{letter}{row}" if letter else None, item_id=str(item),
                     message=message)
            for column, letter, message in whys[why].unknown)
    return out


def _classify(
    part: pl.DataFrame, req: ProhibitedEntity, verdicts: EntityTests, relief: bool
) -> pl.DataFrame:
    """Add ``__hit`` (bool/None) and ``__relieved`` to each line, vectorised."""
    ent = verdicts.frame(req.entity_test)
    covered = verdicts.activity_countries(req.entity_test)
    hit_exprs = []
    for act in req.activities:
        # An activity with no entity named, or one not in the sheet, cannot be cleared.
        caught = pl.col(act.entity).replace_strict(ent["__eid"], ent["__caught"], default=None,
                                                   return_dtype=pl.Boolean)
        entity_hit = pl.when(pl.col(act.entity).is_null()).then(None).otherwise(caught)
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
    return part.with_columns(total.alias("__hit"), relieved.fill_null(False).alias("__relieved"))


class _Reasons:
    """Why rows are listed. An activity's part depends only on its own cells and the values of
    the entity test, and many rows share them, so each part is worked out once."""

    def __init__(self, req: ProhibitedEntity, tests: list[EntityTests], title: str, bom: Bom,
                 cells: list[str]):
        self.req = req
        self.tests = tests
        self.title = title
        self.bom = bom
        self.parts: dict[tuple[Any, ...], _Why] = {}
        # Where each activity's cells are among ``cells`` (the order :meth:`of_row` gets them
        # in): its flag (None: it always applies), its country (None: it has none), its entity.
        at = {c: i for i, c in enumerate(cells)}.get
        self.places = [(at(act.when) if act.when else None,
                        at(act.country) if act.country else None, at(act.entity))
                       for act in req.activities]

    def of_row(self, test: int, values: Sequence[Any]) -> _Why:
        """The reasons for a row with these cells (in the order of ``cells``), judged by
        evaluation ``test``."""
        found = []
        for i, (when, country_at, entity_at) in enumerate(self.places):
            if when is not None and values[when] is not True:
                continue
            country = values[country_at] if country_at is not None else None
            entity = values[entity_at]
            key = (test, i, country, entity)
            if key not in self.parts:
                self.parts[key] = self._activity(self.tests[test], self.req.activities[i],
                                                 country, entity)
            found.append(self.parts[key])
        return _Why("; ".join(p.reason for p in found if p.reason),
                    [x for p in found for x in p.letters],
                    [x for p in found for x in p.unknown])

    def _activity(self, verdicts: EntityTests, act: Activity, country: str | None,
                  entity: str | None) -> _Why:
        """Why the activity is prohibited ("" if it is not) and what cannot be cleared."""
        title, test = self.title, self.req.entity_test
        covered = verdicts.activity_countries(test)
        who = f" by {entity}" if entity else ""
        where = f" in {country}" if country else ""
        found: list[str] = []
        unknown: list[tuple[str, str]] = []
        if covered is not None and country in covered:
            found.append(verdicts.activity_reason(test, act.name))
        if entity is not None and entity in verdicts.rows:
            caught, why, missing = verdicts.judge(test, entity)
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
        letter, sheet = self.bom.letter, self.req.sheet
        gaps = [(column, letter(sheet, column), message) for column, message in unknown]
        if not found:
            return _Why("", [], gaps)
        cells = [letter(sheet, c) for c in (act.country, act.entity) if c is not None]
        return _Why(f"{act.verb}{where}{who}: {'; '.join(dict.fromkeys(found))}",
                    [x for x in cells if x], gaps)

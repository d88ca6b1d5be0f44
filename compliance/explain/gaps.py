"""Data gaps and what each one could do to a verdict if it were filled either way.

A verdict of ``insufficient_data`` lists the cells it could not do without. For each such cell
this module fills it with a few representative values and re-runs the engine on that battery
alone (the real engine, not a model of it):

* a country cell: one country from each class of the ruleset's country lists (US; CA/MX; an
  FTA country; Japan, which joined later; a covered nation; a country in no list);
* an amount: 0 and $1,000,000,000; a percentage: 0 and 100; a true/false cell: both;
* a date: every date on which a ruleset value changes (verdicts only change on those dates);
* a supplier reference that is empty or names no row of the entities sheet: a supplier that
  clears every check of the entity test, and one that fails all of them; a supplier whose
  checked cells are empty: those cells filled the kindest and the harshest way.

Other gaps are filled one at a time, so a gap whose verdict stays ``insufficient_data`` both
ways "needs other gaps": it matters only together with them. A verdict that is already decided
(pass, fail, not applicable) was decided by the engine's three-valued logic without the cell, so
every gap on it is harmless and no fill is run. Row-level gaps (a row that could not be read at
all) cannot be filled and are reported as not assessed.

A ``provisional`` verdict is a pass or fail that rests on a ruleset value marked unconfirmed
(its ``provisional_outcome``). It counts as decided: its gaps are harmless, since only the
unconfirmed value, not the cell, could change it. A fill whose re-audit is provisional is an
outcome like any other: the gap "can change" an ``insufficient_data`` verdict into, say,
"provisional (pass)". Each outcome keeps the pass or fail it rests on, and outcomes are ranked
from kindest to harshest as pass, provisional pass, not applicable, insufficient data,
provisional fail, fail: a provisional outcome is as good or bad as the outcome it rests on, but
less certain.

The effect vocabulary is therefore the same whatever the statuses: ``harmless`` (every fill
gives the current verdict), ``needs_other_gaps`` (every fill leaves it ``insufficient_data``),
``can_change`` (some fill gives another verdict, a provisional one included) and
``not_assessed`` (no fill was run).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

import compliance
from compliance.contract import SHEETS_BY_NAME, Kind
from compliance.countries import is_country_code
from compliance.explain.changes import ResolvedChange, add_entities, apply, read_cells
from compliance.explain.model import GapAnalysis, GapOutcome
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW
from compliance.report.model import DataGap, Status, Verdict
from compliance.rules.loader import LoadedRuleset
from compliance.rules.model import Ruleset, Unit

# From kindest to harshest; a provisional verdict ranks next to the outcome it rests on (see
# the module's docstring), so it is looked up through ``kindness``.
KINDNESS = {Status.PASS: 0, Status.NOT_APPLICABLE: 2, Status.INSUFFICIENT_DATA: 3,
            Status.FAIL: 5}
_PROVISIONAL_KINDNESS = {Status.PASS: 1, Status.FAIL: 4}
_OUTSIDE_PREFERENCE = ("BR", "DE", "IN", "FR", "GB", "ID", "AR", "ZA")
CLEARED_ID = "(cleared supplier)"
FLAGGED_ID = "(flagged supplier)"

Fill = tuple[str, Callable[[Bom], Bom]]


@dataclasses.dataclass(slots=True)
class _Subject:
    key: tuple[Any, ...]
    gap: DataGap
    sheet: str  # contract sheet
    requirements: list[str]
    fills: list[Fill] | None  # None: cannot be filled (not assessed)
    why_not: str = ""


def kindness(status: Status, provisional_outcome: Status | None = None) -> int:
    """Rank of a verdict from kindest (0) to harshest, for the best and worst fill of a gap."""
    if status is not Status.PROVISIONAL:
        return KINDNESS[status]
    if provisional_outcome is not None and provisional_outcome in _PROVISIONAL_KINDNESS:
        return _PROVISIONAL_KINDNESS[provisional_outcome]
    # Without the outcome it rests on, a provisional verdict is as undecided as a gap.
    return KINDNESS[Status.INSUFFICIENT_DATA]


def verdict_words(status: Status, provisional_outcome: Status | None = None) -> str:
    """``pass``, ``insufficient_data``, ..., or ``provisional (pass)`` for a provisional one."""
    if status is Status.PROVISIONAL and provisional_outcome is not None:
        return f"{status.value} ({provisional_outcome.value})"
    return status.value


def change_dates(rs: Ruleset) -> list[dt.date]:
    return sorted({day for p in rs.parameters.values() for day in p.values})


def country_classes(rs: Ruleset) -> list[tuple[str, str]]:
    """One (code, description) per class of countries the ruleset's lists tell apart.

    Two countries are in the same class when every country-list value of every date either
    holds both or neither, so filling a cell with any member gives the same verdict.
    """
    member: dict[str, set[tuple[str, dt.date]]] = {}
    labels: dict[str, set[str]] = {}
    for name, param in rs.parameters.items():
        if param.unit is not Unit.COUNTRIES:
            continue
        for day, item in param.values.items():
            for code in item.value or ():
                member.setdefault(code, set()).add((name, day))
                labels.setdefault(code, set()).add(param.label or name)
    classes: dict[frozenset[tuple[str, dt.date]], list[str]] = {}
    for code, sig in member.items():
        classes.setdefault(frozenset(sig), []).append(code)
    out = []
    for codes in classes.values():
        code = sorted(codes)[0]
        out.append((code, f"{code} ({', '.join(sorted(labels[code]))})"))
    outside = next((c for c in _OUTSIDE_PREFERENCE if c not in member and is_country_code(c)),
                   None)
    if outside:
        out.append((outside, f"{outside} (in no list)"))
    return sorted(out)


def _entity_records(rs: Ruleset) -> tuple[dict[str, str], dict[str, str], str]:
    """Entity cells that clear every check of the ruleset's entity tests, and that fail all."""
    cleared: dict[str, str] = {}
    flagged: dict[str, str] = {}
    outside = next((c for c in _OUTSIDE_PREFERENCE if is_country_code(c)), "BR")
    titles = []
    for test in rs.entity_tests.values():
        titles.append(test.title)
        for check in test.checks:
            if not check.column:
                continue
            values = [item.value for _, item in sorted(rs.parameters[check.parameter]
                                                         .values.items()) if item.value]
            latest = values[-1] if values else None
            if check.kind == "country_in":
                inside = sorted(latest or [])
                cleared[check.column] = next(
                    (c for c in _OUTSIDE_PREFERENCE if c not in inside), outside)
                flagged[check.column] = inside[0] if inside else outside
            elif check.kind in ("at_least", "more_than"):
                cleared[check.column], flagged[check.column] = "0", "100"
            elif check.kind == "flag":
                cleared[check.column], flagged[check.column] = "false", "true"
            elif check.kind == "listed":
                cleared[check.column] = ""
                flagged[check.column] = sorted(latest)[0] if latest else ""
    return cleared, flagged, " or ".join(titles) or "flagged supplier"


def analyse_gaps(
    bom: Bom, loaded: LoadedRuleset, battery_id: str, verdict: Verdict, *,
    as_of: dt.date | None = None, limit: int = 20,
) -> tuple[list[GapAnalysis], int]:
    """Every gap of one verdict with its effect; and how many were not filled for the limit."""
    rs = loaded.ruleset
    subjects = _subjects(bom, rs, verdict)
    if not subjects:
        return [], 0
    decided = verdict.status is not Status.INSUFFICIENT_DATA
    base = None if decided else _only(bom, battery_id)
    out: list[GapAnalysis] = []
    skipped = 0
    filled = 0
    for subject in subjects:
        gap = subject.gap
        common = dict(sheet=gap.sheet, row=gap.row, column=gap.column, cell=gap.cell,
                      item_id=gap.item_id, message=gap.message,
                      requirements=subject.requirements, current=verdict.status)
        if decided:
            # pass, fail, not applicable, or provisional: a pass or fail resting on an
            # unconfirmed ruleset value, which the cell cannot change either.
            shown = verdict_words(verdict.status, verdict.provisional_outcome)
            out.append(GapAnalysis(
                **common, best=verdict.status, worst=verdict.status, effect="harmless",
                note=f"harmless: the verdict is {shown} whatever the cell holds"))
            continue
        if subject.fills is None:
            out.append(GapAnalysis(**common, effect="not_assessed", note=subject.why_not))
            continue
        if not subject.fills:  # every representative value was refused by the reader
            out.append(GapAnalysis(**common, effect="not_assessed",
                                   note="not assessed: no representative value can be read "
                                        "into this cell"))
            continue
        if filled >= limit:
            skipped += 1
            out.append(GapAnalysis(**common, effect="not_assessed",
                                   note=f"not assessed: only the first {limit} gaps of a "
                                        "verdict are filled (raise --max-gaps)"))
            continue
        filled += 1
        assert base is not None
        outcomes = [_outcome_after(label, make(base), loaded, battery_id, as_of)
                    for label, make in subject.fills]
        out.append(_judge(common, verdict.status, outcomes,
                          current_outcome=verdict.provisional_outcome))
    return out, skipped


def _only(bom: Bom, battery_id: str) -> Bom:
    from compliance.explain.changes import only_battery

    return only_battery(bom, battery_id)


def _outcome_after(fill: str, bom: Bom, loaded: LoadedRuleset, battery_id: str,
                   as_of: dt.date | None) -> GapOutcome:
    """The battery's verdict once the gap is filled with ``fill``, from the engine."""
    report = compliance.audit(bom, [loaded], as_of=as_of)
    for battery in report.batteries:
        if battery.battery_id == battery_id:
            verdict = battery.verdicts[0]
            return GapOutcome(fill=fill, status=verdict.status,
                              provisional_outcome=verdict.provisional_outcome)
    return GapOutcome(fill=fill, status=Status.INSUFFICIENT_DATA)


def _judge(common: dict[str, Any], current: Status, outcomes: list[GapOutcome], *,
           current_outcome: Status | None = None) -> GapAnalysis:
    def rank(key: tuple[Status, Status | None]) -> int:
        return kindness(*key)

    # A verdict is its status and, for a provisional one, the pass or fail it rests on.
    verdicts = {(o.status, o.provisional_outcome) for o in outcomes}
    best = min(verdicts, key=rank)[0]
    worst = max(verdicts, key=rank)[0]
    by_verdict: dict[tuple[Status, Status | None], list[str]] = {}
    for o in outcomes:
        by_verdict.setdefault((o.status, o.provisional_outcome), []).append(o.fill)
    listing = "; ".join(f"{verdict_words(*key)} if {', '.join(fills)}"
                        for key, fills in sorted(by_verdict.items(),
                                                 key=lambda kv: rank(kv[0])))
    if verdicts == {(current, current_outcome)}:
        if current is Status.INSUFFICIENT_DATA:
            effect = "needs_other_gaps"
            note = ("cannot settle the verdict on its own: still insufficient_data whichever "
                    "way it is filled; other gaps must be filled too")
        else:
            effect = "harmless"
            note = (f"harmless: {verdict_words(current, current_outcome)} whichever way it is "
                    "filled")
    else:
        effect, note = "can_change", f"can change the verdict: {listing}"
    return GapAnalysis(**common, best=best, worst=worst, effect=effect, outcomes=outcomes,
                       note=note)


def _subjects(bom: Bom, rs: Ruleset, verdict: Verdict) -> list[_Subject]:
    by_display = {bom.display_sheet(name): name for name in SHEETS_BY_NAME}
    subjects: dict[tuple[Any, ...], _Subject] = {}
    for req in verdict.requirements:
        for gap in req.gaps:
            sheet = by_display.get(gap.sheet, gap.sheet)
            subject = _subject(bom, rs, sheet, gap)
            found = subjects.setdefault(subject.key, subject)
            if req.id not in found.requirements:
                found.requirements.append(req.id)
    order = {name: i for i, name in enumerate(SHEETS_BY_NAME)}
    return sorted(subjects.values(),
                  key=lambda s: (order.get(s.sheet, 99), s.gap.row or 0, s.gap.column or ""))


def _subject(bom: Bom, rs: Ruleset, sheet: str, gap: DataGap) -> _Subject:
    key: tuple[Any, ...] = (sheet, gap.row, gap.column)
    spec = SHEETS_BY_NAME.get(sheet)
    column = None
    if spec is not None and gap.column is not None:
        try:
            column = spec.column(gap.column)
        except KeyError:
            column = None
    if gap.row is None:
        return _Subject(key, gap, sheet, [], None,
                        "not assessed: there is no cell to fill; add the missing rows first")
    if column is None or gap.column in (spec.key if spec else ()):
        return _Subject(key, gap, sheet, [], None,
                        "not assessed: the row could not be read at all; fix it (see the "
                        "findings for that row) before its effect can be judged")
    row = gap.row
    if column.kind is Kind.ID:
        return _entity_subject(bom, rs, sheet, gap, key)
    texts: list[tuple[str, str]]
    if column.kind is Kind.COUNTRY:
        texts = [(code, label) for code, label in country_classes(rs)]
    elif column.kind in (Kind.MONEY, Kind.MASS):
        texts = [("0", "0"), ("1000000000", "1,000,000,000")]
    elif column.kind is Kind.PERCENT:
        texts = [("0", "0 %"), ("100", "100 %")]
    elif column.kind is Kind.BOOL:
        texts = [("true", "true"), ("false", "false")]
    elif column.kind is Kind.DATE:
        texts = [(d.isoformat(), d.isoformat()) for d in change_dates(rs)]
    else:
        return _Subject(key, gap, sheet, [], None,
                        f"not assessed: {gap.column} cells are not varied by the analysis")
    fills: list[Fill] = []
    values = read_cells(sheet, gap.column or "", [t for t, _ in texts])
    for (text, label), (value, problem) in zip(texts, values, strict=True):
        if problem is not None:
            continue
        change = ResolvedChange(sheet, row, None, gap.item_id or "", gap.column or "", value,
                                text)
        fills.append((label, _setter([change])))
    return _Subject(key, gap, sheet, [], fills)


def _setter(changes: Sequence[ResolvedChange]) -> Callable[[Bom], Bom]:
    def make(bom: Bom) -> Bom:
        return apply(bom, changes)[0]

    return make


def _entity_subject(bom: Bom, rs: Ruleset, sheet: str, gap: DataGap,
                    key: tuple[Any, ...]) -> _Subject:
    column = gap.column or ""
    frame = bom.frame(sheet).filter(pl.col(ROW) == gap.row)
    entity = frame.get_column(column)[0] if frame.height else None
    cleared, flagged, title = _entity_records(rs)
    if entity is None:
        # Nobody named: fill the reference with a supplier that clears / fails every check.
        def named(eid: str, record: dict[str, str]) -> Callable[[Bom], Bom]:
            def make(bom: Bom) -> Bom:
                with_entity = add_entities(bom, [{"entity_id": eid, "name": eid, **record}])
                change = ResolvedChange(sheet, gap.row or 0, None, gap.item_id or "", column,
                                        eid, eid)
                return apply(with_entity, [change])[0]

            return make

        return _Subject(key, gap, sheet, [], [
            ("a supplier that clears every check", named(CLEARED_ID, cleared)),
            (f"a {title}", named(FLAGGED_ID, flagged))])
    rows = bom.entities.filter(pl.col("entity_id") == entity)
    ekey: tuple[Any, ...] = ("entities", entity)
    if rows.height == 0:
        def added(record: dict[str, str]) -> Callable[[Bom], Bom]:
            def make(bom: Bom) -> Bom:
                return add_entities(bom, [{"entity_id": entity, "name": entity, **record}])

            return make

        return _Subject(ekey, gap, sheet, [], [
            (f"{entity} added as a supplier that clears every check", added(cleared)),
            (f"{entity} added as a {title}", added(flagged))])
    record = rows.row(0, named=True)
    blanks = [c for c in cleared if c in record and record[c] is None]
    if not blanks:
        return _Subject(ekey, gap, sheet, [], None,
                        "not assessed: no empty checked cell found for this supplier")

    def blanks_filled(values: dict[str, str]) -> Callable[[Bom], Bom]:
        changes = [ResolvedChange("entities", record[ROW], None, entity, c,
                                  read_cells("entities", c, [values[c]])[0][0], values[c])
                   for c in blanks]
        return _setter(changes)

    listed = ", ".join(blanks)
    return _Subject(ekey, gap, sheet, [], [
        (f"{entity}'s {listed} filled to clear it", blanks_filled(cleared)),
        (f"{entity}'s {listed} filled to flag it", blanks_filled(flagged))])

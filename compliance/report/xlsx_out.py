"""The audit as a new Excel workbook: summary, one sheet per requirement, annotated input.

Sheets, in order:

* ``summary``: the input, rulesets and date, then one row per battery and ruleset;
* one sheet per requirement (``critical_minerals``, ...): each battery's result, then every line
  that breaks it, is relieved from it or lacks data;
* ``plan`` and ``horizon`` when those were computed;
* ``in <sheet>`` for each input sheet: a copy of its *values* with the cells behind a failure
  filled red, data gaps yellow and cells the reader could not use orange, each with a comment
  saying why.

The user's file is never modified or re-saved: its typed cell values (cached results rather than
formulas) are read with python-calamine and written into a brand-new workbook by
:mod:`compliance.report.xlsx_writer`, which streams each sheet into the zip and writes every
string as a text cell, so a value such as ``=HYPERLINK(...)`` stays text and never becomes a
formula.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from compliance.findings import column_index
from compliance.report.model import AuditReport
from compliance.report.xlsx_writer import Sheet, Styled, XlsxBook

if TYPE_CHECKING:
    from compliance.explain.model import Horizon, Plan
    from compliance.reader.bom import Bom

MAX_COPY_ROWS = 100_000  # per input sheet copied into the report
_STATUS_FILL = {"pass": "C6EFCE", "fail": "FFC7CE", "insufficient_data": "FFEB9C",
                "not_applicable": "EDEDED"}
_MARK_FILL = {"fail": "FF9999", "gap": "FFE699", "error": "F4B183", "warning": "FFE699"}
_MARK_ORDER = {"fail": 0, "error": 1, "gap": 2, "warning": 3}
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def render_xlsx(report: AuditReport, *, bom: Bom | None = None, plan: Plan | None = None,
                horizon: Horizon | None = None, **_: Any) -> bytes:
    book = XlsxBook()
    titles: set[str] = set()
    _summary(book.sheet(_title("summary", titles), {"A": 22, "E": 80}), report)
    seen: dict[tuple[str, str], list[Any]] = {}
    for battery in report.batteries:
        for verdict in battery.verdicts:
            for req in verdict.requirements:
                seen.setdefault((verdict.ruleset, req.id), []).append((battery, req))
    for (_ruleset, rid), items in seen.items():
        _requirement(book.sheet(_title(rid, titles), {"A": 18, "J": 80}), items)
    if plan is not None:
        _plan(book.sheet(_title("plan", titles), {"H": 90}), plan)
    if horizon is not None:
        _horizon(book.sheet(_title("horizon", titles)), horizon)
    if bom is not None:
        marks = _marks(report)
        for sheet, rows in _input_sheets(bom):
            _copy(book.sheet(_title(f"in {sheet}", titles)), rows, marks.get(sheet, {}))
    return book.close()


def _title(name: str, used: set[str]) -> str:
    base = _BAD_TITLE.sub("_", name).strip("'")[:31] or "sheet"
    title, n = base, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def _cell(value: Any, *, bold: bool = False, fill: str | None = None,
          comment: str | None = None) -> Any:
    """``value``, styled when it is bold, filled or annotated."""
    return Styled(value, bold, fill, comment) if bold or fill or comment else value


def _row(ws: Sheet, values: Iterable[Any], *, bold: bool = False) -> None:
    ws.append([Styled(v, bold=True) for v in values] if bold else values)


def _summary(ws: Sheet, report: AuditReport) -> None:
    _row(ws, ["Audit of", report.input.name], bold=True)
    _row(ws, ["input sha256", report.input.sha256 or "-"])
    for r in report.rulesets:
        _row(ws, ["ruleset", f"{r.id}@{r.version}", f"sha256 {r.sha256}",
                  f"reviewed {r.last_reviewed}"])
    _row(ws, ["tool", f"{report.tool.name} {report.tool.version}"])
    if report.as_of:
        _row(ws, ["as of", report.as_of.isoformat()])
    s = report.summary
    _row(ws, ["overall", report.status.value])
    _row(ws, ["batteries", s.batteries, f"{s.passed} pass, {s.failed} fail, "
              f"{s.insufficient_data} insufficient data, {s.not_applicable} not applicable; "
              f"{s.errors} input errors, {s.warnings} warnings"])
    _row(ws, [])
    _row(ws, ["battery_id", "ruleset", "status", "credit_usd", "summary"], bold=True)
    for battery in report.batteries:
        for v in battery.verdicts:
            ws.append([battery.battery_id, v.ruleset,
                       _cell(v.status, fill=_STATUS_FILL.get(v.status.value)),
                       v.credit_usd, v.summary])


def _requirement(ws: Sheet, items: list[tuple[Any, Any]]) -> None:
    first = items[0][1]
    _row(ws, [first.id, first.title], bold=True)
    _row(ws, [])
    _row(ws, ["battery_id", "status", "actual_pct", "required_pct", "shortfall_pct",
              "shortfall_usd", "total_usd", "qualifying_usd", "credit_usd", "explanation"],
         bold=True)
    for battery, req in items:
        ws.append([battery.battery_id,
                   _cell(req.status, fill=_STATUS_FILL.get(req.status.value)),
                   req.actual_pct, req.required_pct, req.shortfall_pct, req.shortfall_usd,
                   req.total_usd, req.qualifying_usd, req.credit_usd, req.explanation])
    _row(ws, [])
    _row(ws, ["battery_id", "record", "sheet", "row", "item_id", "value_usd", "share_pct",
              "mass_kg", "cells", "column", "reason"], bold=True)
    for battery, req in items:
        for kind, lines in (("line", req.lines), ("relieved", req.relieved)):
            for x in lines:
                _row(ws, [battery.battery_id, kind, x.sheet, x.row, x.item_id, x.value_usd,
                          x.share_pct, x.mass_kg, " ".join(x.cells), None, x.reason])
        for g in req.gaps:
            _row(ws, [battery.battery_id, "gap", g.sheet, g.row, g.item_id, None, None, None,
                      g.cell, g.column, g.message])


def _plan(ws: Sheet, plan: Plan) -> None:
    _row(ws, ["battery_id", "ruleset", "requirement", "action", "item_id", "row", "value_usd",
              "details"], bold=True)
    for b in plan.batteries:
        for s in b.shares:
            for opt in (s.fewest_lines, s.least_value, s.with_required_changes):
                for x in (opt.lines if opt else []):
                    _row(ws, [b.battery_id, b.ruleset, s.requirement,
                              f"re-source ({opt.objective.replace('_', ' ')})",  # type: ignore[union-attr]
                              x.item_id, x.row, x.value_usd, x.now])
        for p in b.prohibitions:
            for line in p.lines:
                who = ", ".join(e.entity_id for e in line.entities
                                if e.entity_id and e.replace_entity)
                _row(ws, [b.battery_id, b.ruleset, p.requirement, "replace", line.item_id,
                          line.row, line.value_usd,
                          line.reason + (f" (replace {who})" if who else "")])
    _row(ws, [])
    _row(ws, ["battery_id", "in words"], bold=True)
    for b in plan.batteries:
        for w in b.words:
            _row(ws, [b.battery_id, w])


def _horizon(ws: Sheet, horizon: Horizon) -> None:
    _row(ws, ["battery_id", *[d.isoformat() for d in horizon.dates], "summary"], bold=True)
    for b in horizon.batteries:
        by_day = {p.date: p.status for p in b.points}
        cells = [b.battery_id]
        for d in horizon.dates:
            st = by_day.get(d)
            cells.append(_cell(st, fill=_STATUS_FILL.get(st.value) if st else None))
        cells.append(b.summary)
        ws.append(cells)


def _marks(report: AuditReport) -> dict[str, dict[str, list[tuple[str, str, str | None]]]]:
    """sheet -> cell -> [(kind, text, error value)] for failing cells, gaps and unusable
    cells."""
    out: dict[str, dict[str, list[tuple[str, str, str | None]]]] = {}

    def add(sheet: str | None, cell: str | None, kind: str, text: str,
            value: str | None = None) -> None:
        if sheet and cell:
            out.setdefault(sheet, {}).setdefault(cell.upper(), []).append((kind, text, value))

    for battery in report.batteries:
        for v in battery.verdicts:
            for r in v.requirements:
                for x in r.lines:
                    for c in x.cells:
                        add(x.sheet, c, "fail", f"{battery.battery_id} {r.id}: {x.reason}")
                for g in r.gaps:
                    add(g.sheet, g.cell, "gap", f"{battery.battery_id} {r.id}: {g.message}")
    for f in report.findings:
        if f.severity.value in ("error", "warning"):
            value = f.value if f.code == "error-cell" else None
            add(f.sheet, f.cell, f.severity.value, f"{f.code}: {f.message}", value)
    return out


def _input_sheets(bom: Bom) -> Iterable[tuple[str, Iterable[Sequence[Any]]]]:
    """(display name, rows of values from row 1) for each contract sheet of the input.

    A workbook's cells are read with python-calamine, which gives each cell's own type (number,
    text, date, true/false) 15 times faster than openpyxl's read-only mode. Only sheets the
    reader loaded are read: it has proved them safe to load.
    """
    from compliance.contract import SHEETS

    names = [bom.display_sheet(s.name) for s in SHEETS if s.name in bom.sheet_names]
    if bom.source is not None:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_object(io.BytesIO(bom.source.data))
        try:
            for name in names:
                if name in wb.sheet_names:
                    sheet = wb.get_sheet_by_name(name)
                    yield name, sheet.to_python(skip_empty_area=False, nrows=MAX_COPY_ROWS + 1)
        finally:
            wb.close()
        return
    # A BOM built in memory: lay out its typed frames as the reader numbered them.
    from compliance.explain.changes import as_text
    from compliance.reader.sheets import ROW

    for spec in SHEETS:
        frame = bom.frame(spec.name)
        letters = bom.letters.get(spec.name)
        if not letters or frame.height == 0:
            continue
        yield bom.display_sheet(spec.name), _frame_rows(frame, letters, as_text, ROW)


def _frame_rows(frame: Any, letters: dict[str, str], as_text: Any, row_col: str
                ) -> Iterable[list[Any]]:
    index = {col: column_index(letter) - 1 for col, letter in letters.items()}
    width = max(index.values()) + 1
    header: list[Any] = [None] * width
    for col, i in index.items():
        header[i] = col
    yield header
    current = 1
    for rec in frame.sort(row_col).iter_rows(named=True):
        while current + 1 < rec[row_col]:
            current += 1
            yield []
        current = rec[row_col]
        values: list[Any] = [None] * width
        for col, i in index.items():
            values[i] = as_text(rec.get(col))
        yield values


def _copy(ws: Sheet, rows: Iterable[Sequence[Any]],
          marks: dict[str, list[tuple[str, str, str | None]]]) -> None:
    """The input's rows, each marked cell filled and annotated.

    An error cell reads as empty; the reader's finding gives back its text (``#N/A``).
    """
    by_row: dict[int, dict[int, list[tuple[str, str, str | None]]]] = {}
    for ref, found in marks.items():
        letters = ref.rstrip("0123456789")
        number = ref[len(letters):]
        if letters and number:
            by_row.setdefault(int(number), {})[column_index(letters) - 1] = found
    for r, values in enumerate(rows, start=1):
        if r > MAX_COPY_ROWS:
            ws.append([_cell(f"... copy stopped after {MAX_COPY_ROWS:,} rows", bold=True)])
            break
        row = [None if v == "" else v for v in values]
        for c, found in by_row.get(r, {}).items():
            found = sorted(found, key=lambda kt: _MARK_ORDER[kt[0]])
            text = "\n".join(dict.fromkeys(t for _, t, _ in found))
            if c >= len(row):
                row.extend([None] * (c + 1 - len(row)))
            value = row[c]
            if value is None:
                value = next((v for _, _, v in found if v), None)
            row[c] = _cell(value, fill=_MARK_FILL[found[0][0]], comment=text)
        ws.append(row)

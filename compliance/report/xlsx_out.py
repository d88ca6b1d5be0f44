"""The audit as a new Excel workbook: summary, one sheet per requirement, annotated input.

Sheets, in order:

* ``summary``: the input, rulesets and date, then one row per battery and ruleset;
* one sheet per requirement (``critical_minerals``, ...): each battery's result, then every line
  that breaks it, is relieved from it or lacks data;
* ``plan`` and ``horizon`` when those were computed;
* ``in <sheet>`` for each input sheet: a copy of its *values* with the cells behind a failure
  filled red, data gaps yellow and cells the reader could not use orange, each with a comment
  saying why.

The user's file is never modified or re-saved: its cell values are read (read-only, cached
results rather than formulas) and written into a brand-new workbook. Every string is written as
a text cell, so a value such as ``=HYPERLINK(...)`` stays text and never becomes a formula.
The workbook is written in openpyxl's streaming mode so large BOMs stay within memory.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from compliance.report.model import AuditReport

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from compliance.explain.model import Horizon, Plan
    from compliance.reader.bom import Bom

MAX_COPY_ROWS = 100_000  # per input sheet copied into the report
_STATUS_FILL = {"pass": "C6EFCE", "fail": "FFC7CE", "insufficient_data": "FFEB9C",
                "not_applicable": "EDEDED"}
_MARK_FILL = {"fail": "FF9999", "gap": "FFE699", "error": "F4B183", "warning": "FFE699"}
_MARK_ORDER = {"fail": 0, "error": 1, "gap": 2, "warning": 3}
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def render_xlsx(report: AuditReport, *, bom: Bom | None = None, plan: Plan | None = None,
                horizon: Horizon | None = None, **_: Any) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    titles: set[str] = set()
    _summary(wb.create_sheet(_title("summary", titles)), report)
    seen: dict[tuple[str, str], list[Any]] = {}
    for battery in report.batteries:
        for verdict in battery.verdicts:
            for req in verdict.requirements:
                seen.setdefault((verdict.ruleset, req.id), []).append((battery, req))
    for (_ruleset, rid), items in seen.items():
        _requirement(wb.create_sheet(_title(rid, titles)), items)
    if plan is not None:
        _plan(wb.create_sheet(_title("plan", titles)), plan)
    if horizon is not None:
        _horizon(wb.create_sheet(_title("horizon", titles)), horizon)
    if bom is not None:
        marks = _marks(report)
        for sheet, rows in _input_sheets(bom):
            ws = wb.create_sheet(_title(f"in {sheet}", titles))
            _copy(ws, rows, marks.get(sheet, {}))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _title(name: str, used: set[str]) -> str:
    base = _BAD_TITLE.sub("_", name).strip("'")[:31] or "sheet"
    title, n = base, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def _cell(ws: WriteOnlyWorksheet, value: Any, *, bold: bool = False, fill: str | None = None,
          comment: str | None = None) -> Any:
    """A streaming cell: strings always as text (never a formula), numbers as numbers.

    Plain values are returned as they are (openpyxl writes them fastest that way); a styled
    cell, and any string openpyxl would otherwise read as a formula ("=...") or an error value
    ("#N/A"), becomes a cell whose type is forced to text.
    """
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Decimal):
        value = float(value)  # Excel holds numbers as doubles; the JSON report keeps decimals
    elif isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text_type = isinstance(value, str)
    if text_type:
        value = _ILLEGAL.sub("\ufffd", value)[:32767]
    if not (bold or fill or comment or (text_type and value[:1] in ("=", "#"))):
        return value
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    cell = WriteOnlyCell(ws, value=value)
    if text_type:
        cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    if bold:
        cell.font = _BOLD.setdefault("font", Font(bold=True))
    if fill:
        cell.fill = _FILLS.setdefault(fill, PatternFill("solid", start_color=fill,
                                                        end_color=fill))
    if comment:
        box = Comment(_ILLEGAL.sub("\ufffd", comment)[:2000], "compliance")
        box.width, box.height = 320, 140
        cell.comment = box
    return cell


_BOLD: dict[str, Any] = {}
_FILLS: dict[str, Any] = {}


def _row(ws: WriteOnlyWorksheet, values: Iterable[Any], *, bold: bool = False) -> None:
    ws.append([_cell(ws, v, bold=bold) for v in values])


def _summary(ws: WriteOnlyWorksheet, report: AuditReport) -> None:
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["E"].width = 80
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
            ws.append([_cell(ws, battery.battery_id), _cell(ws, v.ruleset),
                       _cell(ws, v.status, fill=_STATUS_FILL.get(v.status.value)),
                       _cell(ws, v.credit_usd), _cell(ws, v.summary)])


def _requirement(ws: WriteOnlyWorksheet, items: list[tuple[Any, Any]]) -> None:
    first = items[0][1]
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["J"].width = 80
    _row(ws, [first.id, first.title], bold=True)
    _row(ws, [])
    _row(ws, ["battery_id", "status", "actual_pct", "required_pct", "shortfall_pct",
              "shortfall_usd", "total_usd", "qualifying_usd", "credit_usd", "explanation"],
         bold=True)
    for battery, req in items:
        ws.append([_cell(ws, battery.battery_id),
                   _cell(ws, req.status, fill=_STATUS_FILL.get(req.status.value)),
                   *(_cell(ws, x) for x in (req.actual_pct, req.required_pct,
                                            req.shortfall_pct, req.shortfall_usd,
                                            req.total_usd, req.qualifying_usd,
                                            req.credit_usd, req.explanation))])
    _row(ws, [])
    _row(ws, ["battery_id", "record", "sheet", "row", "item_id", "value_usd", "share_pct",
              "cells", "column", "reason"], bold=True)
    for battery, req in items:
        for kind, lines in (("line", req.lines), ("relieved", req.relieved)):
            for x in lines:
                _row(ws, [battery.battery_id, kind, x.sheet, x.row, x.item_id, x.value_usd,
                          x.share_pct, " ".join(x.cells), None, x.reason])
        for g in req.gaps:
            _row(ws, [battery.battery_id, "gap", g.sheet, g.row, g.item_id, None, None,
                      g.cell, g.column, g.message])


def _plan(ws: WriteOnlyWorksheet, plan: Plan) -> None:
    ws.column_dimensions["H"].width = 90
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


def _horizon(ws: WriteOnlyWorksheet, horizon: Horizon) -> None:
    _row(ws, ["battery_id", *[d.isoformat() for d in horizon.dates], "summary"], bold=True)
    for b in horizon.batteries:
        by_day = {p.date: p.status for p in b.points}
        cells = [_cell(ws, b.battery_id)]
        for d in horizon.dates:
            st = by_day.get(d)
            cells.append(_cell(ws, st, fill=_STATUS_FILL.get(st.value) if st else None))
        cells.append(_cell(ws, b.summary))
        ws.append(cells)


def _marks(report: AuditReport) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """sheet -> cell -> [(kind, text)] for failing cells, gaps and unusable cells."""
    out: dict[str, dict[str, list[tuple[str, str]]]] = {}

    def add(sheet: str | None, cell: str | None, kind: str, text: str) -> None:
        if sheet and cell:
            out.setdefault(sheet, {}).setdefault(cell.upper(), []).append((kind, text))

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
            add(f.sheet, f.cell, f.severity.value, f"{f.code}: {f.message}")
    return out


def _input_sheets(bom: Bom) -> Iterable[tuple[str, Iterable[Sequence[Any]]]]:
    """(display name, rows of values from row 1) for each contract sheet of the input."""
    from compliance.contract import SHEETS

    names = [bom.display_sheet(s.name) for s in SHEETS if s.name in bom.sheet_names]
    if bom.source is not None:
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(bom.source.data), read_only=True, data_only=True)
        try:
            for name in names:
                if name in wb.sheetnames:
                    yield name, wb[name].iter_rows(values_only=True)
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
    from openpyxl.utils import column_index_from_string

    index = {col: column_index_from_string(letter) - 1 for col, letter in letters.items()}
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


def _copy(ws: WriteOnlyWorksheet, rows: Iterable[Sequence[Any]],
          marks: dict[str, list[tuple[str, str]]]) -> None:
    from openpyxl.utils import get_column_letter

    letters: list[str] = []
    for r, values in enumerate(rows, start=1):
        if r > MAX_COPY_ROWS:
            ws.append([_cell(ws, f"... copy stopped after {MAX_COPY_ROWS:,} rows", bold=True)])
            break
        while len(letters) < len(values):
            letters.append(get_column_letter(len(letters) + 1))
        out = []
        for c, value in enumerate(values):
            if isinstance(value, dt.time):
                value = value.isoformat()
            found = marks.get(f"{letters[c]}{r}")
            if found:
                found = sorted(found, key=lambda kt: _MARK_ORDER[kt[0]])
                text = "\n".join(dict.fromkeys(t for _, t in found))
                out.append(_cell(ws, value, fill=_MARK_FILL[found[0][0]], comment=text))
            else:
                out.append(_cell(ws, value))
        ws.append(out)

"""Terminal text for explain, plan, what-if and horizon: aligned tables, colour on a terminal.

Drawn with :mod:`compliance.report.terminal` (string formatting, ANSI colour only when
``color``), not a layout engine: an explanation of a 10,000-line workbook spent most of its
time in rich's measuring and wrapping. Lines are not wrapped (a terminal wraps long lines
itself, and a file stays greppable). Every value that comes from the input (ids, names,
reasons, messages, sheet names) goes through :func:`clean`, so a control character in a cell
cannot reach the terminal.
"""

from __future__ import annotations

from typing import Any

from compliance.engine.context import num
from compliance.explain.model import Explanation, Horizon, LineContribution, Plan, WhatIf
from compliance.explain.words import money, pct
from compliance.report.model import Status
from compliance.report.terminal import Painter, clean, table
from compliance.report.text import STATUS_STYLE

_VALUE_STYLE = {status.value: style for status, style in STATUS_STYLE.items()}
_LINE_STYLE = {"qualifies": "green", "clear": "green", "does_not_qualify": "red",
               "violates": "red", "unknown": "yellow", "relieved": "dim"}
_EFFECT_STYLE = {"harmless": "green", "can_change": "red", "needs_other_gaps": "yellow",
                 "not_assessed": "dim"}
_CHANGE = "status-change"  # a "before -> after" table cell: each status in its own colour
MAX_LINES = 15


class _Painter(Painter):
    """A :class:`Painter` that also colours ``before -> after`` status cells of a table
    (style ``_CHANGE``; the table measures the plain text) and leaves empty text bare."""

    def __call__(self, text: str, style: str) -> str:
        if not text:
            return text
        base = super().__call__
        if style == _CHANGE:
            return " -> ".join(base(part, _VALUE_STYLE.get(part, ""))
                               for part in text.split(" -> "))
        return base(text, style)


def _status(paint: Painter, status: Status | None) -> str:
    if status is None:
        return "-"
    return paint(status.value, STATUS_STYLE[status])


def _value(status: Status | None) -> str:
    return "-" if status is None else status.value


def _amount(line: LineContribution) -> str:
    """A line's value, or its mass for a mass-based rule (recycled content has no value)."""
    if line.value_usd is None and line.mass_kg is not None:
        return f"{num(line.mass_kg)} kg"
    return money(line.value_usd)


def render_explanation(expl: Explanation, *, color: bool = False,
                       max_lines: int = MAX_LINES) -> str:
    paint = _Painter(color)
    out = [paint(f"Explanation of {clean(expl.input.name)}", "bold")
           + (f" as of {expl.as_of}" if expl.as_of else "")]
    for battery in expl.batteries:
        for verdict in battery.verdicts:
            out.append("")
            out.append(f"{paint(clean(battery.battery_id), 'bold')} "
                       f"{_status(paint, verdict.status)} under {clean(verdict.ruleset)}: "
                       f"{clean(verdict.summary)}")
            for req in verdict.requirements:
                out.append(f"  {paint(clean(req.id), 'bold')} {_status(paint, req.status)}: "
                           f"{clean(req.explanation)}")
                if not req.lines:
                    continue
                rows = [(str(line.impact_rank or ""), str(line.row), clean(line.item_id),
                         _amount(line), pct(line.share_pct),
                         (line.status.replace("_", " "), _LINE_STYLE[line.status]),
                         clean(line.reason))
                        for line in req.lines[:max_lines]]
                out.extend(table(paint, ("#", "row", "line", "value", "share", "standing", "why"),
                                 rows, right=("#", "row", "value", "share")))
                if len(req.lines) > max_lines:
                    out.append(f"    ... and {len(req.lines) - max_lines} more lines "
                               f"({req.blocking_lines} blocking in all; see --format json or csv)")
            if verdict.gaps:
                out.append(f"  {paint('Data gaps', 'bold')} (what the verdict would be if each "
                           "were filled)")
                rows = []
                for gap in verdict.gaps:
                    where = f"{gap.sheet} {gap.cell or ('row ' + str(gap.row) if gap.row else '')}"
                    rows.append((clean(where), clean(gap.item_id or ""),
                                 clean(", ".join(gap.requirements)),
                                 (gap.effect.replace("_", " "), _EFFECT_STYLE[gap.effect]),
                                 clean(gap.message), clean(gap.note)))
                out.extend(table(paint, ("cell", "line", "for", "effect", "missing", "if filled"),
                                 rows))
    return "\n".join(out) + "\n"


def _num(x: Any) -> str:
    return "-" if x is None else format(x.normalize(), "f")


def render_plan(p: Plan, *, color: bool = False) -> str:
    paint = _Painter(color)
    out = [paint(f"Remediation plan for {clean(p.input.name)}", "bold")
           + (f" as of {p.as_of}" if p.as_of else "")]
    for b in p.batteries:
        out.append("")
        out.append(f"{paint(clean(b.battery_id), 'bold')} {_status(paint, b.status)} under "
                   f"{clean(b.ruleset)}")
        # The status line says the first sentence, unless it is provisional (which the first
        # sentence explains: fails or passes on ruleset values marked unconfirmed).
        words = b.words[1:] if b.status in (Status.FAIL, Status.INSUFFICIENT_DATA) else b.words
        out.extend(f"  {clean(w)}" for w in words)
        for s in b.shares:
            for opt in (s.fewest_lines, s.least_value, s.with_required_changes):
                if opt is None or not opt.lines:
                    continue
                if opt.objective == "least_value" and s.fewest_lines is not None and \
                        [x.row for x in opt.lines] == [x.row for x in s.fewest_lines.lines]:
                    continue
                out.append(f"  {paint(clean(s.requirement), 'bold')}, "
                           f"{opt.objective.replace('_', ' ')}: move {money(opt.moved_usd)} -> "
                           f"{pct(opt.resulting_pct)} {paint(f'({clean(opt.method)})', 'dim')}")
                rows = [(str(x.row), clean(x.item_id), money(x.value_usd), pct(x.share_pct),
                         clean(x.now)) for x in opt.lines[:MAX_LINES]]
                out.extend(table(paint, ("row", "line", "value", "share", "today"), rows,
                                 right=("row", "value", "share")))
                if len(opt.lines) > MAX_LINES:
                    out.append(f"    ... and {len(opt.lines) - MAX_LINES} more lines")
    return "\n".join(out) + "\n"


def render_horizon(h: Horizon, *, color: bool = False) -> str:
    paint = _Painter(color)
    out = [f"{paint(f'Horizon of {clean(h.input.name)}', 'bold')} under "
           f"{clean(', '.join(h.rulesets))}: each date a rule value changes, as if the battery "
           "were placed in service and acquired that day"]
    short = {Status.PASS: "pass", Status.FAIL: "FAIL", Status.INSUFFICIENT_DATA: "?",
             Status.NOT_APPLICABLE: "n/a", Status.PROVISIONAL: "prov"}
    # Each date's header is two lines, the year above the day; "battery" sits on the lower
    # line. The table's header is the year line and its first row the lower, bold, line.
    rows: list[list[str | tuple[str, str]]] = [
        [("battery", "bold"), *[(f"{d:%m-%d}", "bold") for d in h.dates]]]
    for b in h.batteries:
        by_day = {p.date: p.status for p in b.points}
        cells: list[str | tuple[str, str]] = [clean(b.battery_id)]
        for d in h.dates:
            st = by_day.get(d)
            cells.append("" if st is None else (short[st], STATUS_STYLE[st]))
        rows.append(cells)
    lines = table(paint, ["", *[f"{d:%Y}" for d in h.dates]], rows)
    out.extend(lines if h.dates else lines[1:])
    out.extend(f"  {clean(b.summary)}" for b in h.batteries)
    return "\n".join(out) + "\n"


def render_whatif(w: WhatIf, *, color: bool = False) -> str:
    paint = _Painter(color)
    out = [paint(f"What-if on {clean(w.input.name)}", "bold")
           + (f" as of {w.as_of}" if w.as_of else "")]
    for s in w.scenarios:
        out.append("")
        out.append(f"{paint(f'Scenario {clean(s.name)}', 'bold')}: overall "
                   f"{_status(paint, s.status_before)} -> {_status(paint, s.status_after)}")
        for ch in s.changes:
            who = f"{ch.battery_id}/" if ch.battery_id else ""
            out.append(clean(f"  set {who}{ch.item_id}.{ch.field} ({ch.sheet} row {ch.row}): "
                             f"{ch.before or 'empty'} -> {ch.after or 'empty'}"))
        changed = [d for d in s.requirements if d.changed]
        for b in s.batteries:
            if b.changed:
                out.append(f"  {clean(b.battery_id)}: {_status(paint, b.status_before)} -> "
                           f"{_status(paint, b.status_after)}, credit "
                           f"{money(b.credit_usd_before)} -> {money(b.credit_usd_after)}")
        if not changed:
            out.append("  no requirement result changes")
            continue
        rows = [(clean(d.battery_id), clean(d.requirement),
                 (f"{_value(d.status_before)} -> {_value(d.status_after)}", _CHANGE),
                 f"{pct(d.actual_pct_before)} -> {pct(d.actual_pct_after)}",
                 f"{_num(d.shortfall_pct_before)} -> {_num(d.shortfall_pct_after)}",
                 f"{money(d.shortfall_usd_before) if d.shortfall_usd_before else '-'} -> "
                 f"{money(d.shortfall_usd_after) if d.shortfall_usd_after else '-'}")
                for d in changed]
        out.extend(table(paint, ("battery", "requirement", "status", "actual", "short by",
                                 "short $"), rows, right=("actual", "short by", "short $")))
    return "\n".join(out) + "\n"

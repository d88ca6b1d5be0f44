"""Terminal text for explain, plan, what-if and horizon (rich tables, colour on a terminal)."""

from __future__ import annotations

import io
from typing import Any

from compliance.explain.model import Explanation, Horizon, Plan, WhatIf
from compliance.explain.words import money, pct
from compliance.report.model import Status

_STYLE = {Status.PASS: "green", Status.FAIL: "red", Status.INSUFFICIENT_DATA: "yellow",
          Status.NOT_APPLICABLE: "dim"}
_LINE_STYLE = {"qualifies": "green", "clear": "green", "does_not_qualify": "red",
               "violates": "red", "unknown": "yellow", "relieved": "dim"}
_EFFECT_STYLE = {"harmless": "green", "can_change": "red", "needs_other_gaps": "yellow",
                 "not_assessed": "dim"}
MAX_LINES = 15


def _console(color: bool) -> tuple[Any, io.StringIO]:
    from rich.console import Console

    buf = io.StringIO()
    return Console(file=buf, force_terminal=color, no_color=not color, width=110,
                   highlight=False, soft_wrap=False), buf


def _status(status: Status | None) -> str:
    if status is None:
        return "-"
    style = _STYLE[status]
    return f"[{style}]{status.value}[/{style}]"


def _table(*columns: str, right: tuple[str, ...] = ()) -> Any:
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for name in columns:
        table.add_column(name, justify="right" if name in right else "left",
                         overflow="fold")
    return table


def render_explanation(expl: Explanation, *, color: bool = False,
                       max_lines: int = MAX_LINES) -> str:
    from rich.markup import escape

    console, buf = _console(color)
    console.print(f"[bold]Explanation of {escape(expl.input.name)}[/bold]"
                  + (f" as of {expl.as_of}" if expl.as_of else ""))
    for battery in expl.batteries:
        for verdict in battery.verdicts:
            console.print(f"\n[bold]{escape(battery.battery_id)}[/bold] "
                          f"{_status(verdict.status)} under {verdict.ruleset}: "
                          f"{escape(verdict.summary)}")
            for req in verdict.requirements:
                console.print(f"  [bold]{req.id}[/bold] {_status(req.status)}: "
                              f"{escape(req.explanation)}")
                if not req.lines:
                    continue
                table = _table("#", "row", "line", "value", "share", "standing", "why",
                               right=("#", "row", "value", "share"))
                for line in req.lines[:max_lines]:
                    style = _LINE_STYLE[line.status]
                    table.add_row(str(line.impact_rank or ""), str(line.row),
                                  escape(line.item_id), money(line.value_usd),
                                  pct(line.share_pct),
                                  f"[{style}]{line.status.replace('_', ' ')}[/{style}]",
                                  escape(line.reason))
                console.print(table)
                if len(req.lines) > max_lines:
                    console.print(f"    ... and {len(req.lines) - max_lines} more lines "
                                  f"({req.blocking_lines} blocking in all; see --format json "
                                  "or csv)")
            if verdict.gaps:
                console.print("  [bold]Data gaps[/bold] (what the verdict would be if each "
                              "were filled)")
                table = _table("cell", "line", "for", "effect", "missing", "if filled")
                for gap in verdict.gaps:
                    style = _EFFECT_STYLE[gap.effect]
                    where = f"{gap.sheet} {gap.cell or ('row ' + str(gap.row) if gap.row else '')}"
                    table.add_row(escape(where), escape(gap.item_id or ""),
                                  ", ".join(gap.requirements),
                                  f"[{style}]{gap.effect.replace('_', ' ')}[/{style}]",
                                  escape(gap.message), escape(gap.note))
                console.print(table)
    return buf.getvalue()


def _num(x: Any) -> str:
    return "-" if x is None else format(x.normalize(), "f")


def render_plan(p: Plan, *, color: bool = False) -> str:
    from rich.markup import escape

    console, buf = _console(color)
    console.print(f"[bold]Remediation plan for {escape(p.input.name)}[/bold]"
                  + (f" as of {p.as_of}" if p.as_of else ""))
    for b in p.batteries:
        console.print(f"\n[bold]{escape(b.battery_id)}[/bold] {_status(b.status)} under "
                      f"{b.ruleset}")
        for w in b.words[1:] if b.status not in (Status.PASS, Status.NOT_APPLICABLE) \
                else b.words:
            console.print(f"  {escape(w)}")
        for s in b.shares:
            for opt in (s.fewest_lines, s.least_value, s.with_required_changes):
                if opt is None or not opt.lines:
                    continue
                if opt.objective == "least_value" and s.fewest_lines is not None and \
                        [x.row for x in opt.lines] == [x.row for x in s.fewest_lines.lines]:
                    continue
                console.print(f"  [bold]{s.requirement}[/bold], "
                              f"{opt.objective.replace('_', ' ')}: move {money(opt.moved_usd)}"
                              f" -> {pct(opt.resulting_pct)} [dim]({escape(opt.method)})[/dim]")
                table = _table("row", "line", "value", "share", "today",
                               right=("row", "value", "share"))
                for x in opt.lines[:MAX_LINES]:
                    table.add_row(str(x.row), escape(x.item_id), money(x.value_usd),
                                  pct(x.share_pct), escape(x.now))
                console.print(table)
                if len(opt.lines) > MAX_LINES:
                    console.print(f"    ... and {len(opt.lines) - MAX_LINES} more lines")
    return buf.getvalue()


def render_horizon(h: Horizon, *, color: bool = False) -> str:
    from rich.markup import escape

    console, buf = _console(color)
    console.print(f"[bold]Horizon of {escape(h.input.name)}[/bold] under "
                  f"{', '.join(h.rulesets)}: each date a rule value changes, as if the "
                  "battery were placed in service and acquired that day")
    short = {Status.PASS: "pass", Status.FAIL: "FAIL", Status.INSUFFICIENT_DATA: "?",
             Status.NOT_APPLICABLE: "n/a"}
    table = _table("battery", *[f"{d:%Y}\n{d:%m-%d}" for d in h.dates])
    for b in h.batteries:
        by_day = {p.date: p.status for p in b.points}
        cells = []
        for d in h.dates:
            st = by_day.get(d)
            cells.append("" if st is None else f"[{_STYLE[st]}]{short[st]}[/{_STYLE[st]}]")
        table.add_row(escape(b.battery_id), *cells)
    console.print(table)
    for b in h.batteries:
        console.print(f"  {escape(b.summary)}")
    return buf.getvalue()


def render_whatif(w: WhatIf, *, color: bool = False) -> str:
    from rich.markup import escape

    console, buf = _console(color)
    console.print(f"[bold]What-if on {escape(w.input.name)}[/bold]"
                  + (f" as of {w.as_of}" if w.as_of else ""))
    for s in w.scenarios:
        console.print(f"\n[bold]Scenario {escape(s.name)}[/bold]: overall "
                      f"{_status(s.status_before)} -> {_status(s.status_after)}")
        for ch in s.changes:
            who = f"{ch.battery_id}/" if ch.battery_id else ""
            console.print(f"  set {escape(who + ch.item_id)}.{ch.field} ({escape(ch.sheet)} row "
                          f"{ch.row}): {escape(ch.before or 'empty')} -> "
                          f"{escape(ch.after or 'empty')}")
        changed = [d for d in s.requirements if d.changed]
        moved = [b for b in s.batteries if b.changed]
        for b in moved:
            console.print(f"  {escape(b.battery_id)}: {_status(b.status_before)} -> "
                          f"{_status(b.status_after)}, credit {money(b.credit_usd_before)} -> "
                          f"{money(b.credit_usd_after)}")
        if not changed:
            console.print("  no requirement result changes")
            continue
        table = _table("battery", "requirement", "status", "actual", "short by", "short $",
                       right=("actual", "short by", "short $"))
        for d in changed:
            table.add_row(escape(d.battery_id), d.requirement,
                          f"{_status(d.status_before)} -> {_status(d.status_after)}",
                          f"{pct(d.actual_pct_before)} -> {pct(d.actual_pct_after)}",
                          f"{_num(d.shortfall_pct_before)} -> {_num(d.shortfall_pct_after)}",
                          f"{money(d.shortfall_usd_before) if d.shortfall_usd_before else '-'}"
                          f" -> {money(d.shortfall_usd_after) if d.shortfall_usd_after else '-'}")
        console.print(table)
    return buf.getvalue()

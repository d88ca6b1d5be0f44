"""Plain-text reports for a terminal, drawn with rich (tables, colour when on a terminal)."""

from __future__ import annotations

import io
from collections import defaultdict

from compliance.findings import Finding
from compliance.report.model import AuditReport, RequirementResult, Status, ValidationReport
from compliance.rules.loader import LoadedRuleset

_STYLE = {Status.PASS: "green", Status.FAIL: "red", Status.INSUFFICIENT_DATA: "yellow",
          Status.NOT_APPLICABLE: "dim", Status.PROVISIONAL: "magenta"}
_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "dim"}
MAX_LINES = 10  # per requirement in text; the JSON report has every line


def _console(color: bool):  # type: ignore[no-untyped-def]
    from rich.console import Console

    buf = io.StringIO()
    return Console(file=buf, force_terminal=color, no_color=not color, width=110,
                   highlight=False, soft_wrap=False), buf


def _pct(x: object) -> str:
    if x is None:
        return "-"
    text = format(x, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"


def _usd(x: object) -> str:
    return "-" if x is None else f"${x:,.2f}"


def render_audit(report: AuditReport, *, color: bool = False) -> str:
    from rich.markup import escape
    from rich.table import Table

    console, buf = _console(color)
    rulesets = ", ".join(f"{r.id}@{r.version} (sha256 {r.sha256[:12]})" for r in report.rulesets)
    console.print(f"[bold]Audit of {escape(report.input.name)}[/bold]")
    console.print(f"input sha256 {report.input.sha256 or '-'}; rulesets {rulesets}; "
                  f"tool {report.tool.version}"
                  + (f"; as of {report.as_of}" if report.as_of else ""))
    s = report.summary
    console.print(f"{s.batteries} batteries: [green]{s.passed} pass[/green], "
                  f"[red]{s.failed} fail[/red], [yellow]{s.insufficient_data} insufficient "
                  f"data[/yellow], [magenta]{s.provisional} provisional[/magenta], "
                  f"{s.not_applicable} not applicable; {s.errors} input errors, "
                  f"{s.warnings} warnings\n")
    for battery in report.batteries:
        for verdict in battery.verdicts:
            style = _STYLE[verdict.status]
            credit = ("" if verdict.credit_usd is None
                      else f", credit {_usd(verdict.credit_usd)}")
            prov = (f" [magenta](would be {verdict.provisional_outcome.value}; rests on "
                    "unconfirmed ruleset values)[/magenta]" if verdict.provisional_outcome else "")
            dates = ", ".join(f"{k} {v}" for k, v in verdict.dates.items())
            console.print(f"[bold]{escape(battery.battery_id)}[/bold] "
                          f"[{style}]{verdict.status.value.upper()}[/{style}] under "
                          f"{verdict.ruleset}{credit}{prov}  [dim]({dates}"
                          f"{'; from --as-of' if verdict.date_source == 'as_of' else ''})[/dim]")
            table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
            for name in ("requirement", "status", "actual", "required", "short by", "short $"):
                table.add_column(name, justify="right" if name not in (
                    "requirement", "status") else "left")
            for req in verdict.requirements:
                rs = _STYLE[req.status]
                required = _pct(req.required_pct)
                if req.comparison == "at_most" and req.required_pct is not None:
                    required = f"<= {required}"
                table.add_row(req.id, f"[{rs}]{req.status.value}[/{rs}]", _pct(req.actual_pct),
                              required, _pct(req.shortfall_pct), _usd(req.shortfall_usd))
            console.print(table)
            for req in verdict.requirements:
                _requirement_detail(console, req)
            console.print()
    if report.findings:
        console.print("[bold]Input findings[/bold]")
        _findings(console, report.findings)
    return buf.getvalue()


def _requirement_detail(console, req: RequirementResult) -> None:  # type: ignore[no-untyped-def]
    from rich.markup import escape

    if req.status in (Status.PASS, Status.NOT_APPLICABLE) and not req.relieved:
        return
    console.print(f"  [bold]{req.id}[/bold]: {escape(req.explanation)}")
    for line in req.lines[:MAX_LINES]:
        where = f"{line.sheet} row {line.row}" if line.row else line.sheet
        console.print(f"    - {escape(where)} {escape(line.item_id)}: "
                      f"{_usd(line.value_usd)} ({_pct(line.share_pct)}) {escape(line.reason)}")
    if len(req.lines) > MAX_LINES:
        console.print(f"    ... and {len(req.lines) - MAX_LINES} more rows (see --format json)")
    for line in req.relieved[:MAX_LINES]:
        console.print(f"    ~ {escape(line.sheet)} row {line.row} {escape(line.item_id)}: "
                      f"{escape(line.reason)}")
    for gap in req.gaps[:MAX_LINES]:
        where = gap.cell or (f"row {gap.row}" if gap.row else "")
        console.print(f"    ? {escape(gap.sheet)} {where}: {escape(gap.message)}")
    if len(req.gaps) > MAX_LINES:
        console.print(f"    ... and {len(req.gaps) - MAX_LINES} more data gaps")


def _findings(console, findings: list[Finding]) -> None:  # type: ignore[no-untyped-def]
    from rich.markup import escape

    by_sheet: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_sheet[f.sheet or "workbook"].append(f)
    for sheet, items in by_sheet.items():
        console.print(f"  [bold]{escape(sheet)}[/bold]")
        for f in items:
            style = _SEVERITY_STYLE[f.severity.value]
            where = f.cell or (f"row {f.row}" if f.row else "")
            console.print(f"    [{style}]{f.severity.value:7}[/{style}] {f.code:24} "
                          f"{where:7} {escape(f.message)}")


def render_validation(report: ValidationReport, *, color: bool = False) -> str:
    console, buf = _console(color)
    verdict = "[green]usable[/green]" if report.valid else "[red]has errors[/red]"
    console.print(f"[bold]{report.input.name}[/bold] {verdict}: {report.summary.errors} errors, "
                  f"{report.summary.warnings} warnings, {report.summary.batteries} batteries")
    for sheet in report.sheets:
        found = sheet.found_as or "missing"
        console.print(f"  {sheet.sheet}: {found}, header row {sheet.header_row or '-'}, "
                      f"{sheet.data_rows} data rows, {sheet.used_rows} usable")
    if report.findings:
        _findings(console, report.findings)
    return buf.getvalue()


def render_ruleset(loaded: LoadedRuleset, *, color: bool = False) -> str:
    from rich.markup import escape

    console, buf = _console(color)
    rs = loaded.ruleset
    console.print(f"[bold]{rs.id}@{rs.version}[/bold] {escape(rs.title)}")
    console.print(f"sha256 {loaded.sha256}; last reviewed {rs.last_reviewed}; {loaded.path}")
    console.print(escape(rs.summary) + "\n")
    console.print("[bold]Requirements[/bold]")
    for req in rs.requirements:
        console.print(f"  {req.id} ({req.kind}, {req.effect.value}, by date "
                      f"{rs.date_bases[req.date_basis].label}): {escape(req.title)}")
    console.print("\n[bold]Parameters[/bold]")
    for name, param in rs.parameters.items():
        console.print(f"  [bold]{name}[/bold] ({param.unit.value}): {escape(param.description)}")
        for day, item in sorted(param.values.items()):
            value = item.value
            shown = ", ".join(value) if isinstance(value, list) else str(value)
            console.print(f"    from {day}: {escape(shown)}  "
                          + escape(f"[{item.status.value}] ")
                          + escape("; ".join(c.title for c in item.source)))
    return buf.getvalue()

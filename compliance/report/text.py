"""Plain-text reports: the audit, the validation and a ruleset, for a terminal or a file.

Drawn with :mod:`compliance.report.terminal` (string formatting, colour only on a terminal),
because the audit report grows with the workbook: see that module for why not rich.
"""

from __future__ import annotations

from collections import defaultdict

from compliance.findings import Finding
from compliance.report.model import AuditReport, RequirementResult, Status, ValidationReport
from compliance.report.terminal import Painter, clean, table
from compliance.rules.loader import LoadedRuleset

# Every status's colour, for every text report (audit, explain, batch).
STATUS_STYLE = {Status.PASS: "green", Status.FAIL: "red", Status.INSUFFICIENT_DATA: "yellow",
                Status.NOT_APPLICABLE: "dim", Status.PROVISIONAL: "magenta"}
_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "dim"}
_COLUMNS = ("requirement", "status", "actual", "required", "short by", "short $")
_RIGHT = ("actual", "required", "short by", "short $")
MAX_LINES = 10  # per requirement in text; the JSON report has every line


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
    paint = Painter(color)
    out: list[str] = []
    rulesets = ", ".join(f"{r.id}@{r.version} (sha256 {r.sha256[:12]})" for r in report.rulesets)
    out.append(paint(f"Audit of {clean(report.input.name)}", "bold"))
    out.append(f"input sha256 {report.input.sha256 or '-'}; rulesets {rulesets}; "
               f"tool {report.tool.version}" + (f"; as of {report.as_of}" if report.as_of else ""))
    s = report.summary
    out.append(f"{s.batteries} batteries: {paint(f'{s.passed} pass', 'green')}, "
               f"{paint(f'{s.failed} fail', 'red')}, "
               f"{paint(f'{s.insufficient_data} insufficient data', 'yellow')}, "
               f"{paint(f'{s.provisional} provisional', 'magenta')}, "
               f"{s.not_applicable} not applicable; {s.errors} input errors, "
               f"{s.warnings} warnings")
    out.append("")
    for battery in report.batteries:
        for verdict in battery.verdicts:
            style = STATUS_STYLE[verdict.status]
            credit = ("" if verdict.credit_usd is None
                      else f", credit {_usd(verdict.credit_usd)}")
            prov = (paint(f" (would be {verdict.provisional_outcome.value}; rests on "
                          "unconfirmed ruleset values)", "magenta")
                    if verdict.provisional_outcome else "")
            dates = ", ".join(f"{k} {v}" for k, v in verdict.dates.items())
            from_as_of = "; from --as-of" if verdict.date_source == "as_of" else ""
            out.append(f"{paint(clean(battery.battery_id), 'bold')} "
                       f"{paint(verdict.status.value.upper(), style)} under "
                       f"{verdict.ruleset}{credit}{prov}  "
                       + paint(f"({dates}{from_as_of})", "dim"))
            rows = []
            for req in verdict.requirements:
                required = _pct(req.required_pct)
                if req.comparison == "at_most" and req.required_pct is not None:
                    required = f"<= {required}"
                rows.append((req.id, (req.status.value, STATUS_STYLE[req.status]),
                             _pct(req.actual_pct), required, _pct(req.shortfall_pct),
                             _usd(req.shortfall_usd)))
            out.extend(table(paint, _COLUMNS, rows, right=_RIGHT))
            for req in verdict.requirements:
                _requirement_detail(out, paint, req)
            out.append("")
    if report.findings:
        out.append(paint("Input findings", "bold"))
        _findings(out, paint, report.findings)
    return "\n".join(out) + "\n"


def _requirement_detail(out: list[str], paint: Painter, req: RequirementResult) -> None:
    if req.status in (Status.PASS, Status.NOT_APPLICABLE) and not req.relieved:
        return
    out.append(f"  {paint(req.id, 'bold')}: {clean(req.explanation)}")
    for line in req.lines[:MAX_LINES]:
        where = f"{line.sheet} row {line.row}" if line.row else line.sheet
        out.append(clean(f"    - {where} {line.item_id}: "
                         f"{_usd(line.value_usd)} ({_pct(line.share_pct)}) {line.reason}"))
    if len(req.lines) > MAX_LINES:
        out.append(f"    ... and {len(req.lines) - MAX_LINES} more rows (see --format json)")
    for line in req.relieved[:MAX_LINES]:
        out.append(clean(f"    ~ {line.sheet} row {line.row} {line.item_id}: {line.reason}"))
    for gap in req.gaps[:MAX_LINES]:
        where = gap.cell or (f"row {gap.row}" if gap.row else "")
        out.append(clean(f"    ? {gap.sheet} {where}: {gap.message}"))
    if len(req.gaps) > MAX_LINES:
        out.append(f"    ... and {len(req.gaps) - MAX_LINES} more data gaps")


def _findings(out: list[str], paint: Painter, findings: list[Finding]) -> None:
    by_sheet: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_sheet[f.sheet or "workbook"].append(f)
    for sheet, items in by_sheet.items():
        out.append("  " + paint(clean(sheet), "bold"))
        for f in items:
            style = _SEVERITY_STYLE[f.severity.value]
            where = f.cell or (f"row {f.row}" if f.row else "")
            out.append(f"    {paint(f'{f.severity.value:7}', style)} {f.code:24} "
                       f"{clean(where):7} {clean(f.message)}".rstrip(" "))


def render_validation(report: ValidationReport, *, color: bool = False) -> str:
    paint = Painter(color)
    verdict = paint("usable", "green") if report.valid else paint("has errors", "red")
    out = [f"{paint(clean(report.input.name), 'bold')} {verdict}: {report.summary.errors} "
           f"errors, {report.summary.warnings} warnings, {report.summary.batteries} batteries"]
    for sheet in report.sheets:
        found = clean(sheet.found_as) if sheet.found_as else "missing"
        out.append(f"  {sheet.sheet}: {found}, header row {sheet.header_row or '-'}, "
                   f"{sheet.data_rows} data rows, {sheet.used_rows} usable")
    if report.findings:
        _findings(out, paint, report.findings)
    return "\n".join(out) + "\n"


def render_ruleset(loaded: LoadedRuleset, *, color: bool = False) -> str:
    paint = Painter(color)
    rs = loaded.ruleset
    out = [f"{paint(f'{rs.id}@{rs.version}', 'bold')} {clean(rs.title)}",
           f"sha256 {loaded.sha256}; last reviewed {rs.last_reviewed}; {loaded.path}",
           clean(rs.summary), "", paint("Requirements", "bold")]
    for req in rs.requirements:
        out.append(f"  {req.id} ({req.kind}, {req.effect.value}, by date "
                   f"{rs.date_bases[req.date_basis].label}): {clean(req.title)}")
    out.extend(["", paint("Parameters", "bold")])
    for name, param in rs.parameters.items():
        out.append(f"  {paint(name, 'bold')} ({param.unit.value}): {clean(param.description)}")
        for day, item in sorted(param.values.items()):
            value = item.value
            shown = ", ".join(value) if isinstance(value, list) else str(value)
            sources = "; ".join(c.title for c in item.source)
            out.append(clean(f"    from {day}: {shown}  [{item.status.value}] {sources}"))
    return "\n".join(out) + "\n"

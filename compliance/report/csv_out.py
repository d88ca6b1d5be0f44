"""CSV reports that are safe to open in Excel.

One row per record: for an audit, a row per verdict, per requirement result, per line that
breaks or is left out of a requirement, per data gap and per input finding (column ``record``
says which). Plans, horizons, what-if runs and explanations have their own flat layouts below.

Formula injection: a spreadsheet program treats a cell that begins with ``=``, ``+``, ``-`` or
``@`` as a formula (``=HYPERLINK(...)`` in a supplier name would become a live link), and some
also act on a leading tab or carriage return. Every *text* cell that begins with one of
``= + - @``, tab, CR or LF is therefore written with a single quote (``'``) in front, the
OWASP-recommended neutralisation: Excel shows the text as typed and never evaluates it. Numbers
the tool computes (amounts, percentages; they are never text from the input) are written as
plain numbers, so a negative delta such as ``-3.5`` stays a number. The file is UTF-8 with a
byte-order mark so Excel picks the encoding, and uses CRLF line ends (RFC 4180).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from compliance.report.model import AuditReport

if TYPE_CHECKING:
    from compliance.explain.model import Explanation, Horizon, Plan, WhatIf

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: Any) -> str:
    """One cell's text: numbers as they are, text with a leading quote if it could be a formula.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int | float):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    if text.startswith(DANGEROUS_START):
        return "'" + text
    return text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


AUDIT_COLUMNS = ("record", "battery_id", "ruleset", "requirement", "status", "sheet", "row",
                 "cells", "item_id", "value_usd", "share_pct", "mass_kg", "actual_pct",
                 "required_pct", "shortfall_pct", "shortfall_usd", "credit_usd", "code",
                 "message")


def audit_rows(report: AuditReport) -> Iterable[list[Any]]:
    """The audit as flat records, in AUDIT_COLUMNS order (also used by the xlsx report)."""
    for battery in report.batteries:
        bid = battery.battery_id
        for v in battery.verdicts:
            yield ["verdict", bid, v.ruleset, None, v.status, None, battery.row, None, None,
                   None, None, None, None, None, None, None, v.credit_usd, None, v.summary]
            for r in v.requirements:
                yield ["requirement", bid, v.ruleset, r.id, r.status, None, None, None, None,
                       r.total_usd, None, None, r.actual_pct, r.required_pct, r.shortfall_pct,
                       r.shortfall_usd, r.credit_usd, r.kind, r.explanation]
                for record, lines in (("line", r.lines), ("relieved", r.relieved)):
                    for line in lines:
                        yield [record, bid, v.ruleset, r.id, r.status, line.sheet, line.row,
                               " ".join(line.cells), line.item_id, line.value_usd,
                               line.share_pct, line.mass_kg, None, None, None, None, None, None,
                               line.reason]
                for gap in r.gaps:
                    yield ["gap", bid, v.ruleset, r.id, r.status, gap.sheet, gap.row, gap.cell,
                           gap.item_id, None, None, None, None, None, None, None, None,
                           gap.column, gap.message]
    for f in report.findings:
        yield ["finding", None, None, None, f.severity, f.sheet, f.row, f.cell, None, None,
               None, None, None, None, None, None, None, f.code, f.message]


def render_csv(report: AuditReport, **_: Any) -> bytes:
    return write_csv(AUDIT_COLUMNS, audit_rows(report))


def explanation_csv(expl: Explanation) -> bytes:
    header = ("record", "battery_id", "ruleset", "requirement", "requirement_status", "sheet",
              "row", "cells", "item_id", "value_usd", "share_pct", "mass_kg", "status",
              "blocking",
              "impact_rank", "effect", "best", "worst", "message")
    rows: list[list[Any]] = []
    for b in expl.batteries:
        for v in b.verdicts:
            for r in v.requirements:
                for x in r.lines:
                    rows.append(["line", b.battery_id, v.ruleset, r.id, r.status, x.sheet, x.row,
                                 " ".join(x.cells), x.item_id, x.value_usd, x.share_pct,
                                 x.mass_kg, x.status, x.blocking, x.impact_rank, None, None,
                                 None, x.reason])
            for g in v.gaps:
                rows.append(["gap", b.battery_id, v.ruleset, " ".join(g.requirements),
                             g.current, g.sheet, g.row, g.cell, g.item_id, None, None, None,
                             None, None, None, g.effect, g.best, g.worst,
                             f"{g.message}; {g.note}"])
    return write_csv(header, rows)


def plan_csv(p: Plan) -> bytes:
    header = ("battery_id", "ruleset", "battery_status", "requirement", "action", "objective",
              "sheet", "row", "item_id", "value_usd", "entity_id", "resulting_pct", "exact",
              "message")
    rows: list[list[Any]] = []
    for b in p.batteries:
        for s in b.shares:
            for opt in (s.fewest_lines, s.least_value, s.with_required_changes):
                if opt is None:
                    continue
                for x in opt.lines:
                    rows.append([b.battery_id, b.ruleset, b.status, s.requirement, "re-source",
                                 opt.objective, x.sheet, x.row, x.item_id, x.value_usd, None,
                                 opt.resulting_pct, opt.exact, x.now])
            if not s.reachable:
                rows.append([b.battery_id, b.ruleset, b.status, s.requirement, "unreachable",
                             None, None, None, None, s.needed_usd, None, None, None,
                             " ".join(s.words)])
        for pr in b.prohibitions:
            for line in pr.lines:
                if not line.entities:
                    rows.append([b.battery_id, b.ruleset, b.status, pr.requirement, "replace",
                                 None, line.sheet, line.row, line.item_id, line.value_usd,
                                 None, None, None, line.reason])
                for e in line.entities:
                    action = "replace supplier" if e.replace_entity else "move activity"
                    rows.append([b.battery_id, b.ruleset, b.status, pr.requirement, action,
                                 e.activity, line.sheet, line.row, line.item_id,
                                 line.value_usd, e.entity_id, None, None,
                                 "; ".join(e.reasons) or line.reason])
        for o in b.other:
            rows.append([b.battery_id, b.ruleset, b.status, o.requirement, "other", None, None,
                         None, None, None, None, None, None, o.words])
    return write_csv(header, rows)


def horizon_csv(h: Horizon) -> bytes:
    header = ("battery_id", "date", "status", "ruleset", "requirement", "requirement_status",
              "actual_pct", "required_pct", "shortfall_usd")
    rows: list[list[Any]] = []
    for b in h.batteries:
        for point in b.points:
            for r in point.requirements:
                rows.append([b.battery_id, point.date, point.status, r.ruleset, r.id, r.status,
                             r.actual_pct, r.required_pct, r.shortfall_usd])
    return write_csv(header, rows)


def whatif_csv(w: WhatIf) -> bytes:
    header = ("scenario", "battery_id", "ruleset", "requirement", "changed", "status_before",
              "status_after", "actual_pct_before", "actual_pct_after", "shortfall_pct_before",
              "shortfall_pct_after", "shortfall_usd_before", "shortfall_usd_after")
    rows: list[list[Any]] = []
    for s in w.scenarios:
        for d in s.requirements:
            rows.append([s.name, d.battery_id, d.ruleset, d.requirement, d.changed,
                         d.status_before, d.status_after, d.actual_pct_before,
                         d.actual_pct_after, d.shortfall_pct_before, d.shortfall_pct_after,
                         d.shortfall_usd_before, d.shortfall_usd_after])
    return write_csv(header, rows)

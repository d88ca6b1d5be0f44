"""One entry point that turns an audit report into bytes of a chosen format.

The CLI's ``--format``, the HTTP service's downloads and the batch mode all call
:func:`render`, so a format behaves the same wherever it is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from compliance.report.model import AuditReport


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    media_type: str
    extension: str
    binary: bool
    # render(report, **context): context is optional (bom=, plan=, horizon=, rulesets=, color=)
    # and each format uses what it can; without it a format still renders from the report.
    render: Callable[..., bytes]


def _json(report: AuditReport, **_: Any) -> bytes:
    # The serializer's bytes, as model_dump_json would give them before decoding: a 1M-line
    # report is ~300 MB, and the str round trip costs half a second.
    return type(report).__pydantic_serializer__.to_json(report, indent=2) + b"\n"


def _text(report: AuditReport, *, color: bool = False, **_: Any) -> bytes:
    from compliance.report.text import render_audit

    return render_audit(report, color=color).encode("utf-8")


def _csv(report: AuditReport, **context: Any) -> bytes:
    from compliance.report.csv_out import render_csv

    return render_csv(report, **context)


def _xlsx(report: AuditReport, **context: Any) -> bytes:
    from compliance.report.xlsx_out import render_xlsx

    return render_xlsx(report, **context)


def _html(report: AuditReport, **context: Any) -> bytes:
    from compliance.report.html_out import render_html

    return render_html(report, **context)


FORMATS: dict[str, Format] = {
    "text": Format("text", "text/plain; charset=utf-8", "txt", False, _text),
    "json": Format("json", "application/json", "json", False, _json),
    "csv": Format("csv", "text/csv; charset=utf-8", "csv", False, _csv),
    "xlsx": Format("xlsx",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "xlsx", True, _xlsx),
    "html": Format("html", "text/html; charset=utf-8", "html", False, _html),
}


def render(report: AuditReport, fmt: str, **context: Any) -> bytes:
    """``report`` as bytes of format ``fmt``; ``context`` (bom=, plan=, horizon=, rulesets=,
    color=) lets richer formats add the input copy, the plan and the timeline."""
    try:
        spec = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    return spec.render(report, **context)

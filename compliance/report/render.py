"""One entry point that turns an audit report into bytes of a chosen format.

The CLI's ``--format``, the HTTP service's downloads and the batch mode all call
:func:`render`, so a format behaves the same wherever it is asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from compliance.report.model import AuditReport


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    media_type: str
    extension: str
    binary: bool
    render: Callable[[AuditReport], bytes]


def _json(report: AuditReport) -> bytes:
    return report.model_dump_json(indent=2).encode("utf-8") + b"\n"


def _text(report: AuditReport) -> bytes:
    from compliance.report.text import render_audit

    return render_audit(report, color=False).encode("utf-8")


FORMATS: dict[str, Format] = {
    "text": Format("text", "text/plain; charset=utf-8", "txt", False, _text),
    "json": Format("json", "application/json", "json", False, _json),
}


def render(report: AuditReport, fmt: str) -> bytes:
    try:
        spec = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    return spec.render(report)

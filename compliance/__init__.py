"""Check battery bills of materials against sourcing law, ruleset by ruleset.

The library's front door::

    import compliance
    report = compliance.audit("bom.xlsx")                  # US 30D by default
    report = compliance.audit(data, rulesets=("us-ira-30d",), as_of="2025-06-30")
    bom = compliance.read_bom("bom.xlsx")                  # typed frames + findings
    rs = compliance.load_ruleset("us-ira-30d")             # checked, cited ruleset

Heavy libraries (polars, fastexcel, pandera) are imported on first use, so importing this
package and running ``compliance --help`` stay fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from compliance.version import __version__

if TYPE_CHECKING:
    from compliance.reader.bom import Bom
    from compliance.report.model import AuditReport, ValidationReport
    from compliance.rules.loader import LoadedRuleset

DEFAULT_RULESETS = ("us-ira-30d",)


def read_bom(source: Any, *, name: str | None = None) -> Bom:
    """Read a BOM workbook from a path, bytes or binary file object."""
    from compliance.reader.bom import read_bom as _read

    return _read(source, name=name)


def load_ruleset(id_or_path: str) -> LoadedRuleset:
    """Load a bundled ruleset by id, or a ruleset file/folder by path."""
    from compliance.rules.loader import load_ruleset as _load

    return _load(id_or_path)


def audit(
    source: Any,
    rulesets: Sequence[str | LoadedRuleset] = DEFAULT_RULESETS,
    as_of: dt.date | str | None = None,
    *,
    name: str | None = None,
    strict: bool = False,
) -> AuditReport:
    """Audit a BOM (path, bytes, binary file object or :class:`Bom`) against rulesets.

    ``as_of`` evaluates every battery as if each of its dates (placed in service, acquired, ...)
    were that day: "would this battery pass if placed in service on 2026-01-01?". ``strict``
    refuses verdicts that rest on ruleset values marked unconfirmed (they become
    ``insufficient_data``) instead of reporting them as ``provisional``.
    """
    from compliance.engine.audit import run_audit
    from compliance.reader.bom import Bom as _Bom

    bom = source if isinstance(source, _Bom) else read_bom(source, name=name)
    loaded = [r if not isinstance(r, str) else load_ruleset(r) for r in rulesets]
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    return run_audit(bom, loaded, day, strict=strict)


def validate(source: Any, *, name: str | None = None) -> ValidationReport:
    """Check a workbook's structure and cells only (for upload checks); no rules are run."""
    from compliance.engine.audit import sheet_summaries
    from compliance.findings import Severity
    from compliance.report.model import InputRef, Summary, Tool, ValidationReport

    bom = read_bom(source, name=name)
    errors = sum(1 for f in bom.findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in bom.findings if f.severity is Severity.WARNING)
    src = bom.source
    return ValidationReport(
        tool=Tool(version=__version__),
        input=InputRef(name=src.name if src else "<in-memory BOM>",
                       sha256=src.sha256 if src else None, size_bytes=src.size if src else None),
        valid=errors == 0,
        summary=Summary(batteries=bom.batteries.height, passed=0, failed=0,
                        insufficient_data=0, not_applicable=0, errors=errors,
                        warnings=warnings),
        findings=bom.findings, sheets=sheet_summaries(bom))


__all__ = ["DEFAULT_RULESETS", "__version__", "audit", "load_ruleset", "read_bom", "validate"]

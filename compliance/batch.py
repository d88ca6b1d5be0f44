"""Audit every workbook in a folder: ``compliance audit DIR/``.

The folder is read non-recursively for ``*.xlsx`` files (any case), in name order. Excel's lock
files (``~$name.xlsx``, left beside a workbook that is open) are skipped with a note. A file that
cannot be used (not a workbook, damaged, over a limit) is reported with its error code and the
batch carries on; so does a file that trips an unexpected error (code ``internal-error``), so one
bad file never hides the verdicts of the others. The exit code is the worst of the files': 0 all
pass, 1 some battery fails or lacks data, 3 some file could not be used.

Progress goes to standard error as a rich progress bar, only when standard error is a terminal,
so logs and pipes stay clean.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.report.model import AuditReport, Status
from compliance.rules.loader import LoadedRuleset

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 3
LOCK_PREFIX = "~$"


@dataclass(slots=True)
class BatchItem:
    """One workbook's outcome: a report, or the error that made the file unusable."""

    path: Path
    exit_code: int
    report: AuditReport | None = None
    error_code: str | None = None
    message: str | None = None
    seconds: float = 0.0

    @property
    def status(self) -> Status | None:
        return self.report.status if self.report else None


@dataclass(slots=True)
class BatchResult:
    folder: Path
    items: list[BatchItem] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """The worst exit code of the files (3 when the folder held no workbook at all)."""
        if not self.items:
            return EXIT_UNUSABLE
        return max(item.exit_code for item in self.items)


def find_workbooks(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The folder's ``*.xlsx`` files in name order, and the lock files skipped (with why)."""
    workbooks: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name.casefold()):
        if not path.is_file() or path.suffix.lower() != ".xlsx":
            continue
        if path.name.startswith(LOCK_PREFIX):
            skipped.append((path, "Excel lock file (the workbook is open in Excel); skipped"))
            continue
        workbooks.append(path)
    return workbooks, skipped


def audit_folder(
    folder: Path, rulesets: Sequence[LoadedRuleset], as_of: dt.date | None = None, *,
    progress: bool | None = None,
    audit_one: Callable[[Path], AuditReport] | None = None,
    on_item: Callable[[BatchItem], None] | None = None,
) -> BatchResult:
    """Audit each workbook of ``folder``; never stops at a broken file.

    ``progress`` None shows the bar only when standard error is a terminal. ``audit_one`` (for
    tests and callers that want the BOM too) replaces the plain audit of one path;
    ``on_item`` is called after each file, e.g. to write a per-file report.
    """
    import compliance
    from compliance.errors import ComplianceError

    def default(path: Path) -> AuditReport:
        return compliance.audit(path, rulesets, as_of=as_of, name=path.name)

    run = audit_one or default
    workbooks, skipped = find_workbooks(folder)
    result = BatchResult(folder, skipped=skipped)
    show = sys.stderr.isatty() if progress is None else progress
    with _progress(show) as bar:
        task = bar.add_task("auditing", total=len(workbooks))
        for path in workbooks:
            bar.update(task, description=f"auditing {path.name}")
            start = time.perf_counter()
            try:
                report = run(path)
            except ComplianceError as exc:
                item = BatchItem(path, EXIT_UNUSABLE, error_code=exc.code, message=exc.message)
            except Exception as exc:  # a bug on one file must not hide the other verdicts
                item = BatchItem(path, EXIT_UNUSABLE, error_code="internal-error",
                                 message=f"{type(exc).__name__}: {exc}")
            else:
                code = EXIT_OK if report.status is Status.PASS else EXIT_FINDINGS
                item = BatchItem(path, code, report=report)
            item.seconds = time.perf_counter() - start
            result.items.append(item)
            if on_item is not None:
                on_item(item)
            bar.advance(task)
    return result


def _progress(show: bool) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    console=Console(stderr=True), disable=not show, transient=True)


def render_text(result: BatchResult, *, color: bool = False) -> str:
    """A summary table: one row per file, then skipped files and the totals."""
    from compliance.report.terminal import Painter, clean, table
    from compliance.report.text import STATUS_STYLE

    paint = Painter(color)
    out = [paint(f"Audit of {clean(result.folder)}", "bold") + f": {len(result.items)} "
           f"workbook{'s' if len(result.items) != 1 else ''}"]
    rows: list[tuple[str | tuple[str, str], ...]] = []
    for item in result.items:
        if item.report is not None:
            s = item.report.summary
            st = item.report.status
            note = f"{s.errors} input errors" if s.errors else ""
            rows.append((clean(item.path.name), (st.value, STATUS_STYLE[st]), str(s.batteries),
                         str(s.passed), str(s.failed), str(s.insufficient_data),
                         str(s.not_applicable), str(item.exit_code), note))
        else:
            rows.append((clean(item.path.name), ("unusable", "red"), "", "", "", "", "",
                         str(item.exit_code),
                         clean(f"error [{item.error_code}]: {item.message}")))
    out.extend(table(paint, ("file", "status", "batteries", "pass", "fail", "no data", "n/a",
                             "exit", "note"), rows,
                     right=("batteries", "pass", "fail", "no data", "n/a", "exit")))
    for path, why in result.skipped:
        out.append(paint(clean(f"note: {path.name}: {why}"), "dim"))
    if not result.items:
        out.append("no *.xlsx workbooks found")
    out.append(f"exit code {result.exit_code} (the worst of the files)")
    return "\n".join(out) + "\n"


def render_json(result: BatchResult) -> bytes:
    files = []
    for item in result.items:
        files.append({
            "file": item.path.name, "exit_code": item.exit_code,
            "status": item.status.value if item.status else None,
            "error_code": item.error_code, "message": item.message,
            "report": json.loads(item.report.model_dump_json()) if item.report else None})
    doc = {"format": "battery-compliance/batch@1", "folder": str(result.folder),
           "exit_code": result.exit_code, "files": files,
           "skipped": [{"file": p.name, "reason": why} for p, why in result.skipped]}
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")


def render_csv(result: BatchResult) -> bytes:
    from compliance.report.csv_out import write_csv

    rows: list[list[Any]] = []
    for item in result.items:
        s = item.report.summary if item.report else None
        rows.append([item.path.name, item.status.value if item.status else "unusable",
                     item.exit_code, s.batteries if s else None, s.passed if s else None,
                     s.failed if s else None, s.insufficient_data if s else None,
                     s.not_applicable if s else None, s.errors if s else None,
                     item.error_code, item.message])
    for path, why in result.skipped:
        rows.append([path.name, "skipped", None, None, None, None, None, None, None, None, why])
    return write_csv(("file", "status", "exit_code", "batteries", "passed", "failed",
                      "insufficient_data", "not_applicable", "input_errors", "error_code",
                      "message"), rows)

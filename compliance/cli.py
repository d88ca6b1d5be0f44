"""Command line: a thin click layer over the library.

Exit codes: 0 every battery passes; 1 some battery fails, lacks data or is outside the rules'
dates; 2 usage error; 3 the file or a ruleset cannot be used at all. Library exceptions become
one-line messages here, in one place; no traceback reaches the user for bad input.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from compliance.version import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNUSABLE = 0, 1, 2, 3


class IsoDate(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date; write YYYY-MM-DD", param, ctx)


def _handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn "cannot use this input" exceptions into a message and exit code 3."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from compliance.errors import ComplianceError

        try:
            return fn(*args, **kwargs)
        except ComplianceError as exc:
            click.echo(f"error [{exc.code}]: {exc}", err=True)
            sys.exit(EXIT_UNUSABLE)

    return wrapper


def _emit(text: str | bytes, output: Path | None) -> None:
    data = text.encode("utf-8") if isinstance(text, str) else text
    if not data.endswith(b"\n"):
        data += b"\n"
    if output is None:
        click.echo(data, nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"wrote {output}", err=True)


format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="Report format: text for people, json for programs (decimals as strings).")
output_option = click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the report to this file instead of standard output.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="compliance")
def main() -> None:
    """Check battery bills of materials against sourcing law (US 30D and more).

    Start with `compliance template bom.xlsx`, fill it in, then `compliance audit bom.xlsx`.
    """


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--ruleset", "-r", "rulesets", multiple=True, metavar="ID|PATH",
              help="Ruleset to apply (repeatable). Default: us-ira-30d.")
@click.option("--as-of", type=IsoDate(), default=None,
              help="Evaluate every battery as if its dates were this day (YYYY-MM-DD).")
@click.option("--strict", is_flag=True,
              help="Refuse verdicts that rest on ruleset values marked unconfirmed.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv", "xlsx", "html"]),
              default="text", show_default=True,
              help="text for people, json for programs, csv for spreadsheets, xlsx (needs "
                   "--output) and html (one self-contained page) to share.")
@click.option("--output", "-o", type=click.Path(writable=True, path_type=Path),
              help="Write the report to this file (for a folder FILE with xlsx/html: to this "
                   "folder, one report per workbook).")
@_handle_errors
def audit(file: Path, rulesets: tuple[str, ...], as_of: dt.date | None, strict: bool, fmt: str,
          output: Path | None) -> None:
    """Audit the BOM workbook FILE: a verdict per battery, with what breaks it and by how much.

    FILE may be a folder: every *.xlsx in it is audited (not recursively), with a summary; the
    exit code is the worst of the files'.
    """
    import compliance
    from compliance.report.model import Status

    if file.is_dir() or fmt not in ("text", "json"):
        from compliance.explain import commands

        run = commands.audit_folder if file.is_dir() else commands.audit_file
        sys.exit(run(file, rulesets, as_of, strict, fmt, output))
    if output is not None and output.is_dir():
        raise click.UsageError(f"--output {output} is a folder; give a file name")
    report = compliance.audit(file, rulesets=rulesets or compliance.DEFAULT_RULESETS,
                              as_of=as_of, strict=strict)
    if fmt == "json":
        from compliance.report.render import render

        _emit(render(report, "json"), output)
    else:
        from compliance.report.text import render_audit

        _emit(render_audit(report, color=output is None and sys.stdout.isatty()), output)
    sys.exit(EXIT_OK if report.status is Status.PASS else EXIT_FINDINGS)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@format_option
@output_option
@_handle_errors
def validate(file: Path, fmt: str, output: Path | None) -> None:
    """Check FILE's structure and cells only (no rules): for upload checks."""
    import compliance

    report = compliance.validate(file)
    if fmt == "json":
        _emit(report.model_dump_json(indent=2), output)
    else:
        from compliance.report.text import render_validation

        _emit(render_validation(report, color=output is None and sys.stdout.isatty()), output)
    sys.exit(EXIT_OK if report.valid else EXIT_FINDINGS)


@main.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@_handle_errors
def template(out: Path, force: bool) -> None:
    """Write a blank BOM workbook OUT.xlsx with headers, dropdowns and instructions."""
    from compliance.template import write_template

    if out.exists() and not force:
        raise click.UsageError(f"{out} exists; pass --force to overwrite it")
    write_template(out)
    click.echo(f"wrote {out}", err=True)


@main.group()
def rulesets() -> None:
    """List and inspect the bundled rulesets."""


@rulesets.command("list")
@format_option
@_handle_errors
def rulesets_list(fmt: str) -> None:
    """List bundled rulesets with their version and last review date."""
    import json

    from compliance.rules.loader import available, load_ruleset

    loaded = [load_ruleset(p) for p in available()]
    if fmt == "json":
        click.echo(json.dumps([{"id": r.id, "version": r.version, "sha256": r.sha256,
                                "title": r.ruleset.title,
                                "last_reviewed": r.ruleset.last_reviewed.isoformat()}
                               for r in loaded], indent=2))
        return
    for r in loaded:
        click.echo(f"{r.id}@{r.version}  (reviewed {r.ruleset.last_reviewed})  {r.ruleset.title}")


@rulesets.command("show")
@click.argument("ruleset_id", metavar="ID|PATH")
@format_option
@_handle_errors
def rulesets_show(ruleset_id: str, fmt: str) -> None:
    """Show a ruleset's requirements and every dated value with its source."""
    from compliance.rules.loader import load_ruleset

    loaded = load_ruleset(ruleset_id)
    if fmt == "json":
        click.echo(loaded.ruleset.model_dump_json(indent=2, by_alias=True))
        return
    from compliance.report.text import render_ruleset

    click.echo(render_ruleset(loaded, color=sys.stdout.isatty()))


@rulesets.command("diff")
@click.argument("old", metavar="ID@A|PATH")
@click.argument("new", metavar="ID@B|PATH")
@_handle_errors
def rulesets_diff(old: str, new: str) -> None:
    """Say in plain words what changed between two rulesets or editions."""
    from compliance.rules.diff import diff_rulesets
    from compliance.rules.loader import load_ruleset

    a, b = load_ruleset(old), load_ruleset(new)
    changes = diff_rulesets(a.ruleset, b.ruleset)
    click.echo(f"{a.id}@{a.version} -> {b.id}@{b.version}: "
               f"{len(changes)} change{'s' if len(changes) != 1 else ''}")
    for line in changes:
        click.echo(f"- {line}")


@rulesets.command("editions")
@click.argument("ruleset_id", metavar="ID")
@_handle_errors
def rulesets_editions(ruleset_id: str) -> None:
    """List the bundled editions of a ruleset, oldest first."""
    from compliance.rules.loader import editions

    for r in editions(ruleset_id):
        click.echo(f"{r.id}@{r.version}  (reviewed {r.ruleset.last_reviewed})  sha256 {r.sha256}")


@main.command("schema")
def schema() -> None:
    """Print the JSON Schema of the audit report."""
    import json

    from compliance.report.model import AuditReport

    click.echo(json.dumps(AuditReport.model_json_schema(mode="serialization"), indent=2))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port to listen on.")
@click.option("--max-upload", metavar="SIZE", default=None,
              help="Largest workbook accepted, e.g. 20MiB [env COMPLIANCE_MAX_UPLOAD_BYTES; "
                   "default 20MiB].")
@click.option("--max-rows", type=click.IntRange(1), default=None,
              help="Rows per workbook, all sheets [env COMPLIANCE_MAX_ROWS; default 200000].")
@click.option("--max-cells", type=click.IntRange(1), default=None,
              help="Cells per workbook [env COMPLIANCE_MAX_CELLS; default 5000000].")
@click.option("--timeout", "request_timeout", type=click.FloatRange(min=0, min_open=True),
              default=None, help="Seconds per upload request [env COMPLIANCE_REQUEST_TIMEOUT; "
                                 "default 60].")
@click.option("--max-parses", type=click.IntRange(1), default=None,
              help="Workbooks parsed at once [env COMPLIANCE_MAX_PARSES; default: CPU count, "
                   "at most 4].")
@click.option("--max-queue", type=click.IntRange(0), default=None,
              help="Uploads waiting for a parse; more get 429 [env COMPLIANCE_MAX_QUEUE; "
                   "default 16].")
@click.option("--queue-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds an upload may wait for a parse; then 503 [env "
                   "COMPLIANCE_QUEUE_TIMEOUT; default 30].")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log method, path (no query string), status and time of each request.")
def serve(host: str, port: int, max_upload: str | None, max_rows: int | None,
          max_cells: int | None, request_timeout: float | None, max_parses: int | None,
          max_queue: int | None, queue_timeout: float | None, access_log: bool) -> None:
    """Run the upload service: web page at /, JSON API under /v1, /healthz.

    Set COMPLIANCE_API_TOKEN to require 'Authorization: Bearer <token>' on the API.
    """
    try:
        from compliance.service.serve import run
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise click.UsageError(f"the service needs its extra dependencies ({exc.name} is "
                               "missing): pip install 'battery-compliance[service]'") from None
    try:
        run(host=host, port=port, access_log=access_log, max_upload=max_upload,
            max_rows=max_rows, max_cells=max_cells, request_timeout=request_timeout,
            max_parses=max_parses, max_queue=max_queue, queue_timeout=queue_timeout)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _register_explain() -> None:
    from compliance.explain.commands import register

    register(main, iso_date=IsoDate(), handle_errors=_handle_errors)


_register_explain()


if __name__ == "__main__":  # pragma: no cover
    main()

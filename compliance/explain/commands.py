"""Commands ``explain``, ``plan``, ``whatif`` and ``horizon``, and the richer ``audit`` outputs.

Kept out of :mod:`compliance.cli` so that module stays a thin list of commands; ``cli`` calls
:func:`register` once. Exit codes follow the CLI's: 0 every battery passes, 1 some battery fails
or lacks data, 2 usage error (including a ``--set`` that names no row or a value the reader
refuses, and xlsx asked for on a terminal), 3 a file or ruleset cannot be used. ``horizon``
exits 0 when it ran: it is a timeline, and under the 30D ruleset every battery stops passing
when the credit ends.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from compliance.reader.bom import Bom
    from compliance.report.model import AuditReport
    from compliance.rules.loader import LoadedRuleset

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNUSABLE = 0, 1, 2, 3
AUDIT_FORMATS = ("text", "json", "csv", "xlsx", "html")


def stdout_is_terminal() -> bool:
    """Whether standard output is a terminal (a function, so tests can pretend it is)."""
    return sys.stdout.isatty()


def emit(data: bytes, output: Path | None, *, binary: bool = False) -> None:
    """Write a rendered report to ``output`` or standard output.

    A binary format refuses a terminal (exit 2) but may be piped (``> report.xlsx``). CSV
    files carry a UTF-8 byte-order mark for Excel; on standard output it is left off.
    """
    if output is None:
        if binary and stdout_is_terminal():
            raise click.UsageError("this format is binary: write it to a file with --output")
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        sys.stdout.flush()
        stream = getattr(sys.stdout, "buffer", None)
        if stream is None:  # a text-only stream (some embedding hosts): decode what is text
            sys.stdout.write(data.decode("utf-8", errors="replace"))
            return
        stream.write(data)
        stream.flush()
        return
    output.write_bytes(data)
    click.echo(f"wrote {output}", err=True)


def _color(output: Path | None) -> bool:
    return output is None and stdout_is_terminal()


def _load(rulesets: Sequence[str]) -> list[LoadedRuleset]:
    """The rulesets named on the command line, refused before any file is read if one is
    given twice (as the audit itself would refuse them, but once rather than per file)."""
    import compliance
    from compliance.rules.loader import check_distinct

    loaded = [compliance.load_ruleset(r) for r in (rulesets or compliance.DEFAULT_RULESETS)]
    check_distinct(loaded)
    return loaded


def _read(file: Path) -> Bom:
    import compliance

    return compliance.read_bom(file)


def _exit(report: AuditReport) -> int:
    from compliance.report.model import Status

    return EXIT_OK if report.status is Status.PASS else EXIT_FINDINGS


def _check_binary(fmt: str, output: Path | None) -> None:
    from compliance.report.render import FORMATS

    if FORMATS[fmt].binary and output is None and stdout_is_terminal():
        raise click.UsageError(f"--format {fmt} is binary: write it to a file with --output")


def render_audit(report: AuditReport, fmt: str, *, bom: Bom | None,
                 rulesets: Sequence[LoadedRuleset], output: Path | None,
                 with_horizon: bool = True) -> bytes:
    """Bytes of the audit in ``fmt``; html and xlsx get the plan and (by default) horizon."""
    from compliance.report.render import render

    context: dict[str, Any] = {"bom": bom, "rulesets": rulesets}
    if fmt in ("html", "xlsx") and bom is not None:
        from compliance.explain.planning import plan
        from compliance.explain.timeline import horizon

        context["plan"] = plan(report, rulesets, bom)
        if with_horizon:
            context["horizon"] = horizon(bom, rulesets)
    if fmt == "text":
        context["color"] = _color(output)
    return render(report, fmt, **context)


def audit_file(file: Path, rulesets: Sequence[str], as_of: dt.date | None, strict: bool,
               fmt: str, output: Path | None) -> int:
    """``compliance audit FILE --format csv|xlsx|html``: returns the exit code."""
    import compliance
    from compliance.report.render import FORMATS

    if output is not None and output.is_dir():
        raise click.UsageError(f"--output {output} is a folder; give a file name")
    _check_binary(fmt, output)
    loaded = _load(rulesets)
    bom = _read(file)
    report = compliance.audit(bom, loaded, as_of=as_of, strict=strict)
    data = render_audit(report, fmt, bom=bom, rulesets=loaded, output=output)
    emit(data, output, binary=FORMATS[fmt].binary)
    return _exit(report)


def audit_folder(folder: Path, rulesets: Sequence[str], as_of: dt.date | None, strict: bool,
                 fmt: str, output: Path | None) -> int:
    """``compliance audit DIR/``: every workbook, a summary, the worst exit code.

    text, json and csv give one summary (json includes every file's full report); xlsx and
    html write one report per workbook into the folder ``--output`` (created if needed).
    """
    import compliance
    from compliance import batch
    from compliance.report.render import FORMATS

    loaded = _load(rulesets)
    per_file = fmt in ("xlsx", "html")
    if per_file:
        if output is None:
            raise click.UsageError(f"--format {fmt} on a folder writes one report per "
                                   "workbook: give the folder for them with --output")
        if output.exists() and not output.is_dir():
            raise click.UsageError(f"--output {output} must be a folder for --format {fmt}")
        output.mkdir(parents=True, exist_ok=True)
    elif output is not None and output.is_dir():
        raise click.UsageError(f"--output {output} is a folder; give a file name")
    boms: dict[Path, Bom] = {}
    written: list[Path] = []

    def one(path: Path) -> AuditReport:
        bom = compliance.read_bom(path, name=path.name)
        if per_file:
            boms[path] = bom
        return compliance.audit(bom, loaded, as_of=as_of, strict=strict)

    def write(item: batch.BatchItem) -> None:
        if not per_file or item.report is None:
            return
        bom = boms.pop(item.path, None)
        target = output / f"{item.path.stem}.{FORMATS[fmt].extension}"  # type: ignore[operator]
        target.write_bytes(render_audit(item.report, fmt, bom=bom, rulesets=loaded,
                                        output=target))
        written.append(target)

    result = batch.audit_folder(folder, loaded, as_of, audit_one=one, on_item=write)
    if fmt == "json":
        emit(batch.render_json(result), output)
    elif fmt == "csv":
        emit(batch.render_csv(result), output)
    else:
        text = batch.render_text(result, color=_color(None if per_file else output))
        if per_file:
            click.echo(text, nl=False)
            click.echo(f"wrote {len(written)} report(s) to {output}", err=True)
        else:
            emit(text.encode("utf-8"), output)
    if not result.items:
        click.echo(f"error [no-workbooks]: {folder} holds no *.xlsx workbook", err=True)
    return result.exit_code


# --------------------------------------------------------------------------------------------
# explain / plan / whatif / horizon
# --------------------------------------------------------------------------------------------

def register(main: click.Group, *, iso_date: click.ParamType,
             handle_errors: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Add the explain, plan, whatif and horizon commands to the CLI group ``main``."""

    def common(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                          help="Write to this file instead of standard output.")(fn)
        fn = click.option("--as-of", type=iso_date, default=None,
                          help="Evaluate every battery as if its dates were this day.")(fn)
        fn = click.option("--ruleset", "-r", "rulesets", multiple=True, metavar="ID|PATH",
                          help="Ruleset to apply (repeatable). Default: us-ira-30d.")(fn)
        return click.argument("file", type=click.Path(dir_okay=False, path_type=Path))(fn)

    def fmt_option(choices: Sequence[str]) -> Callable[..., Any]:
        return click.option("--format", "fmt", type=click.Choice(list(choices)),
                            default="text", show_default=True, help="Output format.")

    @main.command("explain")
    @common
    @fmt_option(("text", "json", "csv"))
    @click.option("--max-gaps", type=click.IntRange(0), default=20, show_default=True,
                  help="Data gaps per verdict filled both ways to see their effect.")
    @handle_errors
    def explain_cmd(file: Path, rulesets: tuple[str, ...], as_of: dt.date | None,
                    output: Path | None, fmt: str, max_gaps: int) -> None:
        """Every line's part in each requirement (value, share, qualifies or not, why), the
        blocking lines by impact, and what each data gap would do if filled either way."""
        import compliance
        from compliance.explain import explain

        loaded = _load(rulesets)
        bom = _read(file)
        report = compliance.audit(bom, loaded, as_of=as_of)
        expl = explain(report, bom, loaded, max_gaps=max_gaps)
        if fmt == "json":
            emit(expl.model_dump_json(indent=2).encode() + b"\n", output)
        elif fmt == "csv":
            from compliance.report.csv_out import explanation_csv

            emit(explanation_csv(expl), output)
        else:
            from compliance.explain.text import render_explanation

            emit(render_explanation(expl, color=_color(output)).encode(), output)
        sys.exit(_exit(report))

    @main.command("plan")
    @common
    @fmt_option(("text", "json", "csv", "html"))
    @handle_errors
    def plan_cmd(file: Path, rulesets: tuple[str, ...], as_of: dt.date | None,
                 output: Path | None, fmt: str) -> None:
        """What to change so each failing battery passes: the fewest lines and the least
        value to re-source per share requirement, the suppliers to replace for FEOC."""
        import compliance
        from compliance.explain import plan

        loaded = _load(rulesets)
        bom = _read(file)
        report = compliance.audit(bom, loaded, as_of=as_of)
        p = plan(report, loaded, bom)
        if fmt == "json":
            emit(p.model_dump_json(indent=2).encode() + b"\n", output)
        elif fmt == "csv":
            from compliance.report.csv_out import plan_csv

            emit(plan_csv(p), output)
        elif fmt == "html":
            from compliance.report.render import render

            emit(render(report, "html", bom=bom, rulesets=loaded, plan=p), output)
        else:
            from compliance.explain.text import render_plan

            emit(render_plan(p, color=_color(output)).encode(), output)
        sys.exit(_exit(report))

    @main.command("whatif")
    @common
    @fmt_option(("text", "json", "csv"))
    @click.option("--set", "sets", multiple=True, metavar="LINE.FIELD=VALUE",
                  help="Change one cell (repeatable): LINE is a line_id, component_id, "
                       "entity_id or battery_id (BATTERY/LINE when ambiguous), FIELD a contract "
                       "column, VALUE read exactly as a cell.")
    @click.option("--scenarios", "scenario_file", type=click.Path(dir_okay=False, path_type=Path),
                  default=None, help="Workbook whose 'scenarios' sheet lists the changes "
                                     "(default: FILE's own 'scenarios' sheet when no --set).")
    @handle_errors
    def whatif_cmd(file: Path, rulesets: tuple[str, ...], as_of: dt.date | None,
                   output: Path | None, fmt: str, sets: tuple[str, ...],
                   scenario_file: Path | None) -> None:
        """Re-run the audit with changed cells and show, per requirement, the status, the
        actual share and the shortfall before and after. Exits 0 when every scenario passes.
        """
        from compliance.explain import ChangeError, parse_set, read_scenarios, what_if
        from compliance.report.model import Status

        try:
            requests = [parse_set(s) for s in sets]
        except ChangeError as exc:
            raise click.UsageError(str(exc)) from None
        loaded = _load(rulesets)
        bom = _read(file)
        scenarios: dict[str, Any] = {}
        if requests:
            scenarios["--set"] = requests
        if scenario_file is not None:
            scenarios.update(read_scenarios(scenario_file.read_bytes(),
                                            name=str(scenario_file)))
        elif not requests:
            if bom.source is None:  # pragma: no cover - a path always has bytes
                raise click.UsageError("give --set or --scenarios")
            try:
                scenarios.update(read_scenarios(bom.source.data, name=str(file)))
            except ChangeError as exc:
                raise click.UsageError(f"give --set LINE.FIELD=VALUE or a scenarios sheet "
                                       f"({exc})") from None
        try:
            result = what_if(bom, loaded, scenarios, as_of=as_of)
        except ChangeError as exc:
            if (exc.where or "").startswith("--set"):
                raise click.UsageError(str(exc)) from None
            raise
        if fmt == "json":
            emit(result.model_dump_json(indent=2).encode() + b"\n", output)
        elif fmt == "csv":
            from compliance.report.csv_out import whatif_csv

            emit(whatif_csv(result), output)
        else:
            from compliance.explain.text import render_whatif

            emit(render_whatif(result, color=_color(output)).encode(), output)
        ok = all(s.status_after is Status.PASS for s in result.scenarios)
        sys.exit(EXIT_OK if ok else EXIT_FINDINGS)

    @main.command("horizon")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--ruleset", "-r", "rulesets", multiple=True, metavar="ID|PATH",
                  help="Ruleset to apply (repeatable). Default: us-ira-30d.")
    @click.option("--from", "start", type=iso_date, default=None,
                  help="Leave out change dates before this day.")
    @click.option("--to", "end", type=iso_date, default=None,
                  help="Leave out change dates after this day.")
    @fmt_option(("text", "json", "csv", "html"))
    @click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                  help="Write to this file instead of standard output.")
    @handle_errors
    def horizon_cmd(file: Path, rulesets: tuple[str, ...], start: dt.date | None,
                    end: dt.date | None, fmt: str, output: Path | None) -> None:
        """Audit FILE on every date a selected ruleset changes (thresholds, lists, FEOC, the
        credit's end) and show when each battery stops or starts passing."""
        from compliance.explain import horizon

        loaded = _load(rulesets)
        bom = _read(file)
        h = horizon(bom, loaded, start=start, end=end)
        if fmt == "json":
            emit(h.model_dump_json(indent=2).encode() + b"\n", output)
        elif fmt == "csv":
            from compliance.report.csv_out import horizon_csv

            emit(horizon_csv(h), output)
        elif fmt == "html":
            import compliance
            from compliance.report.render import render

            report = compliance.audit(bom, loaded)
            emit(render(report, "html", bom=bom, rulesets=loaded, horizon=h), output)
        else:
            from compliance.explain.text import render_horizon

            emit(render_horizon(h, color=_color(output)).encode(), output)
        sys.exit(EXIT_OK)

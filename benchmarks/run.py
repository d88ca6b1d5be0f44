"""Benchmark: audit a BOM workbook near the speed of loading it.

For each size (mineral lines) this measures, in ONE run and each in a fresh subprocess so that
peak memory is per measurement:

* load floor: fastexcel loading the four sheets into polars, the least any audit must do;
* audit: ``compliance.audit(path)`` end to end in-process, plus ``report.model_dump_json()``;
* phases: the same audit with its reader and engine steps timed one by one (including the
  reliability scan's steps in ``compliance.reader.quick_scan``), run separately so the
  wrappers do not disturb the above;
* openpyxl: the slowest supported path, openpyxl read-only loading the same sheets, and the same
  audit fed from those records through ``Bom.from_records`` (sizes up to ``--slow-max``);
* the CLI end to end: ``compliance audit FILE --output F`` (text, the default) and with
  ``--format json``, interpreter start-up included;
* start-up: ``compliance --help`` (best of 5) and a CLI audit of a 20-line workbook (best of 3).

Times are taken inside each child from just before its first heavy import to the end of its
work (interpreter start-up excluded, lazy imports included); peak memory is the child's
``ru_maxrss`` from ``os.wait4``. The machine is small and shared, so read the ratios, which are
measured back to back in the same run.

    python benchmarks/run.py                  # 10k, 100k, 1M
    python benchmarks/run.py --quick          # 10k only
    python benchmarks/run.py --sizes 100k --profile   # also write a pyinstrument profile
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import DATA_DIR, ensure_workbook  # noqa: E402

SHEETS = ("batteries", "components", "minerals", "entities")


# --------------------------------------------------------------------------------------------
# Children: each runs in its own interpreter and prints one JSON object on its last line.
# --------------------------------------------------------------------------------------------


def child_load(path: str) -> dict[str, Any]:
    started = time.perf_counter()
    import fastexcel

    reader = fastexcel.read_excel(path)
    rows = {}
    for name in SHEETS:
        frame = reader.load_sheet(name, header_row=None, skip_rows=0,
                                  dtypes="string").to_polars()
        rows[name] = frame.height
    return {"seconds": time.perf_counter() - started, "rows": rows}


def child_audit(path: str) -> dict[str, Any]:
    started = time.perf_counter()
    import compliance

    report = compliance.audit(path)
    audited = time.perf_counter()
    text = report.model_dump_json()
    done = time.perf_counter()
    summary = report.summary
    return {"seconds": done - started, "audit_seconds": audited - started,
            "json_seconds": done - audited, "json_mb": len(text) / 1e6,
            "summary": summary.model_dump(mode="json"), "findings": len(report.findings)}


def child_openpyxl(path: str) -> dict[str, Any]:
    started = time.perf_counter()
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    grids: dict[str, list[tuple[Any, ...]]] = {}
    for name in SHEETS:
        grids[name] = list(workbook[name].iter_rows(values_only=True))
    workbook.close()
    loaded = time.perf_counter()

    import compliance
    from compliance.reader.bom import Bom

    records: dict[str, list[dict[str, Any]]] = {}
    for name, grid in grids.items():
        header = [str(h) if h is not None else "" for h in grid[0]]
        records[name] = [dict(zip(header, row, strict=False)) for row in grid[1:]]
    bom = Bom.from_records(**records)
    report = compliance.audit(bom)
    report.model_dump_json()
    done = time.perf_counter()
    return {"seconds": loaded - started, "audit_seconds": done - started,
            "summary": report.summary.model_dump(mode="json")}


class _Timer:
    """Inclusive wall time and call count per label, for the phases child."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}
        self.order: list[str] = []

    def register(self, label: str) -> None:
        if label not in self.totals:
            self.totals[label] = [0.0, 0]
            self.order.append(label)

    def add(self, label: str, seconds: float) -> None:
        self.register(label)
        self.totals[label][0] += seconds
        self.totals[label][1] += 1

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.register(label)  # parents are listed before the steps inside them
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - t)

        return timed

    def patch(self, owner: Any, attr: str, label: str) -> None:
        setattr(owner, attr, self.wrap(label, getattr(owner, attr)))


class _TimedSheet:
    def __init__(self, sheet: Any, timer: _Timer) -> None:
        self._sheet, self._timer = sheet, timer

    def to_polars(self) -> Any:
        t = time.perf_counter()
        frame = self._sheet.to_polars()
        self._timer.add("read_bom: fastexcel to_polars", time.perf_counter() - t)
        return frame

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sheet, name)


class _TimedReader:
    def __init__(self, reader: Any, timer: _Timer) -> None:
        self._reader, self._timer = reader, timer

    def load_sheet(self, *args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        sheet = self._reader.load_sheet(*args, **kwargs)
        self._timer.add("read_bom: fastexcel load_sheet", time.perf_counter() - t)
        return _TimedSheet(sheet, self._timer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


# (module, attribute, label) of the steps timed by the phases child. Other engineers change the
# code under measurement, so a target that no longer exists is skipped, not an error; a label's
# ": " count is its nesting depth in the printed table.
PHASE_TARGETS: tuple[tuple[str, str, str], ...] = (
    ("compliance", "read_bom", "read_bom (total, incl. lazy imports)"),
    ("compliance.reader.bom", "load_source", "read_bom: load_source (read + sha256)"),
    ("compliance.reader.sniff", "ensure_xlsx", "read_bom: ensure_xlsx (sniff)"),
    ("compliance.reader.package", "open_package", "read_bom: open_package (zip, styles)"),
    ("compliance.reader.review", "workbook_findings", "read_bom: workbook_findings"),
    ("compliance.reader.quick_scan", "preflight",
     "read_bom: quick_scan.preflight (safety, before each load)"),
    ("compliance.reader.quick_scan", "findings",
     "read_bom: quick_scan.findings (overlaps the load)"),
    ("compliance.reader.bom", "prepare_checks",
     "read_bom: validate.prepare (pandera import, beside the load)"),
    ("compliance.reader.quick_scan", "confirm", "read_bom: quick_scan.confirm (value count)"),
    ("compliance.reader.package:Package", "scan_exact",
     "read_bom: Package.scan_exact (fallback, irregular sheets only)"),
    ("compliance.reader.bom", "locate_columns", "read_bom: locate_columns"),
    ("compliance.reader.review", "review_sheet", "read_bom: review_sheet (scan findings)"),
    ("compliance.reader.bom", "_assemble", "read_bom: _assemble (total)"),
    ("compliance.reader.bom", "parse_sheet", "read_bom: _assemble: parse_sheet (typing)"),
    ("compliance.reader.bom", "_drop_unusable", "read_bom: _assemble: _drop_unusable"),
    ("compliance.reader.bom", "check_frame",
     "read_bom: _assemble: _drop_unusable: check_frame (pandera)"),
    ("compliance.reader.bom", "_check_entity_references",
     "read_bom: _assemble: _check_entity_references"),
    ("compliance.reader.bom", "_check_recycling", "read_bom: _assemble: _check_recycling"),
    ("compliance", "load_ruleset", "load_ruleset"),
    ("compliance.engine.audit", "run_audit", "run_audit (total)"),
    ("compliance.engine.audit", "battery_contexts", "run_audit: battery_contexts"),
    ("compliance.engine.audit", "_scoped", "run_audit: _scoped (applies_if)"),
    ("compliance.engine.audit", "_confirmation", "run_audit: _confirmation (per result)"),
    ("compliance.engine.audit", "_verdict", "run_audit: _verdict (per battery)"),
    ("compliance.engine.audit", "BatteryReport", "run_audit: BatteryReport (per battery)"),
    ("compliance.engine.audit", "AuditReport", "run_audit: AuditReport (validate)"),
    ("compliance.engine.audit", "sheet_summaries", "run_audit: sheet_summaries"),
)


def _resolve(target: str) -> Any:
    import importlib

    module, _, cls = target.partition(":")
    try:
        owner = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(owner, cls, None) if cls else owner


def child_phases(path: str) -> dict[str, Any]:
    """The audit with each step timed (inclusive; nested steps are indented in the table)."""
    started = time.perf_counter()
    timer = _Timer()
    import fastexcel

    import compliance
    import compliance.engine.audit as audit_mod

    owners = {target: _resolve(target) for target, _a, _l in PHASE_TARGETS}
    timer.add("imports (compliance, polars, fastexcel)", time.perf_counter() - started)
    original_read_excel = fastexcel.read_excel

    def read_excel(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        reader = original_read_excel(*args, **kwargs)
        timer.add("read_bom: fastexcel read_excel (open)", time.perf_counter() - t)
        return _TimedReader(reader, timer)

    fastexcel.read_excel = read_excel
    skipped = []
    for target, attr, label in PHASE_TARGETS:
        owner = owners[target]
        if owner is None or not hasattr(owner, attr):
            skipped.append(f"{target}.{attr}")
            continue
        timer.patch(owner, attr, label)
    evaluators = getattr(audit_mod, "_EVALUATORS", {})
    for kind, fn in list(evaluators.items()):
        evaluators[kind] = timer.wrap(f"run_audit: evaluate {kind.__name__}", fn)

    report = compliance.audit(path)
    t = time.perf_counter()
    report.model_dump_json()
    timer.add("model_dump_json", time.perf_counter() - t)
    total = time.perf_counter() - started
    return {"seconds": total, "skipped": skipped,
            "phases": [(label, *timer.totals[label]) for label in timer.order]}


def child_profile(path: str, out: str) -> dict[str, Any]:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002)
    profiler.start()
    import compliance

    report = compliance.audit(path)
    report.model_dump_json()
    profiler.stop()
    Path(out).write_text(profiler.output_text(unicode=False, color=False, show_all=False),
                         encoding="utf-8")
    Path(out).with_suffix(".html").write_text(profiler.output_html(), encoding="utf-8")
    return {"seconds": profiler.last_session.duration if profiler.last_session else None}


CHILDREN = {"load": child_load, "audit": child_audit, "openpyxl": child_openpyxl,
            "phases": child_phases, "profile": child_profile}


# --------------------------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------------------------


def run_child(kind: str, *args: str, timeout: float | None = None) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; add its wall time and peak RSS (MB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, "--child", kind, *args],
                                stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"child {kind} {args} failed ({proc.returncode}):\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["wall"] = wall
    result["cpu"] = usage.ru_utime + usage.ru_stime  # whole child, start-up included
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes
    return result


def best_wall(cmd: Sequence[str], repeat: int) -> tuple[float, int]:
    times = []
    code = 0
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - started)
        code = done.returncode
    return min(times), code


def compliance_command() -> list[str]:
    script = Path(sys.executable).with_name("compliance")
    if script.exists():
        return [str(script)]
    found = shutil.which("compliance")
    return [found] if found else [sys.executable, "-m", "compliance.cli"]


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    scale = 1
    if text.endswith("k"):
        scale, text = 1_000, text[:-1]
    elif text.endswith("m"):
        scale, text = 1_000_000, text[:-1]
    return int(float(text) * scale)


def fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def versions() -> str:
    import importlib.metadata as md

    parts = [f"Python {platform.python_version()}"]
    for dist in ("polars", "fastexcel", "pandera", "pydantic", "openpyxl"):
        try:
            parts.append(f"{dist} {md.version(dist)}")
        except md.PackageNotFoundError:
            parts.append(f"{dist} (absent)")
    return ", ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1m",
                        help="comma-separated mineral-line counts (default 10k,100k,1m)")
    parser.add_argument("--quick", action="store_true", help="10k only")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of load and audit per size; the best is kept")
    parser.add_argument("--slow-max", type=parse_size, default=100_000,
                        help="largest size measured through openpyxl (default 100k; 0: none)")
    parser.add_argument("--formats-max", type=parse_size, default=100_000,
                        help="largest size whose xlsx and html reports are timed (default 100k;"
                             " 0: none)")
    parser.add_argument("--no-phases", action="store_true", help="skip the phase breakdown")
    parser.add_argument("--profile", action="store_true",
                        help="also profile each audit with pyinstrument into benchmarks/data/")
    parser.add_argument("--json", type=Path, help="write all measurements here as JSON")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        print(json.dumps(CHILDREN[kind](*rest)))
        return 0

    sizes = [10_000] if args.quick else [parse_size(s) for s in args.sizes.split(",")]
    print(f"machine: {os.cpu_count()} cores; {versions()}")
    print(f"platform: {platform.platform()}")
    paths = {n: ensure_workbook(n) for n in sizes}
    results: dict[str, Any] = {"sizes": {}, "cpu_count": os.cpu_count(), "versions": versions()}

    rows = []
    for n in sizes:
        path = str(paths[n])
        loads, audits = [], []
        for _ in range(max(1, args.repeat)):
            # Back to back, so the ratio sees the same machine load.
            loads.append(run_child("load", path))
            audits.append(run_child("audit", path))
        load = min(loads, key=lambda r: r["seconds"])
        audit = min(audits, key=lambda r: r["seconds"])
        load_peak = min(r["peak_mb"] for r in loads)
        audit_peak = min(r["peak_mb"] for r in audits)
        # The command a person types first (text report) and the one a program runs (JSON).
        cli_text_s, _code = best_wall([*compliance_command(), "audit", path,
                                       "--output", str(DATA_DIR / "cli-report.txt")], 1)
        cli_s, _code = best_wall([*compliance_command(), "audit", path, "--format", "json",
                                  "--output", str(DATA_DIR / "cli-report.json")], 1)
        formats = {}
        if n <= args.formats_max:  # the shareable reports: plan, horizon and annotated copy
            for report_format in ("xlsx", "html"):
                formats[report_format], _code = best_wall(
                    [*compliance_command(), "audit", path, "--format", report_format,
                     "--output", str(DATA_DIR / f"cli-report.{report_format}")], 1)
        slow = run_child("openpyxl", path) if n <= args.slow_max else None
        phases = None if args.no_phases else run_child("phases", path)
        if args.profile:
            out = DATA_DIR / f"profile-{n}.txt"
            run_child("profile", path, str(out))
            print(f"profile written to {out} (and .html)")
        entry = {"load": loads, "audit": audits, "openpyxl": slow, "phases": phases,
                 "formats": formats,
                 "file_mb": Path(path).stat().st_size / 1e6}
        results["sizes"][n] = entry
        scan_s = None
        if phases:
            scan_s = sum(sec for label, sec, _c in phases["phases"]
                         if "preflight" in label or "scan_exact" in label)
        rows.append({"n": n, "load": load["seconds"], "audit": audit["seconds"],
                     "load_cpu": min(r["cpu"] for r in loads),
                     "audit_cpu": min(r["cpu"] for r in audits),
                     "json": audit["json_seconds"], "load_mb": load_peak,
                     "audit_mb": audit_peak, "scan": scan_s,
                     "cli": cli_s, "cli_text": cli_text_s,
                     "slow": slow["seconds"] if slow else None,
                     "slow_audit": slow["audit_seconds"] if slow else None})
        print(f"  {n:>9,} lines: load {load['seconds']:.2f} s, audit {audit['seconds']:.2f} s, "
              f"summary {audit['summary']}", file=sys.stderr)

    print()
    print("| lines | load floor s | audit s | ratio audit/load | per-line µs | load peak MB "
          "| audit peak MB | memory ratio | openpyxl load s | marginal µs/line | scan s "
          "| openpyxl audit s | CLI text s | CLI json s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    previous = None
    for r in rows:
        marginal = None
        if previous is not None and r["n"] > previous["n"]:
            marginal = (r["audit"] - previous["audit"]) / (r["n"] - previous["n"]) * 1e6
        print(f"| {r['n']:,} | {fmt(r['load'])} | {fmt(r['audit'])} "
              f"| {fmt(r['audit'] / r['load'])} | {fmt(r['audit'] / r['n'] * 1e6, 1)} "
              f"| {fmt(r['load_mb'], 0)} | {fmt(r['audit_mb'], 0)} "
              f"| {fmt(r['audit_mb'] / r['load_mb'])} | {fmt(r['slow'])} | {fmt(marginal, 1)} "
              f"| {fmt(r['scan'])} | {fmt(r['slow_audit'])} | {fmt(r['cli_text'])} "
              f"| {fmt(r['cli'])} |")
        previous = r
    print()
    print("Targets: ratio audit/load <= 1.5, memory ratio <= 2; per-line µs roughly constant.")
    print("audit s = compliance.audit(path) + report.model_dump_json(), lazy imports included;")
    print("of which JSON: " + ", ".join(f"{r['n']:,}: {fmt(r['json'])} s" for r in rows) + ".")
    print("CPU ratio (audit/load, whole-process user+sys, less sensitive to a busy machine): "
          + ", ".join(f"{r['n']:,}: {fmt(r['audit_cpu'])}/{fmt(r['load_cpu'])} s = "
                      f"{fmt(r['audit_cpu'] / r['load_cpu'])}" for r in rows) + ".")
    print("marginal µs/line = extra audit time per extra line since the previous size; scan s =")
    print("the reliability scan's part that must precede each load (quick_scan.preflight, plus")
    print("any exact-scan fallback), from the phases run; openpyxl")
    print("audit s = openpyxl read-only load + Bom.from_records + the same audit + JSON; CLI text")
    print("s = `compliance audit FILE --output F` end to end (the default text report), CLI json")
    print("s = `compliance audit FILE --format json --output F` (indented JSON); both include")
    print("the interpreter's start-up.")

    timed = [(n, results["sizes"][n]["formats"]) for n in sizes if results["sizes"][n]["formats"]]
    if timed:
        print()
        print("Shareable reports, `compliance audit FILE --format xlsx|html --output F` end to "
              "end (they add the remediation plan and the horizon, an audit on each date a "
              "rule changes, and xlsx an annotated copy of the input):")
        print()
        print("| lines | CLI xlsx s | CLI html s |")
        print("|---:|---:|---:|")
        for n, found in timed:
            print(f"| {n:,} | {fmt(found.get('xlsx'))} | {fmt(found.get('html'))} |")

    if not args.no_phases:
        print()
        labels: list[str] = []
        for n in sizes:
            for label, _s, _c in results["sizes"][n]["phases"]["phases"]:
                if label not in labels:
                    labels.append(label)
        print("Phases (inclusive seconds; indented steps are inside the step above):")
        print()
        print("| phase | " + " | ".join(f"{n:,}" for n in sizes) + " |")
        print("|---|" + "---:|" * len(sizes))
        for label in labels:
            cells = []
            for n in sizes:
                found = {lab: s for lab, s, _c in results["sizes"][n]["phases"]["phases"]}
                cells.append(fmt(found.get(label)))
            depth = label.count(": ")
            name = label.rsplit(": ", 1)[-1]
            print(f"| {'&nbsp;&nbsp;' * depth}{name} | " + " | ".join(cells) + " |")
        print("| (phases child total) | " + " | ".join(
            fmt(results["sizes"][n]["phases"]["seconds"]) for n in sizes) + " |")
        skipped = {s for n in sizes for s in results["sizes"][n]["phases"].get("skipped", [])}
        if skipped:
            print(f"(not in this version of the code, not timed: {', '.join(sorted(skipped))})")

    print()
    cli = compliance_command()
    help_s, _ = best_wall([*cli, "--help"], 5)
    small = ensure_workbook(20, quiet=True)
    audit_small, code = best_wall([*cli, "audit", str(small)], 5)
    results["startup"] = {"help": help_s, "audit_20_lines": audit_small, "exit_code": code}
    print("| start-up | seconds (best) | target |")
    print("|---|---:|---:|")
    print(f"| compliance --help (best of 5) | {help_s:.3f} | 0.3 |")
    print(f"| compliance audit 20-line workbook, text (best of 5, exit {code}) "
          f"| {audit_small:.3f} | 1.0 |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The BOM model and ``read_bom``: workbook bytes in, typed frames and findings out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from compliance import findings as F
from compliance.contract import (
    BATTERIES,
    COMPONENTS,
    COSTS,
    ENTITIES,
    MINERAL_LINES,
    OWNERSHIP,
    SHEETS,
    TEMPLATE_SHEETS,
    TOOL_SHEETS,
    VALUE_ADDED,
    Kind,
    Sheet,
    normalise_header,
)
from compliance.errors import UnusableInputError
from compliance.findings import Finding
from compliance.reader.limits import DEFAULT_LIMITS, Limits
from compliance.reader.parse import parse_sheet
from compliance.reader.sheets import ROW, RawSheet, find_sheet, locate_columns
from compliance.reader.source import InputFile, Source, load_source
from compliance.reader.validate import check_frame
from compliance.reader.validate import prepare as prepare_checks

if TYPE_CHECKING:
    from compliance.reader.package import Package, SheetPart, SheetScan


@dataclass(slots=True)
class SheetStats:
    sheet: str
    found_as: str | None
    header_row: int | None
    data_rows: int = 0
    used_rows: int = 0
    excluded_rows: int = 0


@dataclass(slots=True)
class Bom:
    """A battery bill of materials: typed frames (one per contract sheet) and what was found.

    Every frame keeps ``_row``, the Excel row each record came from. Rows that could not be used
    at all (no key, duplicate key, unknown battery) are not in the frames; they are listed in
    ``excluded`` with the battery they name, so that battery's verdict becomes
    ``insufficient_data`` instead of being computed without them.
    """

    batteries: pl.DataFrame
    components: pl.DataFrame
    minerals: pl.DataFrame
    entities: pl.DataFrame
    costs: pl.DataFrame = field(default_factory=lambda: _empty_typed(COSTS))
    ownership: pl.DataFrame = field(default_factory=lambda: _empty_typed(OWNERSHIP))
    value_added: pl.DataFrame = field(default_factory=lambda: _empty_typed(VALUE_ADDED))
    findings: list[Finding] = field(default_factory=list)
    excluded: pl.DataFrame = field(default_factory=lambda: _empty_excluded())
    letters: dict[str, dict[str, str]] = field(default_factory=dict)
    sheet_names: dict[str, str] = field(default_factory=dict)
    stats: list[SheetStats] = field(default_factory=list)
    source: InputFile | None = None

    def frame(self, sheet: str) -> pl.DataFrame:
        return getattr(self, sheet)  # type: ignore[no-any-return]

    def has_column(self, sheet: str, column: str) -> bool:
        """Whether the workbook's sheet had this column (in-memory BOMs have them all)."""
        if self.source is None:
            return True
        return column in self.letters.get(sheet, {})

    def letter(self, sheet: str, column: str) -> str | None:
        return self.letters.get(sheet, {}).get(column)

    def display_sheet(self, sheet: str) -> str:
        return self.sheet_names.get(sheet, sheet)

    @classmethod
    def from_records(
        cls,
        *,
        batteries: Sequence[Mapping[str, Any]],
        components: Sequence[Mapping[str, Any]] = (),
        minerals: Sequence[Mapping[str, Any]] = (),
        entities: Sequence[Mapping[str, Any]] = (),
        costs: Sequence[Mapping[str, Any]] = (),
        ownership: Sequence[Mapping[str, Any]] = (),
        value_added: Sequence[Mapping[str, Any]] = (),
    ) -> Bom:
        """Build a BOM from Python records, read exactly as workbook cells would be.

        Each record maps contract column names to values; rows are numbered as if the header
        were on row 1 of a sheet, so findings still point somewhere a person can look.
        """
        grids = {"batteries": batteries, "components": components, "minerals": minerals,
                 "entities": entities, "costs": costs, "ownership": ownership,
                 "value_added": value_added}
        out: list[Finding] = []
        raws: dict[str, RawSheet] = {}
        for spec in SHEETS:
            records = grids[spec.name]
            columns = [pl.int_range(2, 2 + len(records), eager=True).alias(ROW)]
            for col in spec.columns:
                columns.append(pl.Series(col.name, [_as_text(r.get(col.name)) for r in records],
                                         dtype=pl.String))
            letters = {c.name: F.column_letter(i) for i, c in enumerate(spec.columns)}
            raws[spec.name] = RawSheet(spec, spec.name, pl.DataFrame(columns), letters, 1)
        return _assemble(raws, out, percent_cells={}, date1904=False, source=None,
                         stats=[SheetStats(s.name, s.name, 1) for s in SHEETS])


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _empty_excluded() -> pl.DataFrame:
    return pl.DataFrame(schema={"sheet": pl.String, "row": pl.Int64, "battery_id": pl.String,
                                "code": pl.String})


@dataclass(slots=True)
class _SheetPlan:
    spec: Sheet
    actual: str
    part: SheetPart
    scan: SheetScan
    percent: bool
    load: Future[Any]


def _outcome(work: Callable[..., Any], *args: Any) -> Any:
    """``work(*args)``, or the exception it raised: the reader's failures come back to the main
    thread as values, to become findings or a refusal there."""
    try:
        return work(*args)
    except BaseException as exc:  # pyo3 panics derive from BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit | MemoryError):
            raise
        return exc


def _open_reader(data: bytes) -> Any:
    """Open the cell reader (it parses the shared strings); a failure is returned, not raised."""
    import fastexcel

    return _outcome(fastexcel.read_excel, data)


def _load(opening: Future[Any], sheet_name: str) -> Any:
    """Load one sheet as text; a failure is returned, not raised, so it becomes a finding."""
    reader = opening.result()
    if isinstance(reader, BaseException):
        return reader

    def load() -> tuple[Any, pl.DataFrame]:
        sheet = reader.load_sheet(sheet_name, header_row=None, skip_rows=0, dtypes="string")
        return sheet, sheet.to_polars()

    return _outcome(load)


def _report_unknown_sheets(names: list[str], out: list[Finding]) -> None:
    wanted = {normalise_header(s.name) for s in SHEETS}
    template_own = {normalise_header(n) for n in (*TEMPLATE_SHEETS, *TOOL_SHEETS)}
    for name_ in names:
        if normalise_header(name_) not in wanted | template_own:
            out.append(Finding.make(F.UNKNOWN_SHEET,
                                    f"sheet '{name_}' is not part of the contract and is ignored",
                                    sheet=name_))


def _find_sheets(package: Package, names: list[str]
                 ) -> tuple[dict[str, list[Finding]], dict[str, SheetStats],
                            list[tuple[Sheet, str, SheetPart]]]:
    """Match the contract's sheets to the workbook's: findings for the missing ones (kept per
    sheet, so they are reported in contract order), and the (spec, name, part) to read."""
    early: dict[str, list[Finding]] = {spec.name: [] for spec in SHEETS}
    stats: dict[str, SheetStats] = {}
    wanted: list[tuple[Sheet, str, SheetPart]] = []
    for spec in SHEETS:
        actual = find_sheet(spec, names)
        if actual is None:
            if spec.required:
                early[spec.name].append(Finding.make(
                    F.MISSING_SHEET,
                    f"the workbook has no '{spec.name}' sheet ({spec.description})",
                    sheet=spec.name))
            stats[spec.name] = SheetStats(spec.name, None, None)
            continue
        part = package.sheet(actual)
        if part is None or not part.present:
            early[spec.name].append(Finding.make(
                F.UNREADABLE_WORKBOOK, f"sheet '{actual}' is listed in the workbook but its part "
                f"{part.path if part and part.path else ''} is missing from the file; the sheet "
                "cannot be read", sheet=actual))
            stats[spec.name] = SheetStats(spec.name, actual, None)
            continue
        wanted.append((spec, actual, part))
    return early, stats, wanted


def _review_loaded(plan: _SheetPlan, result: Any, package: Package, out: list[Finding],
                   limits: Limits, where: str) -> tuple[RawSheet | None, SheetStats]:
    """One loaded sheet: its value count confirmed, its columns found and its scan's findings
    reported; ``None`` (with a finding) when it cannot be used."""
    from compliance.reader import quick_scan
    from compliance.reader.review import review_sheet

    spec, actual = plan.spec, plan.actual
    if isinstance(result, BaseException):
        quick_scan.explain_failure(package, plan.part, want_percent=plan.percent)
        out.append(Finding.make(F.UNREADABLE_WORKBOOK,
                                f"sheet '{actual}' cannot be read ({_first_line(result)})",
                                sheet=actual))
        return None, SheetStats(spec.name, actual, None)
    sheet, grid = result
    if grid.height > limits.max_rows:
        raise UnusableInputError(f"sheet '{actual}' has {grid.height} rows "
                                 f"(limit {limits.max_rows})", code="unsafe-workbook",
                                 where=where)
    values = grid.height * grid.width - sum(grid.null_count().row(0))
    quick_scan.confirm(package, plan.part, plan.scan, want_percent=plan.percent, values=values)
    absolute = [c.absolute_index for c in sheet.selected_columns]
    raw = locate_columns(spec, actual, grid, absolute, out)
    if raw is None:
        return None, SheetStats(spec.name, actual, None)
    raw = review_sheet(raw, plan.scan, plan.part, package, out, limits)
    return raw, SheetStats(spec.name, actual, raw.header_row)


def read_bom(source: Source | InputFile, *, name: str | None = None,
             limits: Limits = DEFAULT_LIMITS) -> Bom:
    """Read a BOM workbook (path, bytes or binary file object).

    Raises :class:`UnusableInputError` when the file cannot be used at all; every other problem
    is a finding in the returned :class:`Bom`.
    """
    from compliance.reader import quick_scan
    from compliance.reader.package import open_package
    from compliance.reader.review import workbook_findings
    from compliance.reader.sniff import ensure_xlsx

    infile = source if isinstance(source, InputFile) else load_source(source, name=name)
    if infile.size > limits.max_file_bytes:
        raise UnusableInputError(
            f"the file is {infile.size} bytes (limit {limits.max_file_bytes})",
            code="file-too-large", where=infile.name)
    ensure_xlsx(infile.data, infile.name)
    package = open_package(infile.data, infile.name, limits, defer_sheets=True)
    out: list[Finding] = []
    workbook_findings(package, out)
    names = [part.name for part in package.sheets]
    _report_unknown_sheets(names, out)
    early, stats, wanted = _find_sheets(package, names)
    # Each sheet is proved safe (preflight) before the reader may load it. The reader opens and
    # loads on one worker thread (fastexcel releases the GIL), so the scan's findings and the
    # other sheets' preflights use the second core meanwhile. The largest part goes first: its
    # load is the longest step, and it starts as early as it safely can.
    plans: dict[str, _SheetPlan] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="compliance-load") as loader:
        opening = loader.submit(_open_reader, infile.data)
        try:
            for spec, actual, part in sorted(wanted, key=lambda w: -package.part_size(w[2])):
                wants_percent = bool(package.percent_styles) and any(
                    c.kind is Kind.PERCENT for c in spec.columns)
                scan = quick_scan.preflight(package, part, want_percent=wants_percent)
                plans[spec.name] = _SheetPlan(spec, actual, part, scan, wants_percent,
                                              loader.submit(_load, opening, actual))
            for plan in plans.values():
                quick_scan.findings(package, plan.part, plan.scan, want_percent=plan.percent)
            prepare_checks()  # the loads usually run on; import what the checks need meanwhile
            opened = opening.result()
            if isinstance(opened, BaseException):
                raise UnusableInputError(f"the workbook cannot be read ({_first_line(opened)})",
                                         code="unreadable-workbook", where=infile.name)
            # Largest first, as loaded: each sheet is reviewed while the next one loads. Its
            # findings are kept apart and reported in the contract's sheet order below.
            reviewed: dict[str, tuple[RawSheet | None, list[Finding]]] = {}
            for name_, plan in plans.items():
                found: list[Finding] = []
                raw, stats[name_] = _review_loaded(plan, plan.load.result(), package, found,
                                                   limits, infile.name)
                reviewed[name_] = raw, found
        except BaseException:
            loader.shutdown(wait=True, cancel_futures=True)
            raise
    package.verify_rest()
    raws: dict[str, RawSheet] = {}
    percent: dict[str, set[tuple[str, int]]] = {}
    for spec in SHEETS:
        out.extend(early[spec.name])
        if spec.name not in reviewed:
            continue
        raw, found = reviewed[spec.name]
        out.extend(found)
        if raw is not None:
            raws[spec.name] = raw
            percent[spec.name] = plans[spec.name].scan.percent_cells
    stats_list = [stats[spec.name] for spec in SHEETS]
    bom = _assemble(raws, out, percent_cells=percent, date1904=package.date1904, source=infile,
                    stats=stats_list)
    return bom


def _assemble(
    raws: dict[str, RawSheet],
    out: list[Finding],
    *,
    percent_cells: dict[str, set[tuple[str, int]]],
    date1904: bool,
    source: InputFile | None,
    stats: list[SheetStats],
) -> Bom:
    frames: dict[str, pl.DataFrame] = {}
    excluded_parts: list[pl.DataFrame] = []
    letters: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}
    for spec in SHEETS:
        raw = raws.get(spec.name)
        if raw is None:
            frames[spec.name] = _empty_typed(spec)
            continue
        letters[spec.name] = raw.letters
        names[spec.name] = raw.actual_name
        typed = parse_sheet(raw, out, percent_cells=percent_cells.get(spec.name),
                            date1904=date1904)
        typed, dropped = _drop_unusable(spec, raw, typed, out)
        excluded_parts.append(dropped)
        frames[spec.name] = typed
    excluded_parts = [p for p in excluded_parts if p.height]

    # Cross-sheet references: rows naming a battery that does not exist cannot be attributed.
    # A battery whose own row was left out (say, a duplicate id) still exists: its rows stay and
    # the audit reports it as lacking data.
    left_out = [p.filter(pl.col("sheet") == "batteries").get_column("battery_id")
                for p in excluded_parts]
    known = pl.concat([frames["batteries"].get_column("battery_id"), *left_out]).drop_nulls()
    for sheet in (COMPONENTS, MINERAL_LINES, COSTS, VALUE_ADDED):
        frame = frames[sheet.name]
        orphan = frame.filter(~pl.col("battery_id").is_in(known.implode()))
        for row, battery in orphan.select(ROW, "battery_id").iter_rows():
            out.append(Finding.make(
                F.UNKNOWN_BATTERY, f"battery_id '{battery}' is not in the batteries sheet; the "
                "row is left out", sheet=names.get(sheet.name, sheet.name), row=row,
                column="battery_id", letter=letters.get(sheet.name, {}).get("battery_id"),
                value=battery))
        frames[sheet.name] = frame.filter(pl.col("battery_id").is_in(known.implode()))

    _check_entity_references(frames, names, letters, out)
    _check_recycling(frames["minerals"], names, letters, out)

    excluded = pl.concat(excluded_parts) if excluded_parts else _empty_excluded()
    for stat in stats:
        frame = frames.get(stat.sheet)
        raw = raws.get(stat.sheet)
        if raw is not None and frame is not None:
            stat.data_rows = raw.frame.height
            stat.used_rows = frame.height
            stat.excluded_rows = stat.data_rows - stat.used_rows
    return Bom(
        batteries=frames["batteries"], components=frames["components"],
        minerals=frames["minerals"], entities=frames["entities"], costs=frames["costs"],
        ownership=frames["ownership"], value_added=frames["value_added"], findings=out,
        excluded=excluded, letters=letters, sheet_names=names, stats=stats, source=source)


def _drop_unusable(
    spec: Sheet, raw: RawSheet, typed: pl.DataFrame, out: list[Finding]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Leave out rows without a key value or with a duplicate key; null out invalid values."""
    rows_out: set[int] = set()
    for col in spec.columns:
        if not col.nonblank:
            continue
        missing = typed.filter(pl.col(col.name).is_null()).get_column(ROW).to_list()
        for row in missing:
            out.append(Finding.make(
                F.MISSING_VALUE, f"{col.name} is empty; the row cannot be used without it",
                sheet=raw.actual_name, row=row, column=col.name,
                letter=raw.letters.get(col.name)))
        rows_out.update(missing)
    keyed = typed.filter(~pl.col(ROW).is_in(list(rows_out)))
    rows_out |= check_frame(spec, raw.actual_name, keyed, raw.letters, out)
    # Values that failed a range check are unknown, not zero.
    fixes = []
    for col in spec.columns:
        if col.kind in (Kind.MONEY, Kind.MASS, Kind.NUMBER):
            fixes.append(pl.when(pl.col(col.name) < 0).then(None).otherwise(pl.col(col.name))
                         .alias(col.name))
        elif col.kind is Kind.PERCENT:
            fixes.append(pl.when((pl.col(col.name) < 0) | (pl.col(col.name) > 100)).then(None)
                         .otherwise(pl.col(col.name)).alias(col.name))
    if fixes:
        typed = typed.with_columns(fixes)
    mask = pl.col(ROW).is_in(list(rows_out))
    battery = pl.col("battery_id") if "battery_id" in typed.columns else pl.lit(None, pl.String)
    dropped = typed.filter(mask).select(
        pl.lit(spec.name).alias("sheet"), pl.col(ROW).cast(pl.Int64).alias("row"),
        battery.alias("battery_id"), pl.lit("unusable-row").alias("code"))
    return typed.filter(~mask), dropped


def _check_entity_references(
    frames: dict[str, pl.DataFrame], names: dict[str, str], letters: dict[str, dict[str, str]],
    out: list[Finding],
) -> None:
    known = frames["entities"].get_column("entity_id").implode()
    refs = ((COMPONENTS, ("manufacturer",)),
            (MINERAL_LINES, ("extraction_entity", "processing_entity", "recycling_entity")),
            (COSTS, ("supplier",)), (BATTERIES, ("taxpayer",)),
            (OWNERSHIP, ("owner_id", "owned_id")))
    for sheet, columns in refs:
        frame = frames[sheet.name]
        for column in columns:
            unknown = frame.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(known))
            for row, value in unknown.select(ROW, column).iter_rows():
                out.append(Finding.make(
                    F.UNKNOWN_ENTITY,
                    f"{column} '{value}' is not in the entities sheet; its foreign-entity status "
                    "is unknown", sheet=names.get(sheet.name, sheet.name), row=row,
                    column=column, letter=letters.get(sheet.name, {}).get(column), value=value))


def _check_recycling(
    frame: pl.DataFrame, names: dict[str, str], letters: dict[str, dict[str, str]],
    out: list[Finding],
) -> None:
    odd = frame.filter(
        (pl.col("recycled") == False)  # noqa: E712 - polars expression, not a Python bool
        & (pl.col("recycling_country").is_not_null() | pl.col("recycling_entity").is_not_null()))
    for (row,) in odd.select(ROW).iter_rows():
        out.append(Finding.make(
            F.INCONSISTENT_RECYCLING,
            "recycling_country or recycling_entity is filled but recycled is not true; the "
            "recycling step is ignored", sheet=names.get("minerals", "minerals"), row=row,
            column="recycled", letter=letters.get("minerals", {}).get("recycled")))


def _empty_typed(spec: Sheet) -> pl.DataFrame:
    dtypes = {Kind.MONEY: pl.Decimal(38, 6), Kind.MASS: pl.Decimal(38, 6),
              Kind.NUMBER: pl.Decimal(38, 6),
              Kind.PERCENT: pl.Decimal(38, 6), Kind.DATE: pl.Date, Kind.BOOL: pl.Boolean,
              Kind.LIST: pl.List(pl.String)}
    schema: dict[str, Any] = {ROW: pl.Int64}
    for col in spec.columns:
        schema[col.name] = dtypes.get(col.kind, pl.String)
    return pl.DataFrame(schema=schema)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


__all__ = ["BATTERIES", "COMPONENTS", "ENTITIES", "MINERAL_LINES", "Bom", "read_bom"]

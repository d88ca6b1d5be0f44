"""Cell changes for what-if runs: ``LINE.FIELD=VALUE`` and the ``scenarios`` sheet.

A change names a row (a ``line_id``, ``component_id``, ``entity_id`` or ``battery_id``, written
``BATTERY/LINE`` when a line id is used by several batteries) and a contract column. The value
is read exactly as a workbook cell would be: it goes through the reader's own conversion
(``Bom.from_records``), so "Japan" becomes JP, "$1,200" becomes 1200 and "yes" becomes true, and a
value the reader would refuse is refused here with the reader's message.

Changes are applied to the typed frames of an already-read :class:`Bom`; rows keep their Excel
row numbers, and findings about a changed cell are dropped (the cell now holds the new value).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import polars as pl

from compliance import findings as F
from compliance.contract import SHEETS, SHEETS_BY_NAME, normalise_header
from compliance.errors import ComplianceError
from compliance.explain.model import CellChange
from compliance.findings import Severity
from compliance.reader.bom import Bom
from compliance.reader.sheets import ROW

SCENARIO_SHEET = "scenarios"
SCENARIO_COLUMNS = ("scenario", "battery_id", "item_id", "field", "value")


class ChangeError(ComplianceError):
    """A change that cannot be applied: unknown field, no such row, ambiguous id, bad value."""

    code = "invalid-change"


@dataclasses.dataclass(frozen=True, slots=True)
class ChangeRequest:
    """A change as written by a person, before it is matched to a row."""

    target: str  # LINE or BATTERY/LINE (generally FIRST-KEY/LAST-KEY, e.g. OWNER/OWNED)
    field: str
    value: str
    battery: str | None = None  # the scenarios sheet's battery_id column
    origin: str = ""  # where it was written, for messages


@dataclasses.dataclass(frozen=True, slots=True)
class ResolvedChange:
    sheet: str  # contract sheet name
    row: int  # Excel row
    battery_id: str | None
    item_id: str
    column: str
    value: Any  # typed as the frame's column
    text: str
    origin: str = ""


def parse_set(text: str) -> ChangeRequest:
    """Split ``LINE.FIELD=VALUE``; the line id may contain dots, the field cannot."""
    left, eq, value = text.partition("=")
    target, dot, field = left.rpartition(".")
    if not eq or not dot or not target.strip() or not field.strip():
        raise ChangeError(f"'{text}' is not LINE.FIELD=VALUE (e.g. M-02.processing_country=AU)",
                          where="--set")
    return ChangeRequest(target.strip(), field.strip(), value, origin=f"--set {text}")


def _field_sheets(field: str, *, where: str | None = None) -> tuple[str, list[str]]:
    """The canonical column name and the sheets that have it as a changeable column.

    A row is named by its sheet's key, so a sheet without one (``value_added``: several rows
    per mineral line, none unique) has no row a change could name; its columns are left out,
    and a column only such sheets have is refused with a message saying so.
    """
    wanted = normalise_header(field)
    sheets: list[str] = []
    keyless: list[str] = []
    canonical = None
    keys = {k for spec in SHEETS for k in spec.key}
    for spec in SHEETS:
        for col in spec.columns:
            if normalise_header(col.name) == wanted:
                canonical = col.name
                if col.name in keys:
                    continue
                (sheets if spec.key else keyless).append(spec.name)
    if canonical is None:
        raise ChangeError(f"'{field}' is not a column of the workbook contract", where=where)
    if not sheets and keyless:
        raise ChangeError(f"'{canonical}' is a column of the {' and '.join(keyless)} sheet, "
                          "whose rows have no identifier a change could name; edit the "
                          "workbook instead", where=where)
    if not sheets:
        raise ChangeError(f"'{canonical}' is an identifier; change the other columns of a row, "
                          "not its key", where=where)
    return canonical, sheets


def _item_column(sheet: str) -> str:
    return SHEETS_BY_NAME[sheet].key[-1]


def resolve(bom: Bom, request: ChangeRequest) -> ResolvedChange:
    """Find the one row a change names and read its value as a cell."""
    column, sheets = _field_sheets(request.field, where=request.origin or None)
    matches: list[tuple[str, int, str | None, str]] = []
    for sheet in sheets:
        matches += _matches(bom, sheet, request.target, request.battery)
    if not matches and "/" in request.target and request.battery is None:
        for i, ch in enumerate(request.target):
            if ch != "/":
                continue
            battery, item = request.target[:i], request.target[i + 1:]
            for sheet in sheets:
                matches += _matches(bom, sheet, item, battery)
    where = request.origin or None
    if not matches:
        places = " or ".join(f"{_item_column(s)} in {bom.display_sheet(s)}" for s in sheets)
        scope = f" of battery {request.battery}" if request.battery else ""
        raise ChangeError(f"no row{scope} has {places} '{request.target}' (rows that could not "
                          "be read cannot be changed)", where=where)
    if len(matches) > 1:
        listed = ", ".join(f"{b + '/' if b else ''}{i} ({bom.display_sheet(s)} row {r})"
                           for s, r, b, i in matches[:5])
        raise ChangeError(f"'{request.target}' names {len(matches)} rows ({listed}); write "
                          "BATTERY/LINE to choose one", where=where)
    sheet, row, battery, item = matches[0]
    value = read_cell(sheet, column, request.value, where=where)
    return ResolvedChange(sheet, row, battery, item, column, value, request.value, request.origin)


def _matches(bom: Bom, sheet: str, item: str, qualifier: str | None
             ) -> list[tuple[str, int, str | None, str]]:
    """Rows of ``sheet`` whose last key column is ``item`` (and first is ``qualifier``).

    The qualifier is the first key column of a two-part key: the battery for components and
    mineral lines, the owner for a holding. One-part keys (batteries, entities) ignore it:
    entities are shared by every battery.
    """
    frame = bom.frame(sheet)
    spec = SHEETS_BY_NAME[sheet]
    key = spec.key[-1]
    outer = spec.key[0] if len(spec.key) > 1 else None
    cond = pl.col(key) == item
    if qualifier is not None and outer is not None:
        cond = cond & (pl.col(outer) == qualifier)
    cols = list(dict.fromkeys([ROW, key, *([outer] if outer else [])]))
    out = []
    for rec in frame.filter(cond).select(cols).iter_rows(named=True):
        out.append((sheet, rec[ROW], rec.get(outer) if outer else None, rec[key]))
    return out


def read_cell(sheet: str, column: str, text: str, *, where: str | None = None) -> Any:
    """``text`` converted exactly as the reader converts a cell of ``sheet``.``column``."""
    value, problem = read_cells(sheet, column, (text,))[0]
    if problem is not None:
        raise ChangeError(f"{column} '{text}' cannot be used: {problem}", where=where)
    return value


def read_cells(sheet: str, column: str, texts: Sequence[str]
               ) -> list[tuple[Any, str | None]]:
    """Several cells of one column read at once: (typed value, reader's error or None) each.

    One pass of the reader per call (it validates whole frames), memoised per text, because
    the gap analysis reads the same few representative values again and again.
    """
    missing = tuple(dict.fromkeys(t for t in texts if (sheet, column, t) not in _CELL_CACHE))
    if missing:
        for text, result in zip(missing, _read_uncached(sheet, column, missing), strict=True):
            _CELL_CACHE[(sheet, column, text)] = result
    return [_CELL_CACHE[(sheet, column, t)] for t in texts]


_CELL_CACHE: dict[tuple[str, str, str], tuple[Any, str | None]] = {}
_REFERENCE_CODES = frozenset({F.UNKNOWN_ENTITY, F.UNKNOWN_BATTERY})


def _read_uncached(sheet: str, column: str, texts: Sequence[str]
                   ) -> list[tuple[Any, str | None]]:
    spec = SHEETS_BY_NAME[sheet]
    rows = []
    for i, text in enumerate(texts):
        # Unique keys per probe row; rows of other sheets point at the one probe battery.
        record: dict[str, Any] = {k: "B" if k == "battery_id" and sheet != "batteries"
                                  else f"K{i}" for k in spec.key}
        record[column] = text
        rows.append(record)
    records: dict[str, list[dict[str, Any]]] = {"batteries": [{"battery_id": "B"}]}
    records[sheet] = rows
    probe = Bom.from_records(**records)  # type: ignore[arg-type]
    errors: dict[int, str] = {}
    for f in probe.findings:
        if f.code in _REFERENCE_CODES:
            continue  # references are checked against the real BOM by the engine, not here
        if f.column == column and f.severity is Severity.ERROR and f.row is not None:
            errors.setdefault(f.row, f.message)
    frame = probe.frame(sheet)
    values = dict(zip(frame.get_column(ROW).to_list(), frame.get_column(column), strict=True))
    out: list[tuple[Any, str | None]] = []
    for i in range(len(texts)):
        row = i + 2  # from_records numbers data rows from 2, under a header on row 1
        if row in errors:
            out.append((None, errors[row]))
        elif row not in values:
            out.append((None, "the reader left the row out"))
        else:
            out.append((values[row], None))
    return out


def as_text(value: Any) -> str | None:
    """A typed cell value written back as text (dates ISO, decimals without trailing zeros)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, pl.Series):
        value = value.to_list()
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def apply(bom: Bom, changes: Sequence[ResolvedChange]) -> tuple[Bom, list[CellChange]]:
    """A copy of ``bom`` with the changes made, and a record of each (value before/after)."""
    frames = {spec.name: bom.frame(spec.name) for spec in SHEETS}
    records: list[CellChange] = []
    touched: set[tuple[str, int, str]] = set()
    for ch in changes:
        frame = frames[ch.sheet]
        mask = pl.col(ROW) == ch.row
        before = frame.filter(mask).get_column(ch.column)
        old = before[0] if before.len() else None
        dtype = frame.schema[ch.column]
        frames[ch.sheet] = frame.with_columns(
            pl.when(mask).then(_literal(ch.value, dtype)).otherwise(pl.col(ch.column))
            .alias(ch.column))
        touched.add((bom.display_sheet(ch.sheet), ch.row, ch.column))
        records.append(CellChange(sheet=bom.display_sheet(ch.sheet), row=ch.row,
                                  battery_id=ch.battery_id, item_id=ch.item_id, field=ch.column,
                                  value=ch.text, before=as_text(old), after=as_text(ch.value)))
    findings = [f for f in bom.findings if (f.sheet, f.row, f.column) not in touched]
    return dataclasses.replace(bom, findings=findings, **frames), records


def _literal(value: Any, dtype: pl.DataType) -> pl.Expr:
    """One cell's value as a literal of the column's type.

    A list cell (``restricted_lists``) is read as a Series of its items; ``pl.lit`` would take
    that for a column of several values, so it is wrapped as a single list value instead.
    """
    if isinstance(value, pl.Series | list):
        items = value.to_list() if isinstance(value, pl.Series) else value
        return pl.lit(pl.Series([items], dtype=dtype)).first()
    return pl.lit(value, dtype=dtype)


def add_entities(bom: Bom, entities: Iterable[Mapping[str, Any]]) -> Bom:
    """A copy of ``bom`` with entity rows added (as text records, read like cells).

    Used for "what if this unknown supplier were cleared / were a foreign entity of concern":
    the rows are numbered 0 so no report mistakes them for rows of the workbook. An entity id
    already in the sheet is replaced.
    """
    key = tuple(tuple(sorted((k, str(v)) for k, v in e.items())) for e in entities)
    if key not in _ENTITY_CACHE:
        extra = Bom.from_records(batteries=[], entities=[dict(e) for e in key]).entities
        _ENTITY_CACHE[key] = extra.with_columns(pl.lit(0, dtype=pl.Int64).alias(ROW))
    extra = _ENTITY_CACHE[key]
    ids = extra.get_column("entity_id").implode()
    kept = bom.entities.filter(~pl.col("entity_id").is_in(ids))
    extra = extra.select(kept.columns).cast(kept.schema)  # type: ignore[arg-type]
    return dataclasses.replace(bom, entities=pl.concat([kept, extra], how="vertical"))


_ENTITY_CACHE: dict[tuple[tuple[tuple[str, str], ...], ...], pl.DataFrame] = {}


def only_battery(bom: Bom, battery_id: str) -> Bom:
    """The BOM cut down to one battery (entities kept whole), for fast repeated audits."""
    def cut(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("battery_id") == battery_id)

    frames = {spec.name: cut(bom.frame(spec.name)) for spec in SHEETS
              if "battery_id" in spec.column_names}
    return dataclasses.replace(bom, excluded=cut(bom.excluded), findings=[], **frames)


def read_scenarios(data: bytes, *, name: str = "workbook") -> dict[str, list[ChangeRequest]]:
    """The ``scenarios`` sheet of a workbook: scenario name -> its changes, in sheet order.

    Columns (any order, headers matched like the contract's): scenario, battery_id, item_id,
    field, value. Cells are read as text, like every cell of the BOM. Raises ChangeError when
    the sheet is missing or a row is incomplete.
    """
    import fastexcel

    try:
        reader = fastexcel.read_excel(data)
    except Exception as exc:
        raise ChangeError(f"the workbook cannot be read ({exc})", where=name) from None
    sheet = next((s for s in reader.sheet_names
                  if normalise_header(s) == SCENARIO_SHEET), None)
    if sheet is None:
        raise ChangeError(f"there is no '{SCENARIO_SHEET}' sheet", where=name)
    grid = reader.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string").to_polars()
    header_at = None
    positions: dict[str, int] = {}
    for r, values in enumerate(grid.head(30).iter_rows()):
        found = {normalise_header(str(v)): i for i, v in enumerate(values) if v is not None}
        if "scenario" in found and "field" in found:
            header_at = r
            positions = {c: found[normalise_header(c)] for c in SCENARIO_COLUMNS
                         if normalise_header(c) in found}
            break
    if header_at is None:
        raise ChangeError(f"sheet '{sheet}' has no header row with "
                          f"{', '.join(SCENARIO_COLUMNS)}", where=name)
    missing = [c for c in SCENARIO_COLUMNS if c not in positions and c != "battery_id"]
    if missing:
        raise ChangeError(f"sheet '{sheet}' lacks column(s) {', '.join(missing)}", where=name)
    out: dict[str, list[ChangeRequest]] = {}
    for r, values in enumerate(grid.iter_rows()):
        if r <= header_at:
            continue
        cell = {c: (str(values[i]).strip() if values[i] is not None else "")
                for c, i in positions.items()}
        if not any(cell.values()):
            continue
        excel_row = r + 1
        origin = f"{sheet} row {excel_row}"
        if not cell["scenario"] or not cell["field"]:
            raise ChangeError("scenario and field must be filled", where=f"{name}: {origin}")
        target = cell["item_id"] or cell.get("battery_id", "")
        if not target:
            raise ChangeError("item_id (or battery_id for a battery's own columns) must be "
                              "filled", where=f"{name}: {origin}")
        battery = cell.get("battery_id") or None
        if not cell["item_id"]:
            battery = None  # the battery's own row: battery_id is the target itself
        raw_value = values[positions["value"]]
        out.setdefault(cell["scenario"], []).append(ChangeRequest(
            target, cell["field"], "" if raw_value is None else str(raw_value), battery,
            origin=f"{name}: {origin}"))
    if not out:
        raise ChangeError(f"sheet '{sheet}' holds no scenario rows", where=name)
    return out

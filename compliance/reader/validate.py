"""Frame-level checks with pandera, turned into findings located by Excel row.

The schemas are generated from the contract, so a new column kind gets its checks here once.
Checks run lazily (every failure collected) over the typed frames, which keep ``_row`` so a
failure's position maps back to the row a person sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from compliance import findings as F
from compliance.contract import SHEETS, Kind, Sheet
from compliance.findings import Finding
from compliance.reader.sheets import ROW

if TYPE_CHECKING:
    import pandera.polars as pa

_schemas: dict[str, pa.DataFrameSchema] = {}


def prepare() -> None:
    """Import pandera (about 0.2 s) and build the schemas now. :func:`read_bom` calls this
    while the cell reader loads the sheets, when the main thread would otherwise wait, so the
    import is not on the audit's critical path."""
    for sheet in SHEETS:
        schema_for(sheet)


def schema_for(sheet: Sheet) -> pa.DataFrameSchema:
    import pandera.polars as pa

    if sheet.name not in _schemas:
        columns: dict[str, pa.Column] = {}
        for col in sheet.columns:
            checks = []
            if col.kind in (Kind.MONEY, Kind.MASS, Kind.NUMBER):
                checks.append(pa.Check.ge(0, error=F.NEGATIVE_VALUE))
            elif col.kind is Kind.PERCENT:
                checks.append(pa.Check.in_range(0, 100, error=F.INVALID_PERCENT))
            columns[col.name] = pa.Column(checks=checks, nullable=True, required=True)
        _schemas[sheet.name] = pa.DataFrameSchema(
            columns, unique=list(sheet.key) or None, strict=False,
            name=sheet.name)
    return _schemas[sheet.name]


def check_frame(
    sheet: Sheet, actual_name: str, frame: pl.DataFrame, letters: dict[str, str],
    out: list[Finding],
) -> set[int]:
    """Validate ``frame``; append findings and return the Excel rows that must be left out."""
    from pandera.errors import SchemaErrors

    excluded: set[int] = set()
    try:
        schema_for(sheet).validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        rows = frame.get_column(ROW)
        for column, check, index, value in cases.select(
                "column", "check", "index", "failure_case").iter_rows():
            if index is None:
                continue
            row = int(rows[int(index)])
            if "uniqueness" in (check or ""):
                key = ", ".join(sheet.key)
                excluded.add(row)
                out.append(Finding.make(
                    F.DUPLICATE_KEY,
                    f"{key} is not unique: another row has the same value; fix the identifier "
                    "so each row can be used", sheet=actual_name, row=row,
                    column=sheet.key[-1], letter=letters.get(sheet.key[-1])))
            elif check == F.NEGATIVE_VALUE:
                out.append(Finding.make(
                    F.NEGATIVE_VALUE, f"{column} is negative ({value}); values cannot be "
                    "negative", sheet=actual_name, row=row, column=column,
                    letter=letters.get(column), value=value))
            elif check == F.INVALID_PERCENT:
                out.append(Finding.make(
                    F.INVALID_PERCENT, f"{column} is {value}, outside 0-100", sheet=actual_name,
                    row=row, column=column, letter=letters.get(column), value=value))
    return excluded

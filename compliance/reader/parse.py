"""Turn a sheet's text cells into typed columns, reporting every cell that does not convert.

Conversion is vectorised over whole columns; only the cells that fail are visited one by one to
write their findings. A cell that cannot be read becomes null (unknown) and its finding says why;
the rules engine then treats the unknown as a data gap wherever it could change a verdict.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from compliance import findings as F
from compliance.contract import (
    CATEGORIES,
    CATEGORY_ALIASES,
    COMPONENT_TYPE_ALIASES,
    COMPONENT_TYPES,
    METHOD_ALIASES,
    METHODS,
    MINERAL_ALIASES,
    MINERALS,
    OTHER_MATERIALS,
    PRODUCT_ALIASES,
    PRODUCT_KINDS,
    STAGE_ALIASES,
    STAGES,
    Column,
    Kind,
)
from compliance.findings import Finding
from compliance.reader.sheets import ROW, RawSheet

DECIMAL = pl.Decimal(38, 6)

_TRUE = ("true", "yes", "y", "1", "x", "t", "wahr", "vrai")
_FALSE = ("false", "no", "n", "0", "f", "", "falsch", "faux")

# Thousands separators and currency marks people type into amount cells.
_CURRENCY = r"^(?:US\$|USD|\$)\s*|\s*(?:USD|US\$|\$)$"
_SPACES = r"[\s\u00a0\u2007\u202f']"


def parse_sheet(
    sheet: RawSheet,
    out: list[Finding],
    *,
    percent_cells: set[tuple[str, int]] | None = None,
    date1904: bool = False,
) -> pl.DataFrame:
    """Return ``sheet.frame`` with each contract column converted to its type."""
    exprs = []
    for col in sheet.spec.columns:
        text = pl.col(col.name).str.strip_chars()
        if col.default is not None:
            text = pl.when(text.is_null() | (text == "")).then(pl.lit(col.default)).otherwise(text)
        else:
            text = pl.when(text == "").then(None).otherwise(text)
        exprs.append(text.alias(col.name))
    frame = sheet.frame.with_columns(exprs)  # one pass, the columns in parallel
    cells = percent_cells or set()

    def convert(col: Column) -> tuple[pl.Series, list[Finding]]:
        """One column, converted on its own (with the row numbers its findings need)."""
        found: list[Finding] = []
        part = _CONVERTERS[col.kind](frame.select(ROW, col.name), col, sheet,
                                     sheet.letters.get(col.name), found, cells, date1904)
        return part.get_column(col.name), found

    # A column's conversion needs no other column, and polars releases the GIL while it
    # works, so the columns convert side by side; findings keep the contract's column order.
    typed = [c for c in sheet.spec.columns if c.kind in _CONVERTERS]
    with ThreadPoolExecutor(max_workers=min(len(typed), os.cpu_count() or 1) or 1,
                            thread_name_prefix="compliance-parse") as pool:
        results = list(pool.map(convert, typed))
    for _series, found in results:
        out.extend(found)
    return frame.with_columns(series for series, _found in results)


def _report(
    frame: pl.DataFrame,
    bad: pl.Expr,
    col: Column,
    sheet: RawSheet,
    letter: str | None,
    out: list[Finding],
    code: str,
    message: str,
    raw_name: str,
) -> None:
    """Append one finding per row where ``bad`` holds; ``message`` may use {value}."""
    rows = frame.filter(bad).select(ROW, raw_name)
    for row, value in rows.iter_rows():
        out.append(Finding.make(code, message.format(value=value, column=col.name),
                                sheet=sheet.actual_name, row=row, column=col.name, letter=letter,
                                value=value))


def _money(frame, col, sheet, letter, out, percent_cells, date1904):  # type: ignore[no-untyped-def]
    raw = f"__raw_{col.name}"
    frame = frame.with_columns(pl.col(col.name).alias(raw))
    frame = frame.with_columns(_to_decimal(frame.get_column(col.name)))
    bad = pl.col(raw).is_not_null() & pl.col(col.name).is_null()
    unit = {Kind.MONEY: "an amount in US dollars", Kind.MASS: "a mass in kilograms"}.get(
        col.kind, "a number")
    _report(frame, bad, col, sheet, letter, out, F.INVALID_NUMBER,
            "'{value}' in {column} is not a number; write " + unit + " such as 1234.56", raw)
    return frame.drop(raw)


def _to_decimal(text: pl.Series) -> pl.Series:
    """Text -> exact decimal; null where it is not a number.

    Cells Excel stored as numbers are plain digits and cast directly. Only when some cell does
    not cast is the column cleaned (:func:`_clean_number`): a string that casts as it stands has
    no separators or currency marks, so cleaning would not change it.
    """
    direct = text.cast(DECIMAL, strict=False)
    if not (direct.is_null() & text.is_not_null()).any():
        return direct
    return pl.select(_clean_number(pl.lit(text)).cast(DECIMAL, strict=False)
                     .alias(text.name)).to_series()


def _clean_number(text: pl.Expr) -> pl.Expr:
    """Normalise '$1,234.50', '1 234,5' and '1.234,5' to '1234.50' / '1234.5'."""
    t = text.str.replace_all(_CURRENCY, "").str.replace_all(_SPACES, "")
    european = t.str.contains(r"^-?\d{1,3}(?:\.\d{3})+,\d+$|^-?\d+,\d{1,2}$")
    us_thousands = t.str.contains(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
    return (
        pl.when(european).then(t.str.replace_all(r"\.", "").str.replace(",", "."))
        .when(us_thousands).then(t.str.replace_all(",", ""))
        .otherwise(t)
    )


def _percent(frame, col, sheet, letter, out, percent_cells, date1904):  # type: ignore[no-untyped-def]
    raw = f"__raw_{col.name}"
    frame = frame.with_columns(pl.col(col.name).alias(raw))
    text = pl.col(col.name)
    has_sign = text.str.contains(r"%\s*$")
    number = _clean_number(text.str.replace(r"\s*%\s*$", "")).cast(DECIMAL, strict=False)
    styled = pl.lit(False)
    if percent_cells and letter:
        rows = [r for (c, r) in percent_cells if c == letter]
        if rows:
            styled = pl.col(ROW).is_in(rows)
    frame = frame.with_columns(
        pl.when(styled & ~has_sign).then(number * 100).otherwise(number).cast(DECIMAL)
        .alias(col.name),
        styled.alias("__styled"),
    )
    bad = pl.col(raw).is_not_null() & pl.col(col.name).is_null()
    _report(frame, bad, col, sheet, letter, out, F.INVALID_PERCENT,
            "'{value}' in {column} is not a percentage; write a number from 0 to 100", raw)
    fraction = (~pl.col("__styled") & pl.col(col.name).is_not_null()
                & (pl.col(col.name) > 0) & (pl.col(col.name) < 1) & ~pl.col(raw).str.contains("%"))
    _report(frame, fraction, col, sheet, letter, out, F.PERCENT_SCALE,
            "{value} in {column} is read as {value} % (under one percent); if you meant a "
            "fraction of one, write it as 0-100 (e.g. 25) or format the cell as a percentage",
            raw)
    return frame.drop(raw, "__styled")


def _date(frame, col, sheet, letter, out, percent_cells, date1904):  # type: ignore[no-untyped-def]
    raw = f"__raw_{col.name}"
    frame = frame.with_columns(pl.col(col.name).alias(raw))
    text = pl.col(col.name)
    iso = text.str.extract(r"^(\d{4}-\d{2}-\d{2})(?:[ T]00:00:00(?:\.0+)?)?$", 1)
    parsed_iso = iso.str.to_date("%Y-%m-%d", strict=False)
    epoch = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)
    serial = text.str.extract(r"^(\d{1,7})(?:\.0+)?$", 1).cast(pl.Int64, strict=False)
    from_serial = pl.when((serial >= 1) & (serial <= 2958465)).then(
        pl.lit(epoch) + pl.duration(days=serial))
    frame = frame.with_columns(
        pl.coalesce(parsed_iso, from_serial.cast(pl.Date)).alias(col.name),
        serial.is_not_null().alias("__serial"),
    )
    bad = pl.col(raw).is_not_null() & pl.col(col.name).is_null()
    _report(frame, bad, col, sheet, letter, out, F.INVALID_DATE,
            "'{value}' in {column} is not a date; use a date cell or write YYYY-MM-DD", raw)
    serial_used = pl.col("__serial") & pl.col(col.name).is_not_null()
    _report(frame, serial_used, col, sheet, letter, out, F.NORMALISED_VALUE,
            "{value} in {column} is a plain number; read as an Excel date serial "
            + ("(1904 date system)" if date1904 else "(1900 date system)"), raw)
    return frame.drop(raw, "__serial")


def _bool(frame, col, sheet, letter, out, percent_cells, date1904):  # type: ignore[no-untyped-def]
    raw = f"__raw_{col.name}"
    low = pl.col(col.name).str.to_lowercase()
    frame = frame.with_columns(
        pl.col(col.name).alias(raw),
        pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False)
        .otherwise(None).cast(pl.Boolean).alias(col.name),
    )
    bad = pl.col(raw).is_not_null() & pl.col(col.name).is_null()
    _report(frame, bad, col, sheet, letter, out, F.INVALID_BOOLEAN,
            "'{value}' in {column} is not true or false", raw)
    return frame.drop(raw)


def _country(frame, col, sheet, letter, out, percent_cells, date1904):  # type: ignore[no-untyped-def]
    from compliance.countries import normalise_countries

    values = frame.get_column(col.name).drop_nulls().unique().to_list()
    matches = normalise_countries(values)
    codes = {k: m.code for k, m in matches.items()}
    raw = f"__raw_{col.name}"
    frame = frame.with_columns(
        pl.col(col.name).alias(raw),
        pl.col(col.name).replace_strict(codes, default=None, return_dtype=pl.String)
        .alias(col.name),
    )
    problems = {k: m for k, m in matches.items() if m.problem}
    renamed = {k for k, m in matches.items() if m.code and k != m.code}
    if problems or renamed:
        code_for = {"ambiguous": F.AMBIGUOUS_COUNTRY, "historic": F.HISTORIC_COUNTRY}
        subset = frame.filter(pl.col(raw).is_in(list(problems) + list(renamed)))
        for row, value in subset.select(ROW, raw).iter_rows():
            match = matches[value]
            if match.problem:
                out.append(Finding.make(
                    code_for.get(match.problem, F.UNKNOWN_COUNTRY),
                    f"{col.name}: {match.message}", sheet=sheet.actual_name, row=row,
                    column=col.name, letter=letter, value=value))
    if renamed:
        # One note per distinct spelling, not per cell: the reading is the same everywhere.
        for value in sorted(renamed):
            first = frame.filter(pl.col(raw) == value).get_column(ROW)[0]
            out.append(Finding.make(
                F.NORMALISED_VALUE, f"{col.name} '{value}' read as {codes[value]}",
                sheet=sheet.actual_name, row=first, column=col.name, letter=letter, value=value))
    return frame.drop(raw)


def _vocabulary(
    choices: Iterable[str], aliases: dict[str, str], code: str, noun: str
):  # type: ignore[no-untyped-def]
    allowed = set(choices)

    def convert(frame, col, sheet, letter, out, percent_cells, date1904):  # type: ignore[no-untyped-def]
        from compliance.contract import normalise_header

        raw = f"__raw_{col.name}"
        values = frame.get_column(col.name).drop_nulls().unique().to_list()
        mapping: dict[str, str | None] = {}
        for value in values:
            folded = normalise_header(value).replace("-", " ") if "-" in value else (
                normalise_header(value))
            folded = aliases.get(folded, aliases.get(normalise_header(value), folded))
            mapping[value] = folded if folded in allowed else None
        frame = frame.with_columns(
            pl.col(col.name).alias(raw),
            pl.col(col.name).replace_strict(mapping, default=None, return_dtype=pl.String)
            .alias(col.name),
        )
        bad = pl.col(raw).is_not_null() & pl.col(col.name).is_null()
        _report(frame, bad, col, sheet, letter, out, code,
                "'{value}' is not " + noun, raw)
        return frame.drop(raw)

    return convert


def _list(frame, col, sheet, letter, out, percent_cells, date1904):  # type: ignore[no-untyped-def]
    parts = (pl.col(col.name).fill_null("").str.split(";")
             .list.eval(pl.element().str.strip_chars().str.to_uppercase())
             .list.eval(pl.element().filter(pl.element() != "")))
    return frame.with_columns(parts.alias(col.name))


# ID and TEXT columns keep their (stripped) text: they have no converter.
_CONVERTERS = {
    Kind.MONEY: _money,
    Kind.MASS: _money,
    Kind.NUMBER: _money,
    Kind.PERCENT: _percent,
    Kind.DATE: _date,
    Kind.BOOL: _bool,
    Kind.COUNTRY: _country,
    Kind.MINERAL: _vocabulary((*MINERALS, *OTHER_MATERIALS), MINERAL_ALIASES, F.UNKNOWN_MINERAL,
                              "an applicable critical mineral of IRC 45X(c)(6) (or lead or "
                              "copper)"),
    Kind.CATEGORY: _vocabulary(CATEGORIES, CATEGORY_ALIASES, F.UNKNOWN_CATEGORY,
                               "a battery category (" + ", ".join(CATEGORIES) + ")"),
    Kind.METHOD: _vocabulary(METHODS, METHOD_ALIASES, F.UNKNOWN_VALUE,
                             "a critical-minerals method (" + ", ".join(METHODS) + ")"),
    Kind.STAGE: _vocabulary(STAGES, STAGE_ALIASES, F.UNKNOWN_VALUE,
                            "a stage (" + ", ".join(STAGES) + ")"),
    Kind.PRODUCT: _vocabulary(PRODUCT_KINDS, PRODUCT_ALIASES, F.UNKNOWN_VALUE,
                              "a 45X product kind (" + ", ".join(PRODUCT_KINDS) + ")"),
    Kind.COMPONENT_TYPE: _vocabulary(
        COMPONENT_TYPES, COMPONENT_TYPE_ALIASES, F.UNKNOWN_COMPONENT_TYPE,
        "a battery component type (" + ", ".join(COMPONENT_TYPES) + ")"),
    Kind.LIST: _list,
}

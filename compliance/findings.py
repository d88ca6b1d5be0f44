"""Validation findings: what is wrong with an input, where, and what to do about it.

Modelled on frictionless: every kind of problem has a stable kebab-case code with a title and a
description, and each finding names the sheet, the Excel row number a person sees and the column.
Findings are data; exceptions are kept for "this file or ruleset cannot be used at all".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    ERROR = "error"  # the cell or row cannot be used as written
    WARNING = "warning"  # used, but a person should check it
    INFO = "info"  # how something was read, for the record


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    severity: Severity
    title: str
    description: str


_CODES: dict[str, Code] = {}


def _code(code: str, severity: Severity, title: str, description: str) -> str:
    _CODES[code] = Code(code, severity, title, description)
    return code


# File level: the workbook as a whole.
NOT_A_WORKBOOK = _code("not-a-workbook", Severity.ERROR, "Not an xlsx workbook",
                       "The file's content is not an Office Open XML spreadsheet.")
UNREADABLE_WORKBOOK = _code("unreadable-workbook", Severity.ERROR, "Workbook cannot be read",
                            "The workbook is damaged or uses a feature the reader cannot open.")
UNSAFE_WORKBOOK = _code("unsafe-workbook", Severity.ERROR, "Workbook refused",
                        "The workbook exceeds a safety limit or contains hostile content.")
MISSING_SHEET = _code("missing-sheet", Severity.ERROR, "Required sheet missing",
                      "A sheet the contract requires is not in the workbook.")
HEADER_NOT_FOUND = _code("header-not-found", Severity.ERROR, "Header row not found",
                         "No row near the top of the sheet holds the expected column names.")
MISSING_COLUMN = _code("missing-column", Severity.ERROR, "Required column missing",
                       "A column the contract requires is not in the header row.")
OPTIONAL_COLUMN_ABSENT = _code("optional-column-absent", Severity.INFO, "Optional column absent",
                               "An optional column is absent; its cells are read as empty.")
DUPLICATE_COLUMN = _code("duplicate-column", Severity.ERROR, "Column appears twice",
                         "Two header cells name the same column; neither is used.")
UNKNOWN_COLUMN = _code("unknown-column", Severity.INFO, "Column not in the contract",
                       "A column the contract does not define is ignored.")
BLANK_HEADER = _code("blank-header", Severity.WARNING, "Data under a blank header",
                     "A column without a header holds values; they are ignored.")
IGNORED_ROWS = _code("ignored-rows", Severity.INFO, "Rows above the header ignored",
                     "Rows above the header row (titles, notes) are not data.")
UNKNOWN_SHEET = _code("unknown-sheet", Severity.INFO, "Sheet not in the contract",
                      "A sheet the contract does not define is ignored.")

# Cell level.
MISSING_VALUE = _code("missing-value", Severity.ERROR, "Required value missing",
                      "The row cannot be used without this value; it is left out.")
INVALID_NUMBER = _code("invalid-number", Severity.ERROR, "Not a number",
                       "The cell should hold a number.")
NEGATIVE_VALUE = _code("negative-value", Severity.ERROR, "Negative amount",
                       "Values and masses cannot be negative.")
INVALID_PERCENT = _code("invalid-percent", Severity.ERROR, "Not a percentage",
                        "A percentage is a number from 0 to 100 or a percent-formatted cell.")
PERCENT_SCALE = _code("percent-scale", Severity.WARNING, "Percentage may be a fraction",
                      "A plain number between 0 and 1 is read as that many percent.")
INVALID_DATE = _code("invalid-date", Severity.ERROR, "Not a date",
                     "The cell should hold a date (a date cell or YYYY-MM-DD).")
INVALID_BOOLEAN = _code("invalid-boolean", Severity.ERROR, "Not true or false",
                        "The cell should hold true/false (also yes/no, y/n, 1/0).")
UNKNOWN_COUNTRY = _code("unknown-country", Severity.ERROR, "Country not recognised",
                        "Write an ISO 3166-1 alpha-2 code or an unambiguous English name.")
AMBIGUOUS_COUNTRY = _code("ambiguous-country", Severity.ERROR, "Country name is ambiguous",
                          "The name matches several countries; write the ISO code.")
HISTORIC_COUNTRY = _code("historic-country", Severity.ERROR, "Country no longer exists",
                         "Write the present-day country's ISO code.")
UNKNOWN_MINERAL = _code("unknown-mineral", Severity.ERROR, "Not an applicable critical mineral",
                        "The mineral is not on the IRC 45X(c)(6) list.")
UNKNOWN_COMPONENT_TYPE = _code("unknown-component-type", Severity.ERROR,
                               "Not a battery component type",
                               "Use one of the component types of 26 CFR 1.30D-2(b)(8).")
DUPLICATE_KEY = _code("duplicate-key", Severity.ERROR, "Duplicate identifier",
                      "Identifiers must be unique; every row sharing one is left out.")
UNKNOWN_BATTERY = _code("unknown-battery", Severity.ERROR, "Battery not in batteries sheet",
                        "The row names a battery_id the batteries sheet does not have.")
UNKNOWN_ENTITY = _code("unknown-entity", Severity.ERROR, "Entity not in entities sheet",
                       "The row names an entity_id the entities sheet does not have.")
NORMALISED_VALUE = _code("normalised-value", Severity.INFO, "Value read in a normal form",
                         "A name was read as the code or spelling the rules use.")
FORMULA_WITHOUT_VALUE = _code("formula-without-value", Severity.ERROR,
                              "Formula without a saved result",
                              "The cell holds a formula whose result was never saved; open and "
                              "save the file in Excel, or type the value.")
ERROR_CELL = _code("error-cell", Severity.ERROR, "Excel error value",
                   "The cell holds an Excel error such as #N/A or #REF!.")
INCONSISTENT_RECYCLING = _code("inconsistent-recycling", Severity.WARNING,
                               "Recycling fields disagree",
                               "recycling_country or recycling_entity is set but recycled is "
                               "not true (or the reverse).")
ROW_ORDER = _code("row-order", Severity.WARNING, "Rows out of order in the file",
                  "The sheet's XML lists rows out of order or repeats a row number.")
MISSING_DATE = _code("missing-date", Severity.ERROR, "Date needed by a rule is missing",
                     "The battery lacks the date that selects the rule values.")


UNKNOWN_CATEGORY = _code("unknown-category", Severity.ERROR, "Not a battery category",
                         "Use one of the battery categories of Regulation (EU) 2023/1542.")

# Reader hardening: workbook features that change what a person sees from what is read.
MACRO_WORKBOOK = _code("macro-workbook", Severity.WARNING, "Workbook contains macros",
                       "The workbook holds VBA macros; they are never run, and cells are read "
                       "as last saved.")
HIDDEN_CONTENT = _code("hidden-content", Severity.WARNING, "Hidden data is read",
                       "A hidden sheet, row or column holds data; it is read like any other.")
STRUCK_THROUGH = _code("struck-through", Severity.WARNING, "Struck-through row is read",
                       "Strikethrough is formatting, not deletion: the row is read as data. "
                       "Delete rows that no longer apply.")
MERGED_CELLS = _code("merged-cells", Severity.WARNING, "Merged cells",
                     "Only the first cell of a merged range holds its value; the others are "
                     "read as empty.")
DUPLICATE_CELL = _code("duplicate-cell", Severity.ERROR, "Cell stored twice",
                       "The sheet's XML holds the same cell twice; which copy is meant is "
                       "unknown, so the row's values are read as unknown.")
STALE_FORMULA = _code("stale-formula", Severity.WARNING, "Formula results may be out of date",
                      "The workbook asks Excel to recalculate when opened, so the saved "
                      "formula results that are read may be stale.")
TOTAL_ROW = _code("total-row", Severity.WARNING, "Total row not read as data",
                  "A row labelled total or sum is a summary, not a line; it is left out.")
NOTE_ROW = _code("note-row", Severity.WARNING, "Note below the data not read",
                 "A row holding only a note under the data is not a line; it is left out.")
CONTROL_CHARACTER = _code("control-character", Severity.WARNING, "Invisible control character",
                          "The cell holds control characters; they are removed before reading.")
TEXT_TOO_LONG = _code("text-too-long", Severity.ERROR, "Cell text too long",
                      "The cell holds more characters than Excel allows in one cell; it is "
                      "read as unknown.")


UNKNOWN_VALUE = _code("unknown-value", Severity.ERROR, "Not one of the allowed values",
                      "The cell must hold one of the values the column lists.")


def code_info(code: str) -> Code:
    return _CODES[code]


def all_codes() -> tuple[Code, ...]:
    return tuple(_CODES.values())


class Finding(BaseModel):
    """One problem (or note) about the input, located as a person would find it in Excel."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message: str
    sheet: str | None = None
    row: int | None = None  # Excel row number, 1-based, as shown in Excel
    column: str | None = None  # canonical column name
    cell: str | None = None  # Excel reference such as "D7", when known
    value: str | None = None  # the offending cell text, truncated

    @classmethod
    def make(
        cls,
        code: str,
        message: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        letter: str | None = None,
        value: object = None,
        severity: Severity | None = None,
    ) -> Finding:
        cell = f"{letter}{row}" if letter and row else None
        text = None if value is None else _clip(str(value))
        return cls(code=code, severity=severity or _CODES[code].severity, message=message,
                   sheet=sheet, row=row, column=column, cell=cell, value=text)

    def location(self) -> str:
        parts = [p for p in (self.sheet, self.cell or (f"row {self.row}" if self.row else None),
                             self.column) if p]
        return " ".join(parts) if parts else "workbook"


def _clip(text: str, limit: int = 120) -> str:
    cleaned = "".join(ch if ch.isprintable() else "\ufffd" for ch in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "\u2026"


def column_index(letters: str) -> int:
    """Excel column letters -> 1-based index (A -> 1, XFD -> 16384)."""
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters

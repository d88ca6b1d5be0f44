"""Write the blank BOM workbook (``compliance template``) that an analyst fills in.

Everything in the template is generated from :mod:`compliance.contract`, the same description
the reader uses to find and type columns: the sheets and their order, the header names, the
header comments, the dropdowns, the number formats and the instructions sheet. A column added to,
renamed in or documented differently in the contract therefore shows up in the next template,
and the template can never ask for something the reader does not read.

Choices worth knowing:

* Dropdowns (country, mineral, component type, battery category, true/false) are
  *warning*-style validations: the reader also accepts English country names ("Japan"), mineral
  spellings ("aluminium"), aliases ("cell") and "yes"/"no", so Excel warns but does not refuse
  them. Blanks are allowed.
* The dropdown values live on a hidden ``lists`` sheet and are referenced by range: the country
  list is far longer than the 255 characters Excel allows for an inline list. ``instructions`` and
  ``lists`` are in :data:`~compliance.contract.TEMPLATE_SHEETS`, so the reader ignores them.
* Formats are set per column (not per cell), so the blank template holds no empty styled rows.
  Identifier and other text columns are formatted as text so "00123" keeps its zeros.
* The output is byte-for-byte deterministic: fixed document dates and fixed zip timestamps,
  so a regenerated template diffs cleanly.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from compliance.contract import (
    CATEGORIES,
    COMPONENT_TYPES,
    METHODS,
    MINERALS,
    PRODUCT_KINDS,
    SHEETS,
    STAGES,
    TEMPLATE_SHEETS,
    Column,
    Kind,
    Sheet,
)
from compliance.version import __version__

__all__ = ["LAST_ROW", "build_template", "write_template"]

# Dropdowns and column formats reach this row; a BOM longer than this is still read in full.
LAST_ROW = 10_000

# Fixed document dates (and zip member times) so that two runs write identical files.
FIXED_TIME = dt.datetime(2024, 1, 1, 0, 0, 0)

INSTRUCTIONS, LISTS = TEMPLATE_SHEETS

TEXT_FORMAT = "@"
NUMBER_FORMATS: dict[Kind, str] = {
    Kind.DATE: "yyyy-mm-dd",
    Kind.MONEY: "#,##0.00",
    Kind.MASS: "#,##0.0##",
    Kind.NUMBER: "#,##0.0##",
    Kind.PERCENT: "0.00",
    Kind.ID: TEXT_FORMAT,
    Kind.TEXT: TEXT_FORMAT,
    Kind.LIST: TEXT_FORMAT,
    Kind.COUNTRY: TEXT_FORMAT,
    Kind.MINERAL: TEXT_FORMAT,
    Kind.COMPONENT_TYPE: TEXT_FORMAT,
    Kind.BOOL: TEXT_FORMAT,
    Kind.CATEGORY: TEXT_FORMAT,
    Kind.METHOD: TEXT_FORMAT,
    Kind.STAGE: TEXT_FORMAT,
    Kind.PRODUCT: TEXT_FORMAT,
}

# How each kind is described in the instructions table.
KIND_LABELS: dict[Kind, str] = {
    Kind.ID: "identifier (text)",
    Kind.TEXT: "text",
    Kind.DATE: "date (YYYY-MM-DD)",
    Kind.MONEY: "amount, USD",
    Kind.MASS: "mass, kg, >= 0",
    Kind.NUMBER: "number, >= 0",
    Kind.PERCENT: "percent, 0-100",
    Kind.BOOL: "true / false",
    Kind.COUNTRY: "country (ISO code)",
    Kind.MINERAL: "mineral (list)",
    Kind.COMPONENT_TYPE: "component type (list)",
    Kind.LIST: "';'-separated list",
    Kind.CATEGORY: "battery category (list)",
    Kind.METHOD: "30D minerals method (list)",
    Kind.STAGE: "stage (list)",
    Kind.PRODUCT: "45X product kind (list)",
}

BOOLEANS: tuple[str, ...] = ("true", "false")

# Kinds that get a dropdown, and how the instructions name their lists.
_VOCABULARY_KINDS: dict[Kind, str] = {
    Kind.COUNTRY: "countries",
    Kind.MINERAL: "minerals",
    Kind.COMPONENT_TYPE: "component types",
    Kind.CATEGORY: "battery categories",
    Kind.METHOD: "methods",
    Kind.STAGE: "stages",
    Kind.PRODUCT: "product kinds",
    Kind.BOOL: "true/false",
}

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_FORMULA_LEADS = ("=", "+", "-", "@")


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def build_template() -> Workbook:
    """Return the blank BOM workbook: instructions, one sheet per contract sheet, hidden lists."""
    from compliance.countries import COUNTRY_CODES, country_name

    wb = Workbook()
    instructions = wb.worksheets[0]
    instructions.title = INSTRUCTIONS

    lists = _ListsSheet(wb.create_sheet(LISTS))
    countries = lists.add("country_code", COUNTRY_CODES)
    lists.add("country_name", [country_name(code) for code in COUNTRY_CODES])
    minerals = lists.add("mineral", MINERALS)
    component_types = lists.add("component_type", COMPONENT_TYPES)
    categories = lists.add("category", CATEGORIES)
    methods = lists.add("minerals_method", METHODS)
    stages = lists.add("stage", STAGES)
    products = lists.add("product_kind", PRODUCT_KINDS)
    booleans = lists.add("boolean", BOOLEANS)
    lists.ws.sheet_state = "hidden"

    sources = {
        Kind.COUNTRY: (countries, "Country: pick an ISO code from the list, or type an "
                       "unambiguous English name (e.g. Japan). \"Korea\" and \"Congo\" are "
                       "ambiguous: write KR/KP or CD/CG."),
        Kind.MINERAL: (minerals, "Mineral: pick an applicable critical mineral of IRC 45X(c)(6) "
                       "from the list (e.g. lithium, nickel, cobalt, graphite)."),
        Kind.COMPONENT_TYPE: (component_types, "Component type: one of "
                              + ", ".join(COMPONENT_TYPES) + "."),
        Kind.CATEGORY: (categories, "Battery category: one of " + ", ".join(CATEGORIES)
                        + "."),
        Kind.METHOD: (methods, "traced (default) or value_added_50 (the 50 % value-added "
                      "safe harbour)."),
        Kind.STAGE: (stages, "Stage: one of " + ", ".join(STAGES) + "."),
        Kind.PRODUCT: (products, "45X product: battery component or critical mineral."),
        Kind.BOOL: (booleans, "Write true or false."),
    }
    for spec in SHEETS:
        ws = wb.create_sheet(spec.name, index=len(wb.sheetnames) - 1)  # before 'lists'
        _data_sheet(ws, spec, sources)

    _instructions(instructions)
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == INSTRUCTIONS

    props = wb.properties
    props.creator = f"compliance {__version__}"
    props.lastModifiedBy = None
    props.title = "Battery BOM workbook"
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    return wb


def write_template(path: Path | str) -> None:
    """Write the blank BOM workbook to ``path`` (overwriting it), byte-for-byte reproducibly."""
    wb = build_template()
    raw = io.BytesIO()
    # ExcelWriter rather than wb.save(): save() stamps the current time into docProps/core.xml.
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    Path(path).write_bytes(_fixed_zip_times(raw.getvalue()))


# --------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------


class _ListsSheet:
    """The hidden sheet holding dropdown values, one list per column."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.columns = 0

    def add(self, header: str, values: Iterable[str]) -> str:
        """Write ``values`` under ``header`` in the next column; return their absolute range."""
        self.columns += 1
        col = self.columns
        letter = get_column_letter(col)
        head = self.ws.cell(row=1, column=col, value=header)
        head.font = _BOLD
        items = list(values)
        for row, value in enumerate(items, start=2):
            _text(self.ws.cell(row=row, column=col), value)
        self.ws.column_dimensions[letter].width = max(12, *(len(v) + 2 for v in items))
        self.ws.column_dimensions[letter].number_format = TEXT_FORMAT
        return f"{quote_sheetname(self.ws.title)}!${letter}$2:${letter}${len(items) + 1}"


def _data_sheet(ws: Worksheet, spec: Sheet,
                sources: dict[Kind, tuple[str, str]]) -> None:
    validations: dict[Kind, DataValidation] = {}
    for index, col in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index, value=col.name)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = _TOP
        cell.comment = _comment(col)

        dim = ws.column_dimensions[letter]
        dim.width = _width(col)
        fmt = NUMBER_FORMATS.get(col.kind)
        if fmt is not None:
            dim.number_format = fmt

        source = sources.get(col.kind)
        if source is not None:
            dv = validations.get(col.kind)
            if dv is None:
                dv = validations[col.kind] = _validation(col.kind, *source)
            dv.add(f"{letter}2:{letter}{LAST_ROW}")
    for dv in validations.values():
        ws.add_data_validation(dv)

    last = get_column_letter(len(spec.columns))
    ws.auto_filter.ref = f"A1:{last}1"
    ws.freeze_panes = "A2"


def _validation(kind: Kind, formula: str, message: str) -> DataValidation:
    # true/false fits an inline list (Excel allows 255 characters); the others are ranges.
    formula1 = '"' + ",".join(BOOLEANS) + '"' if kind is Kind.BOOL else formula
    return DataValidation(
        type="list", formula1=formula1, allow_blank=True, showDropDown=False,
        showErrorMessage=True, errorStyle="warning", errorTitle="Check this value",
        error=message + " Choose Yes to keep what you typed.")


def _comment(col: Column) -> Comment:
    parts = [col.description, "(required)" if col.required else "(optional)"]
    if col.nonblank:
        parts.append("Every row needs a value here.")
    if col.default:
        parts.append(f"Empty means {col.default}.")
    if col.example:
        parts.append(f"Example: {col.example}")
    text = "\n".join(parts)
    comment = Comment(text, f"compliance {__version__}")
    comment.width = 300
    comment.height = 40 + 16 * (len(text) // 40 + len(parts))
    return comment


def _width(col: Column) -> float:
    wanted = max(len(col.name) + 4, len(col.example) + 2, 12)  # +4: the filter button
    if col.kind is Kind.COMPONENT_TYPE:
        wanted = max(wanted, max(len(t) for t in COMPONENT_TYPES) + 4)
    if col.kind in (Kind.TEXT, Kind.LIST):
        wanted = max(wanted, 30)
    return float(min(wanted, 40))


def _instructions(ws: Worksheet) -> None:
    ws.column_dimensions["A"].width = 32
    ws.column_dimensions["B"].width = 10
    ws.column_dimensions["C"].width = 22
    ws.column_dimensions["D"].width = 90
    ws.column_dimensions["E"].width = 22

    title = ws.cell(row=1, column=1, value="Battery bill of materials - compliance workbook")
    title.font = Font(bold=True, size=14)
    _text(ws.cell(row=2, column=1),
          f"Template written by compliance {__version__} from its workbook contract. Check a "
          "filled copy with: compliance audit <file>.xlsx")
    row = 4
    ws.cell(row=row, column=1, value="How to fill it in").font = Font(bold=True, size=12)
    for line in _how_to():
        row += 1
        cell = ws.cell(row=row, column=1)
        _text(cell, line)
        cell.alignment = _WRAP
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
        # Excel does not fit the height of merged cells itself: about 150 characters a line.
        ws.row_dimensions[row].height = 15 * (len(line) // 150 + 1)

    for spec in SHEETS:
        row += 2
        heading = ws.cell(row=row, column=1, value=f"Sheet '{spec.name}'")
        heading.font = Font(bold=True, size=12)
        _text(ws.cell(row=row, column=4),
              spec.description + ("" if spec.required else " This sheet is optional."))
        row += 1
        for index, label in enumerate(("column", "required?", "kind", "description",
                                       "example"), start=1):
            cell = ws.cell(row=row, column=index, value=label)
            cell.font = _BOLD
            cell.fill = _HEADER_FILL
        for col in spec.columns:
            row += 1
            values = (col.name, "required" if col.required else "optional",
                      KIND_LABELS.get(col.kind, col.kind.value), _describe(col), col.example)
            for index, value in enumerate(values, start=1):
                cell = ws.cell(row=row, column=index)
                _text(cell, value)
                cell.alignment = _WRAP if index == 4 else _TOP


def _how_to() -> list[str]:
    needed = [s.name for s in SHEETS if s.required]
    optional = [s.name for s in SHEETS if not s.required]
    keys = "; ".join(" + ".join(s.key) + f" in '{s.name}'" for s in SHEETS if s.key)
    refs = [c.name for s in SHEETS for c in s.columns
            if c.kind is Kind.ID and "entity_id" in c.description]
    used = {c.kind for s in SHEETS for c in s.columns}
    lists = [noun for kind, noun in _VOCABULARY_KINDS.items() if kind in used]
    defaults = sorted({c.name for s in SHEETS for c in s.columns
                       if c.kind is Kind.BOOL and c.default == "false"})
    sheets = f"Sheets {', '.join(needed)} are needed"
    if optional:
        sheets += f"; {', '.join(optional)} are optional (fill what your rulesets use)"
    return [
        "1. One record per row; each sheet's table below says what a row is. Keep the header "
        f"rows as they are; hover over a header for its meaning. {sheets}.",
        "2. Identifiers are text, kept exactly as typed (\"00123\" stays \"00123\"). Unique: "
        f"{keys}. battery_id ties a row to its battery; {', '.join(refs)} name an entity_id "
        "of 'entities'.",
        "3. Countries: the two-letter ISO code (US, CN, AU; pick from the list) or an "
        "unambiguous English name such as Japan. \"Korea\" and \"Congo\" are ambiguous: write "
        "KR or KP, CD or CG.",
        f"4. Lists ({', '.join(lists)}): pick from the dropdown; Excel warns about other "
        "values, and the audit reports any it cannot read. An empty cell in "
        f"{_or(defaults)} means false.",
        "5. Percentages: write a number from 0 to 100 (25 means 25 %); cells formatted as a "
        "percentage (25%) are read too.",
        "6. Dates: a date cell or text YYYY-MM-DD (e.g. 2024-06-30). Amounts: plain numbers in "
        "US dollars (2400.00); masses in kilograms.",
        "7. Leave a cell empty when the value is unknown: the audit reports the gap where it "
        "can change a verdict and never guesses it.",
        "8. The 'instructions' and hidden 'lists' sheets (dropdown values) are ignored when the "
        "workbook is read; you may delete them.",
    ]


def _or(words: list[str]) -> str:
    return words[0] if len(words) < 2 else f"{', '.join(words[:-1])} or {words[-1]}"


def _describe(col: Column) -> str:
    text = col.description
    if col.nonblank:
        text += " Every row needs a value."
    if col.default:
        text += f" Empty means {col.default}."
    return text


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _text(cell: Cell, value: str) -> None:
    """Write ``value`` as a text cell, never as a formula (a leading "=" stays text)."""
    cell.value = value
    if value.startswith(_FORMULA_LEADS):
        cell.data_type = "s"
        cell.quotePrefix = True


def _fixed_zip_times(data: bytes) -> bytes:
    """Rewrite a zip with every member dated :data:`FIXED_TIME`, in the same order."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()

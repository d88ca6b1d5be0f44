"""What the fast cell reader cannot see: the workbook's parts, styles and cell-level oddities.

``fastexcel`` (calamine) loads cell values quickly but reads an Excel error cell or a formula
without a saved result as an empty cell, keeps the last of two duplicate rows without a word,
and does not expose number formats. Reading those silently would give wrong verdicts, so this
module opens the zip package itself and scans each sheet's XML as bytes, in bounded chunks:
cheap substring checks first, and regular expressions only over sheets that need them.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from defusedxml import ElementTree as SafeET

from compliance.errors import UnusableInputError
from compliance.reader.limits import Limits, check_archive

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"

# Built-in number formats that show a percentage (ECMA-376 18.8.30).
_BUILTIN_PERCENT = {9, 10}

_CHUNK = 8 << 20


@dataclass(frozen=True, slots=True)
class SheetPart:
    name: str
    path: str  # member name inside the zip
    state: str  # visible, hidden, veryHidden


@dataclass(slots=True)
class SheetScan:
    """Cell-level facts about one sheet that the value reader does not report."""

    error_cells: list[tuple[str, int, str]] = field(default_factory=list)  # (col, row, #ERR)
    formulas_without_value: list[tuple[str, int]] = field(default_factory=list)
    row_order_problems: list[tuple[int, int]] = field(default_factory=list)  # (prev, row)
    percent_cells: set[tuple[str, int]] = field(default_factory=set)


@dataclass(slots=True)
class Package:
    """An opened xlsx package: its sheets, date system and percent styles."""

    zf: zipfile.ZipFile
    sheets: list[SheetPart]
    date1904: bool
    percent_styles: frozenset[int]

    def sheet(self, name: str) -> SheetPart:
        for part in self.sheets:
            if part.name == name:
                return part
        raise KeyError(name)

    def iter_chunks(self, part: SheetPart) -> Iterator[bytes]:
        """Yield the sheet XML in chunks that each end after a complete ``</row>``."""
        with self.zf.open(part.path) as fh:
            carry = b""
            while True:
                block = fh.read(_CHUNK)
                if not block:
                    if carry:
                        yield carry
                    return
                data = carry + block
                cut = data.rfind(b"</row>")
                if cut < 0:
                    carry = data
                    continue
                cut += len(b"</row>")
                yield data[:cut]
                carry = data[cut:]

    def scan(self, part: SheetPart, *, want_percent: bool) -> SheetScan:
        scan = SheetScan()
        pct_attr = _percent_attr_pattern(self.percent_styles) if want_percent else None
        last_row = 0
        for chunk in self.iter_chunks(part):
            for match in _ROW_R.finditer(chunk):
                row = int(match.group(1))
                if row <= last_row:
                    scan.row_order_problems.append((last_row, row))
                last_row = max(last_row, row)
            if b't="e"' in chunk:
                for match in _ERROR_CELL.finditer(chunk):
                    ref = _REF.search(match.group(1))
                    if ref:
                        scan.error_cells.append((ref.group(1).decode(), int(ref.group(2)),
                                                 _xml_text(match.group(2))))
            if b"<f" in chunk:
                for match in _FORMULA_NO_VALUE.finditer(chunk):
                    attrs = match.group(1)
                    if b't="str"' in attrs and match.group(2):
                        continue  # a formula whose saved result is the empty string
                    ref = _REF.search(attrs)
                    if ref:
                        scan.formulas_without_value.append((ref.group(1).decode(),
                                                            int(ref.group(2))))
            if pct_attr is not None and pct_attr[0] in chunk:
                for match in _CELL_OPEN.finditer(chunk):
                    attrs = match.group(1)
                    style = _STYLE.search(attrs)
                    if style and int(style.group(1)) in self.percent_styles:
                        ref = _REF.search(attrs)
                        if ref:
                            scan.percent_cells.add((ref.group(1).decode(), int(ref.group(2))))
        return scan


_ROW_R = re.compile(rb"<row\b[^>]*?\br=\"(\d+)\"")
_CELL_OPEN = re.compile(rb"<c\b([^>]*?)/?>")
_REF = re.compile(rb"\br=\"([A-Z]{1,3})(\d+)\"")
_STYLE = re.compile(rb"\bs=\"(\d+)\"")
_ERROR_CELL = re.compile(rb"<c\b([^>]*\bt=\"e\"[^>]*)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?"
                         rb"<v>([^<]*)</v>")
_FORMULA_NO_VALUE = re.compile(rb"<c\b([^>]*)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)"
                               rb"(?:<v\s*/>|(<v>\s*</v>))?</c>")


def _percent_attr_pattern(styles: frozenset[int]) -> tuple[bytes] | None:
    if not styles:
        return None
    return (b's="',)


def _xml_text(raw: bytes) -> str:
    return (raw.decode("utf-8", "replace").replace("&lt;", "<").replace("&gt;", ">")
            .replace("&amp;", "&"))


def open_package(data: bytes, name: str, limits: Limits) -> Package:
    """Open the zip, check it against ``limits`` and read the workbook's structure."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UnusableInputError("the file is a damaged or truncated zip archive",
                                 code="not-a-workbook", where=name) from None
    check_archive(zf, name, limits)
    try:
        workbook = _parse_xml(zf, "xl/workbook.xml", name)
        rels = _relationships(zf, "xl/_rels/workbook.xml.rels", name)
        sheets: list[SheetPart] = []
        sheets_el = workbook.find(f"{_NS_MAIN}sheets")
        for el in [] if sheets_el is None else list(sheets_el):
            rid = el.get(f"{_NS_REL}id")
            target = rels.get(rid or "")
            if target is None:
                continue
            sheets.append(SheetPart(el.get("name", ""), target, el.get("state", "visible")))
        pr = workbook.find(f"{_NS_MAIN}workbookPr")
        date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
        percent = _percent_styles(zf, name) if "xl/styles.xml" in zf.namelist() else frozenset()
    except UnusableInputError:
        raise
    except Exception as exc:  # malformed XML in a structural part: the package is unusable
        raise UnusableInputError(f"the workbook structure cannot be read ({exc})",
                                 code="unreadable-workbook", where=name) from None
    return Package(zf, sheets, date1904, percent)


def _parse_xml(zf: zipfile.ZipFile, member: str, name: str):  # type: ignore[no-untyped-def]
    try:
        raw = zf.read(member)
    except KeyError:
        raise UnusableInputError(f"the workbook lacks its part {member}",
                                 code="unreadable-workbook", where=name) from None
    try:
        return SafeET.fromstring(raw, forbid_dtd=True)
    except Exception as exc:
        raise UnusableInputError(f"{member} is not well-formed or is hostile XML ({exc})",
                                 code="unsafe-workbook", where=name) from None


def _relationships(zf: zipfile.ZipFile, member: str, name: str) -> dict[str, str]:
    root = _parse_xml(zf, member, name)
    base = posixpath.dirname(posixpath.dirname(member))  # xl/_rels/x.rels -> xl
    out: dict[str, str] = {}
    for rel in root.iter(f"{_NS_PKG_REL}Relationship"):
        target = rel.get("Target", "")
        if target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join(base, target))
        out[rel.get("Id", "")] = path
    return out


def _percent_styles(zf: zipfile.ZipFile, name: str) -> frozenset[int]:
    root = _parse_xml(zf, "xl/styles.xml", name)
    custom_percent: set[int] = set()
    num_fmts = root.find(f"{_NS_MAIN}numFmts")
    if num_fmts is not None:
        for fmt in num_fmts:
            code = re.sub(r'"[^"]*"|\\.', "", fmt.get("formatCode", ""))
            if "%" in code:
                custom_percent.add(int(fmt.get("numFmtId", "-1")))
    xfs = root.find(f"{_NS_MAIN}cellXfs")
    out: set[int] = set()
    if xfs is not None:
        for index, xf in enumerate(xfs):
            fmt_id = int(xf.get("numFmtId", "0"))
            if fmt_id in _BUILTIN_PERCENT or fmt_id in custom_percent:
                out.add(index)
    return frozenset(out)

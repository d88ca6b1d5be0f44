"""Generate the reader's corpus of bad workbooks, one small file per input class.

    python tests/corpus/make_corpus.py          # writes tests/corpus/files/ and expected.yaml

Every file is built byte by byte here (no spreadsheet library), so each trap is exactly the one
named: a zip bomb is a few kilobytes that declare or inflate to gigabytes, a billion-laughs DTD
sits inside an otherwise valid workbook part, a duplicated row is the same ``<row r="3">``
twice. ``expected.yaml`` records each file's input class and expected outcome, which
``tests/test_corpus.py`` checks under a memory cap and a timeout:

* ``outcome: unusable`` - ``read_bom`` raises UnusableInputError with ``code`` and a message
  containing ``message``;
* ``outcome: read`` - ``read_bom`` returns a BOM whose findings include each of ``findings``
  (code, and sheet/row/cell/column where given), none of the codes in ``absent``, the typed
  ``values`` given, and (when given) the audit's overall ``status`` or ``status_not``.

``limits`` (optional) overrides reader limits so a limit can be shown with a tiny file.
"""

from __future__ import annotations

import io
import re
import struct
import sys
import warnings
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
EXPECTED = HERE / "expected.yaml"

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
WS_TYPE = REL + "/worksheet"
DATE = (1980, 1, 1, 0, 0, 0)
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# --------------------------------------------------------------------------------------------
# Cells and sheets


@dataclass(frozen=True)
class Raw:
    """Literal cell XML; ``@REF@`` is replaced by the cell's reference."""

    xml: str


def S(index: int | str, style: int | None = None) -> Raw:  # shared-string cell
    s = f' s="{style}"' if style is not None else ""
    return Raw(f'<c r="@REF@"{s} t="s"><v>{index}</v></c>')


def E(error: str) -> Raw:  # Excel error cell
    return Raw(f'<c r="@REF@" t="e"><v>{escape(error)}</v></c>')


def Fx(formula: str, value: Any = None) -> Raw:  # formula cell, with or without a saved value
    v = "" if value is None else f"<v>{value}</v>"
    return Raw(f"<c r=\"@REF@\"><f>{escape(formula)}</f>{v}</c>")


def N(value: Any, style: int) -> Raw:  # styled number
    return Raw(f'<c r="@REF@" s="{style}"><v>{value}</v></c>')


def T(value: str, style: int) -> Raw:  # styled inline string
    return Raw(f'<c r="@REF@" s="{style}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')


def col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_xml(ref: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Raw):
        return value.xml.replace("@REF@", ref)
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    text = escape(str(value))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


@dataclass
class Row:
    number: int
    cells: Sequence[Any]
    attrs: str = ""
    first_col: int = 0


def sheet_xml(rows: Sequence[Row | Sequence[Any]], *, dimension: str | None = None,
              head: str = "", tail: str = "", ns: str = MAIN) -> bytes:
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, Row):
            row = Row(i + 1, row)
        cells = "".join(cell_xml(f"{col_letter(row.first_col + j)}{row.number}", v)
                        for j, v in enumerate(row.cells))
        out.append(f'<row r="{row.number}"{row.attrs}>{cells}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'{DECL}<worksheet xmlns="{ns}" xmlns:r="{REL}">{dim}{head}<sheetData>'
            f'{"".join(out)}</sheetData>{tail}</worksheet>').encode()


# --------------------------------------------------------------------------------------------
# The contract's sheets, filled with one battery that passes every 30D requirement in 2024.

BATTERIES_HEAD = ["battery_id", "placed_in_service", "acquired_on", "description"]
COMPONENTS_HEAD = ["battery_id", "component_id", "component_type", "country", "manufacturer",
                   "incremental_value_usd"]
MINERALS_HEAD = ["battery_id", "line_id", "mineral", "value_usd", "mass_kg",
                 "extraction_country", "extraction_entity", "processing_country",
                 "processing_entity", "recycled", "recycling_country", "recycling_entity",
                 "impracticable_to_trace"]
ENTITIES_HEAD = ["entity_id", "name", "incorporated_in", "headquartered_in",
                 "covered_government_voting_pct", "covered_government_board_pct",
                 "covered_government_equity_pct", "effective_control", "restricted_lists"]


def batteries(bid: str = "B1") -> list[list[Any]]:
    return [list(BATTERIES_HEAD), [bid, "2024-06-30", "2024-06-15", "Pack A"]]


def components(bid: str = "B1") -> list[list[Any]]:
    return [list(COMPONENTS_HEAD),
            [bid, "C1", "battery cell", "US", "E1", 6000],
            [bid, "C2", "cathode electrode", "MX", "E1", 4000]]


def mineral(bid: str = "B1", line: str = "M1", name: str = "lithium", value: Any = 800,
            mass: Any = 9.4, ext: Any = "AU", proc: Any = "US") -> list[Any]:
    return [bid, line, name, value, mass, ext, "E2", proc, "E2", "false", None, None, "false"]


def minerals(bid: str = "B1") -> list[list[Any]]:
    return [list(MINERALS_HEAD), mineral(bid, "M1"),
            mineral(bid, "M2", "nickel", 200, 20, "CA", "CA")]


def entities() -> list[list[Any]]:
    return [list(ENTITIES_HEAD),
            ["E1", "CellCo Inc.", "US", "US", 0, 0, 0, "false", None],
            ["E2", "MineCo Pty", "AU", "AU", 0, 0, 0, "false", None]]


def good_sheets(bid: str = "B1") -> dict[str, bytes]:
    return {"batteries": sheet_xml(batteries(bid)), "components": sheet_xml(components(bid)),
            "minerals": sheet_xml(minerals(bid)), "entities": sheet_xml(entities())}


# --------------------------------------------------------------------------------------------
# Packages

STYLES = (DECL + f'<styleSheet xmlns="{MAIN}">'
          '<numFmts count="1"><numFmt numFmtId="164" formatCode="0.0%"/></numFmts>'
          '<fonts count="2"><font><sz val="11"/></font><font><strike/><sz val="11"/></font></fonts>'
          '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
          '<borders count="1"><border/></borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>'
          '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
          '<xf numFmtId="9" applyNumberFormat="1"/><xf numFmtId="0" fontId="1"/>'
          '<xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>').encode()
STYLE_DATE, STYLE_PERCENT, STYLE_STRIKE = 1, 2, 3


def package(sheets: dict[str, bytes] | Sequence[tuple[str, bytes]], *,
            sst: bytes | None = None, styles: bytes | None = STYLES, date1904: bool = False,
            states: dict[str, str] | None = None, calc: str = "", ns: str = MAIN,
            extra: dict[str, bytes] | None = None, content_type_main: str | None = None,
            workbook_xml: bytes | None = None) -> dict[str, bytes]:
    """The members of a minimal, valid xlsx package holding ``sheets`` (name -> sheet XML)."""
    items = list(sheets.items()) if isinstance(sheets, dict) else list(sheets)
    states = states or {}
    main_type = content_type_main or (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
    ct = [f'{DECL}<Types xmlns="{CT}">',
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
          'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>',
          f'<Override PartName="/xl/workbook.xml" ContentType="{main_type}"/>']
    rels = [f'{DECL}<Relationships xmlns="{PKG_REL}">']
    entries = []
    members: dict[str, bytes] = {}
    for i, (name, xml) in enumerate(items, start=1):
        ct.append(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                  'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
        rels.append(f'<Relationship Id="rId{i}" Type="{WS_TYPE}" '
                    f'Target="worksheets/sheet{i}.xml"/>')
        state = f' state="{states[name]}"' if name in states else ""
        entries.append(f'<sheet name="{escape(name)}" sheetId="{i}"{state} r:id="rId{i}"/>')
        members[f"xl/worksheets/sheet{i}.xml"] = xml
    if sst is not None:
        rels.append(f'<Relationship Id="rIdSst" Type="{REL}/sharedStrings" '
                    'Target="sharedStrings.xml"/>')
        members["xl/sharedStrings.xml"] = sst
    if styles is not None:
        rels.append(f'<Relationship Id="rIdSty" Type="{REL}/styles" Target="styles.xml"/>')
        members["xl/styles.xml"] = styles
    rels.append("</Relationships>")
    ct.append("</Types>")
    pr = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
    workbook = workbook_xml or (
        f'{DECL}<workbook xmlns="{ns}" xmlns:r="{REL}">{pr}<sheets>{"".join(entries)}</sheets>'
        f'{calc}</workbook>').encode()
    top = (f'{DECL}<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
           f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>').encode()
    out = {"[Content_Types].xml": "".join(ct).encode(), "_rels/.rels": top,
           "xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": "".join(rels).encode()}
    out.update(members)
    out.update(extra or {})
    return out


def zip_bytes(members: dict[str, bytes] | Sequence[tuple[str, bytes]],
              method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in items:
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def xlsx(sheets: dict[str, bytes] | None = None, **kw: Any) -> bytes:
    return zip_bytes(package(sheets if sheets is not None else good_sheets(), **kw))


def with_sheet(name: str, xml: bytes, **kw: Any) -> bytes:
    sheets = good_sheets()
    sheets[name] = xml
    return xlsx(sheets, **kw)


def sst_xml(strings: Sequence[str]) -> bytes:
    body = "".join(f"<si><t xml:space=\"preserve\">{escape(s)}</t></si>" for s in strings)
    return (f'{DECL}<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">'
            f'{body}</sst>').encode()


# Raw zip surgery: central directory records, to forge what the directory declares.

def _central_records(data: bytes) -> list[int]:
    end = data.rfind(b"PK\x05\x06")
    count, _size, offset = struct.unpack_from("<HLL", data, end + 10)
    out, pos = [], offset
    for _ in range(count):
        assert data[pos:pos + 4] == b"PK\x01\x02"
        out.append(pos)
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        pos += 46 + n + m + k
    return out


def _member_name(data: bytes, cd: int) -> str:
    n = struct.unpack_from("<H", data, cd + 28)[0]
    return data[cd + 46: cd + 46 + n].decode()


def forge_sizes(data: bytes, member: str, *, declared: int | None = None,
                crc: int | None = None, flags: int | None = None) -> bytes:
    """Rewrite a member's declared uncompressed size (and CRC) in both of its headers."""
    buf = bytearray(data)
    for cd in _central_records(data):
        if _member_name(data, cd) != member:
            continue
        local = struct.unpack_from("<L", data, cd + 42)[0]
        if declared is not None:
            struct.pack_into("<L", buf, cd + 24, declared)
            struct.pack_into("<L", buf, local + 22, declared)
        if crc is not None:
            struct.pack_into("<L", buf, cd + 16, crc)
            struct.pack_into("<L", buf, local + 14, crc)
        if flags is not None:
            struct.pack_into("<H", buf, cd + 8, flags)
            struct.pack_into("<H", buf, local + 6, flags)
    return bytes(buf)


# --------------------------------------------------------------------------------------------
# The cases


@dataclass
class Case:
    name: str
    cls: str
    build: Callable[[], bytes]
    expect: dict[str, Any]
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


CASES: list[Case] = []


def case(name: str, cls: str, note: str, **expect: Any) -> Callable[[Callable[[], bytes]],
                                                                     Callable[[], bytes]]:
    def register(fn: Callable[[], bytes]) -> Callable[[], bytes]:
        CASES.append(Case(name, cls, fn, expect, note))
        return fn
    return register


def unusable(code: str, message: str) -> dict[str, Any]:
    return {"outcome": "unusable", "code": code, "message": message}


def read(*findings: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"outcome": "read", "findings": list(findings), **more}


def f(code: str, sheet: str | None = None, row: int | None = None, cell: str | None = None,
      column: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code}
    for key, value in (("sheet", sheet), ("row", row), ("cell", cell), ("column", column)):
        if value is not None:
            out[key] = value
    return out


def v(sheet: str, row: int, column: str, equals: Any) -> dict[str, Any]:
    return {"sheet": sheet, "row": row, "column": column, "equals": equals}


NOT_XLSX = "not really xlsx"
HOSTILE = "hostile archive or XML"
LYING = "sizes that lie"
TRAPS = "silent-loss trap"
HONEST = "honest mistake"
CONTROL = "control"

# ---- control: the clean workbook every other case departs from ----------------------------


@case("clean.xlsx", CONTROL, "a valid workbook; the battery passes",
      **read(absent=["error-cell", "row-order", "missing-value"], status="pass"))
def _clean() -> bytes:
    return xlsx()


# ---- not really xlsx ------------------------------------------------------------------------

def _ole(streams: Sequence[str]) -> bytes:
    header = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16)
    header += struct.pack("<HHHH", 0x3E, 3, 0xFFFE, 9) + b"\x00" * (512 - len(header) - 8)
    directory = b"".join(s.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64
                         for s in ("Root Entry", *streams))
    return bytes(header) + directory.ljust(1024, b"\x00")


@case("legacy.xls.xlsx", NOT_XLSX, "an Excel 97-2003 file renamed to .xlsx",
      **unusable("not-a-workbook", "legacy Excel 97-2003 .xls"))
def _legacy() -> bytes:
    return _ole(["Workbook", "\x05SummaryInformation"])


@case("encrypted.xlsx", NOT_XLSX, "a password-protected workbook (OLE EncryptedPackage)",
      **unusable("not-a-workbook", "password-protected"))
def _encrypted() -> bytes:
    return _ole(["EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"])


@case("binary.xlsb.xlsx", NOT_XLSX, "an Excel binary workbook renamed to .xlsx",
      **unusable("not-a-workbook", ".xlsb"))
def _xlsb() -> bytes:
    return zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01\x00",
                      "xl/worksheets/sheet1.bin": b"\x81\x01\x00"})


@case("opendocument.ods.xlsx", NOT_XLSX, "an OpenDocument spreadsheet renamed to .xlsx",
      **unusable("not-a-workbook", "OpenDocument spreadsheet"))
def _ods() -> bytes:
    return zip_bytes([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
                      ("content.xml", b'<?xml version="1.0"?><office:document-content/>')],
                     method=zipfile.ZIP_STORED)


@case("csv_renamed.xlsx", NOT_XLSX, "a CSV export renamed to .xlsx",
      **unusable("not-a-workbook", "CSV"))
def _csv() -> bytes:
    return b"battery_id,placed_in_service\r\nB1,2024-06-30\r\n"


@case("csv_semicolon_bom.xlsx", NOT_XLSX, "a European CSV (semicolons, UTF-8 BOM) renamed",
      **unusable("not-a-workbook", "CSV"))
def _csv_semicolon() -> bytes:
    return "\ufeffbattery_id;value_usd\r\nB1;1.234,50\r\n".encode()


@case("unicode_text.xlsx", NOT_XLSX, "Excel's UTF-16 'Unicode Text' export renamed",
      **unusable("not-a-workbook", "UTF-16"))
def _utf16() -> bytes:
    return "\ufeffbattery_id\tvalue_usd\r\nB1\t800\r\n".encode("utf-16-le")


@case("html_renamed.xlsx", NOT_XLSX, "an HTML table saved with an .xlsx name",
      **unusable("not-a-workbook", "HTML"))
def _html() -> bytes:
    return (b"<html xmlns:o=\"urn:schemas-microsoft-com:office:office\"><body><table>"
            b"<tr><td>battery_id</td></tr><tr><td>B1</td></tr></table></body></html>")


@case("excel2003.xml.xlsx", NOT_XLSX, "an Excel 2003 XML Spreadsheet renamed",
      **unusable("not-a-workbook", "Excel 2003 XML"))
def _xml2003() -> bytes:
    return (b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
            b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet '
            b'ss:Name="batteries"/></Workbook>')


@case("truncated.xlsx", NOT_XLSX, "a download cut at 60 %",
      **unusable("not-a-workbook", "truncated"))
def _truncated() -> bytes:
    data = xlsx()
    return data[: len(data) * 6 // 10]


@case("truncated_tail.xlsx", NOT_XLSX, "a download missing its last 10 bytes",
      **unusable("not-a-workbook", "truncated"))
def _truncated_tail() -> bytes:
    return xlsx()[:-10]


@case("empty.xlsx", NOT_XLSX, "a zero-byte file", **unusable("not-a-workbook", "empty"))
def _empty() -> bytes:
    return b""


def _lock(user: str = "Jane Doe") -> bytes:
    name = user.encode("latin-1")
    head = bytes([len(name)]) + name.ljust(53, b" ")
    wide = user.encode("utf-16-le")
    return (head + bytes([len(user), 0]) + wide).ljust(165, b" ")


@case("~$lockfile.xlsx", NOT_XLSX, "Excel's lock file (~$name.xlsx) uploaded by mistake",
      **unusable("not-a-workbook", "lock file"))
def _lockfile() -> bytes:
    return _lock()


@case("lockfile_renamed.xlsx", NOT_XLSX, "a lock file with an ordinary name: found by content",
      **unusable("not-a-workbook", "lock file"))
def _lockfile_renamed() -> bytes:
    return _lock("Max Mustermann")


@case("macros.xlsm.xlsx", NOT_XLSX, "a macro-enabled workbook: read, macros never run",
      **read(f("macro-workbook"), status="pass"))
def _macros() -> bytes:
    return xlsx(content_type_main="application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64})


@case("strict_ooxml.xlsx", NOT_XLSX, "a Strict Open XML spreadsheet",
      **unusable("not-a-workbook", "Strict Open XML"))
def _strict() -> bytes:
    sheets = {name: xml.replace(MAIN.encode(), STRICT.encode())
              for name, xml in good_sheets().items()}
    return xlsx(sheets, ns=STRICT, styles=None)


@case("word.docx.xlsx", NOT_XLSX, "a Word document renamed to .xlsx",
      **unusable("not-a-workbook", "Word document"))
def _docx() -> bytes:
    return zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


@case("report.pdf.xlsx", NOT_XLSX, "a PDF renamed to .xlsx", **unusable("not-a-workbook", "PDF"))
def _pdf() -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


@case("random_bytes.xlsx", NOT_XLSX, "binary noise",
      **unusable("not-a-workbook", "not an Excel .xlsx workbook"))
def _noise() -> bytes:
    return bytes((i * 97 + 13) % 256 for i in range(600))


@case("zip_not_excel.xlsx", NOT_XLSX, "a zip of text files",
      **unusable("not-a-workbook", "no xl/workbook.xml"))
def _zip_other() -> bytes:
    return zip_bytes({"readme.txt": b"hello"})


# ---- hostile archives and XML ---------------------------------------------------------------

@case("bomb_ratio.xlsx", HOSTILE, "a sheet of 16 MiB of spaces deflated 1000-fold",
      **unusable("unsafe-workbook", "zip bomb"))
def _bomb_ratio() -> bytes:
    sheets = good_sheets()
    sheets["minerals"] = sheets["minerals"].replace(b"<sheetData>", b" " * (16 << 20)
                                                    + b"<sheetData>")
    return xlsx(sheets)


@case("bomb_declared.xlsx", HOSTILE, "a member declaring 3 GiB uncompressed",
      **unusable("unsafe-workbook", "declares 3221225472 bytes"))
def _bomb_declared() -> bytes:
    return forge_sizes(xlsx(), "xl/worksheets/sheet3.xml", declared=3 << 30)


@case("bomb_total.xlsx", HOSTILE, "members adding up past the total (limit lowered to "
      "100 kB here)", **unusable("unsafe-workbook", "uncompressed (limit 100000)"),
      limits={"max_uncompressed_bytes": 100_000})
def _bomb_total() -> bytes:
    return xlsx(extra={f"xl/media/blob{i}.bin": b"x" * 30_000 for i in range(5)})


@case("bomb_lying_size.xlsx", HOSTILE, "a member declaring 2 KiB that inflates to 8 MiB",
      **unusable("unsafe-workbook", "inflates beyond"))
def _bomb_lying() -> bytes:
    sheets = good_sheets()
    sheets["minerals"] = sheets["minerals"].replace(b"<sheetData>", b" " * (8 << 20)
                                                    + b"<sheetData>")
    data = xlsx(sheets)
    return forge_sizes(data, "xl/worksheets/sheet3.xml", declared=2048)


@case("many_entries.xlsx", HOSTILE, "more members than allowed (limit lowered to 40 here)",
      **unusable("unsafe-workbook", "members (limit 40)"), limits={"max_members": 40})
def _many_entries() -> bytes:
    return xlsx(extra={f"xl/media/i{i}.bin": b"" for i in range(60)})


@case("duplicate_members.xlsx", HOSTILE, "two members named xl/worksheets/sheet3.xml",
      **unusable("unsafe-workbook", "two members named"))
def _dup_members() -> bytes:
    members = list(package(good_sheets()).items())
    members.append(("xl/worksheets/sheet3.xml", sheet_xml([MINERALS_HEAD])))
    with io.BytesIO() as buf:
        with zipfile.ZipFile(buf, "w") as zf:
            for name, data in members:
                info = zipfile.ZipInfo(name, DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    zf.writestr(info, data)
        return buf.getvalue()


@case("overlapping_members.xlsx", HOSTILE, "a member stored inside another (overlapping files)",
      **unusable("unsafe-workbook", "overlap"))
def _overlap() -> bytes:
    # Member "inner.xml" is stored; member "outer.xml" is stored and its bytes contain the
    # whole of inner's local header and data, so the two share bytes in the file.
    inner_data = b"<x/>"
    inner_name = b"xl/inner.xml"
    inner_local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 33,
                              zlib.crc32(inner_data), len(inner_data), len(inner_data),
                              len(inner_name), 0) + inner_name + inner_data
    base = package(good_sheets())
    members = list(base.items())
    out = bytearray()
    central = bytearray()
    count = 0

    def add(name: bytes, data: bytes, at: int | None = None) -> None:
        nonlocal count
        crc = zlib.crc32(data)
        offset = len(out) if at is None else at
        if at is None:
            out.extend(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 33, crc,
                                   len(data), len(data), len(name), 0) + name + data)
        central.extend(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 33, crc,
                                   len(data), len(data), len(name), 0, 0, 0, 0, 0, offset)
                       + name)
        count += 1

    for name, data in members:
        add(name.encode(), data)
    outer_at = len(out)
    add(b"xl/outer.bin", inner_local + b"padding")
    inner_at = outer_at + 30 + len(b"xl/outer.bin")
    add(inner_name, inner_data, at=inner_at)
    cd_at = len(out)
    out.extend(central)
    out.extend(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), cd_at,
                           0))
    return bytes(out)


@case("directory_count_lie.xlsx", HOSTILE, "an end record claiming 9,999 members",
      **unusable("unsafe-workbook", "says it holds 9999 members"))
def _count_lie() -> bytes:
    data = bytearray(xlsx())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 9999, 9999)
    return bytes(data)


LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                    for i in range(1, 10))
          + "]>")


@case("billion_laughs_sheet.xlsx", HOSTILE, "billion laughs inside the minerals sheet",
      **unusable("unsafe-workbook", "DOCTYPE or ENTITY"))
def _laughs_sheet() -> bytes:
    xml = sheet_xml(minerals()).replace(b"<worksheet", LAUGHS.encode() + b"<worksheet")
    xml = xml.replace(b">lithium<", b">&lol9;<")
    return with_sheet("minerals", xml)


@case("billion_laughs_sst.xlsx", HOSTILE, "billion laughs inside sharedStrings.xml",
      **unusable("unsafe-workbook", "DOCTYPE or ENTITY"))
def _laughs_sst() -> bytes:
    sst = sst_xml(["lithium"]).replace(b"<sst", LAUGHS.encode() + b"<sst")
    sst = sst.replace(b">lithium<", b">&lol9;<")
    rows = minerals()
    rows[1][2] = S(0)
    return with_sheet("minerals", sheet_xml(rows), sst=sst)


@case("billion_laughs_workbook.xlsx", HOSTILE, "billion laughs inside workbook.xml",
      **unusable("unsafe-workbook", "DOCTYPE or ENTITY"))
def _laughs_workbook() -> bytes:
    members = package(good_sheets())
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(
        b"<workbook", LAUGHS.encode() + b"<workbook").replace(b'name="batteries"',
                                                               b'name="&lol9;"')
    return zip_bytes(members)


@case("quadratic_blowup.xlsx", HOSTILE, "one 64 KiB entity referenced 2,000 times",
      **unusable("unsafe-workbook", "DOCTYPE or ENTITY"))
def _quadratic() -> bytes:
    doctype = f'<!DOCTYPE w [<!ENTITY a "{"a" * 65536}">]>'.encode()
    xml = sheet_xml(minerals()).replace(b"<worksheet", doctype + b"<worksheet")
    xml = xml.replace(b">lithium<", b">" + b"&a;" * 2000 + b"<")
    return with_sheet("minerals", xml)


@case("external_entity.xlsx", HOSTILE, "an external entity (XXE) in styles.xml",
      **unusable("unsafe-workbook", "DOCTYPE or ENTITY"))
def _xxe() -> bytes:
    styles = STYLES.replace(b"<styleSheet", b'<!DOCTYPE s [<!ENTITY x SYSTEM '
                            b'"file:///etc/passwd">]><styleSheet')
    return xlsx(styles=styles)


@case("external_dtd.xlsx", HOSTILE, "a DOCTYPE naming an external DTD in a relationships part",
      **unusable("unsafe-workbook", "DOCTYPE or ENTITY"))
def _external_dtd() -> bytes:
    members = package(good_sheets())
    members["_rels/.rels"] = members["_rels/.rels"].replace(
        b"<Relationships", b'<!DOCTYPE r SYSTEM "http://example.invalid/x.dtd"><Relationships')
    return zip_bytes(members)


@case("doctype_after_long_prolog.xlsx", HOSTILE, "a DOCTYPE after 200 KB of prolog comments",
      **unusable("unsafe-workbook", "DOCTYPE or ENTITY"))
def _late_doctype() -> bytes:
    xml = sheet_xml(entities()).replace(
        b"<worksheet", b"<!--" + b"x" * 200_000 + b"-->" + LAUGHS.encode() + b"<worksheet")
    return with_sheet("entities", xml)


@case("doctype_utf16.xlsx", HOSTILE, "a UTF-16 sheet part carrying a DOCTYPE",
      **unusable("unsafe-workbook", "DOCTYPE or ENTITY"))
def _utf16_doctype() -> bytes:
    xml = sheet_xml(entities()).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    xml = xml.replace("<worksheet", LAUGHS + "<worksheet")
    return with_sheet("entities", b"\xff\xfe" + xml.encode("utf-16-le"))


@case("zip_encrypted_member.xlsx", HOSTILE, "a member flagged as zip-encrypted",
      **unusable("encrypted-workbook", "encrypted inside the zip"))
def _zip_encrypted() -> bytes:
    return forge_sizes(xlsx(), "xl/worksheets/sheet3.xml", flags=0x1)


@case("zip_bzip2.xlsx", HOSTILE, "members compressed with bzip2, which Excel never writes",
      **unusable("unreadable-workbook", "compression method 12"))
def _bzip2() -> bytes:
    return zip_bytes(package(good_sheets()), method=zipfile.ZIP_BZIP2)


@case("bad_crc.xlsx", HOSTILE, "a member whose checksum does not match its bytes",
      **unusable("unreadable-workbook", "checksum"))
def _bad_crc() -> bytes:
    return forge_sizes(xlsx(), "xl/worksheets/sheet3.xml", crc=0x12345678)


# ---- sizes that lie --------------------------------------------------------------------------

@case("far_corner_cell.xlsx", LYING, "one value at XFD1048576 (a 17-billion-cell grid)",
      **unusable("unsafe-workbook", "XFD1048576"))
def _far_corner() -> bytes:
    rows: list[Any] = [*minerals(), Row(1048576, [1], first_col=16383)]
    return with_sheet("minerals", sheet_xml(rows))


@case("far_corner_styled_empty.xlsx", LYING, "an empty formatted cell at XFD1048576 only",
      **read(absent=["unreadable-workbook"], status="pass"))
def _far_corner_empty() -> bytes:
    rows: list[Any] = [*minerals(), Row(1048576, [Raw('<c r="@REF@" s="1"/>')],
                                        first_col=16383)]
    return with_sheet("minerals", sheet_xml(rows))


@case("wrong_dimension.xlsx", LYING, "a dimension record claiming A1:XFD1048576",
      **read(absent=["unreadable-workbook"], status="pass"))
def _wrong_dimension() -> bytes:
    return with_sheet("minerals", sheet_xml(minerals(), dimension="A1:XFD1048576"))


@case("huge_shared_string.xlsx", LYING, "a 1 MiB shared string repeated in 1,000 cells",
      **unusable("unsafe-workbook", "repeats long shared strings"))
def _huge_sst() -> bytes:
    rows: list[Any] = minerals()
    rows += [Row(10 + i, [S(0)], first_col=15) for i in range(1000)]
    return with_sheet("minerals", sheet_xml(rows), sst=sst_xml(["A" * ((1 << 20) - 512)]))


@case("row_beyond_grid.xlsx", LYING, "a row numbered 1,048,577",
      **unusable("unreadable-workbook", "beyond Excel's grid"))
def _row_beyond() -> bytes:
    rows: list[Any] = [*minerals(), Row(1048577, mineral("B1", "M9"))]
    return with_sheet("minerals", sheet_xml(rows))


@case("column_beyond_grid.xlsx", LYING, "a cell in column XFE (16,385)",
      **unusable("unreadable-workbook", "XFE2"))
def _col_beyond() -> bytes:
    rows: list[Any] = minerals()
    rows[1] = [*rows[1], Raw('<c r="XFE2"><v>1</v></c>')]
    return with_sheet("minerals", sheet_xml(rows))


@case("thousands_of_sheets.xlsx", LYING, "1,500 sheets listed in workbook.xml",
      **unusable("unsafe-workbook", "1505 sheets (limit 1000)"))
def _many_sheets() -> bytes:
    # Every extra sheet points at the same part, so 1,501 entries cost a few kilobytes.
    entries = "".join(f'<sheet name="s{i}" sheetId="{i}" r:id="rId{1 + i % 4}"/>'
                      for i in range(1, 1506))
    book = (f'{DECL}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><workbookPr/><sheets>{entries}'
            '</sheets></workbook>').encode()
    return xlsx(workbook_xml=book)


@case("rows_over_limit.xlsx", LYING, "values down to row 5,000 (row limit lowered to 1,000)",
      **unusable("unsafe-workbook", "limit is 1,000 rows"), limits={"max_rows": 1000})
def _rows_limit() -> bytes:
    rows: list[Any] = [*minerals(), Row(5000, ["stray"])]
    return with_sheet("minerals", sheet_xml(rows))


# ---- silent-loss traps -----------------------------------------------------------------------

@case("rows_out_of_order.xlsx", TRAPS, "row 3 stored before row 2: read by number, warned",
      **read(f("row-order", "minerals", 2), status="pass"))
def _out_of_order() -> bytes:
    rows = minerals()
    return with_sheet("minerals", sheet_xml([Row(1, rows[0]), Row(3, rows[2]), Row(2, rows[1])]))


@case("duplicate_row.xlsx", TRAPS, "row 3 stored twice with different values",
      **read(f("row-order", "minerals", 3), status="insufficient_data"))
def _duplicate_row() -> bytes:
    rows = minerals()
    other = mineral("B1", "M2", "nickel", 9999, 20, "CN", "CN")
    return with_sheet("minerals", sheet_xml([Row(1, rows[0]), Row(2, rows[1]), Row(3, rows[2]),
                                             Row(3, other)]))


@case("duplicate_cell.xlsx", TRAPS, "cell D2 (value_usd) stored twice",
      **read(f("duplicate-cell", "minerals", 2, "D2", "value_usd"), status="insufficient_data"))
def _duplicate_cell() -> bytes:
    xml = sheet_xml(minerals()).replace(b'<c r="D2"><v>800</v></c>',
                                        b'<c r="D2"><v>800</v></c><c r="D2"><v>5</v></c>')
    assert xml.count(b'r="D2"') == 2
    return with_sheet("minerals", xml)


@case("shared_string_out_of_range.xlsx", TRAPS, "a cell pointing to shared string 7 of 1",
      **unusable("unreadable-workbook", "points to shared string 7"))
def _sst_oob() -> bytes:
    rows = minerals()
    rows[1][2] = S(7)
    return with_sheet("minerals", sheet_xml(rows), sst=sst_xml(["lithium"]))


@case("shared_string_negative.xlsx", TRAPS, "a cell pointing to shared string -1",
      **unusable("unreadable-workbook", "negative shared-string index"))
def _sst_negative() -> bytes:
    rows = minerals()
    rows[1][2] = S(-1)
    return with_sheet("minerals", sheet_xml(rows), sst=sst_xml(["lithium"]))


@case("missing_sheet_part.xlsx", TRAPS, "the minerals sheet is listed but its part is absent",
      **read(f("unreadable-workbook", "minerals"), status_not="pass"))
def _missing_part() -> bytes:
    members = package(good_sheets())
    del members["xl/worksheets/sheet3.xml"]
    return zip_bytes(members)


@case("formula_without_value.xlsx", TRAPS, "value_usd is =200*4 with no saved result",
      **read(f("formula-without-value", "minerals", 2, "D2", "value_usd"),
             status="insufficient_data"))
def _formula_no_value() -> bytes:
    rows = minerals()
    rows[1][3] = Fx("200*4")
    return with_sheet("minerals", sheet_xml(rows))


@case("formula_stale.xlsx", TRAPS, "formulas with saved results in a workbook set to "
      "recalculate on load", **read(f("stale-formula", "minerals", 2, "D2", "value_usd")))
def _formula_stale() -> bytes:
    rows = minerals()
    rows[1][3] = Fx("200*4", 800)
    return with_sheet("minerals", sheet_xml(rows), calc='<calcPr fullCalcOnLoad="1"/>')


@case("error_cells.xlsx", TRAPS, "#N/A, #DIV/0! and #REF! in data cells",
      **read(f("error-cell", "minerals", 2, "D2", "value_usd"),
             f("error-cell", "minerals", 3, "E3", "mass_kg"),
             f("error-cell", "minerals", 3, "F3", "extraction_country"),
             status="insufficient_data"))
def _error_cells() -> bytes:
    rows = minerals()
    rows[1][3] = E("#N/A")
    rows[2][4] = E("#DIV/0!")
    rows[2][5] = Raw('<c r="@REF@" t="e"><f>#REF!+1</f><v>#REF!</v></c>')
    return with_sheet("minerals", sheet_xml(rows))


@case("namibia_na.xlsx", TRAPS, "the text NA (Namibia) is a country, not a missing value",
      **read(absent=["missing-value"], values=[v("minerals", 2, "extraction_country", "NA"),
                                              v("minerals", 2, "processing_country", "NA")],
             status="fail"))
def _namibia() -> bytes:
    rows = minerals()
    rows[1][5] = "NA"
    rows[1][7] = "NA"
    return with_sheet("minerals", sheet_xml(rows))


@case("leading_zero_ids.xlsx", TRAPS, "identifiers like 00123 stay text",
      **read(absent=["unknown-battery"], values=[v("batteries", 2, "battery_id", "00123"),
                                                v("minerals", 2, "battery_id", "00123")],
             status="pass"))
def _leading_zero() -> bytes:
    return xlsx(good_sheets("00123"))


@case("numeric_ids.xlsx", TRAPS, "a battery id typed as the number 123 in one sheet, text "
      "in the others", **read(absent=["unknown-battery"],
                              values=[v("batteries", 2, "battery_id", "123")], status="pass"))
def _numeric_ids() -> bytes:
    sheets = good_sheets("123")
    rows = batteries("123")
    rows[1][0] = 123
    sheets["batteries"] = sheet_xml(rows)
    return xlsx(sheets)


@case("merged_cells.xlsx", TRAPS, "battery_id merged over A2:A3 in minerals",
      **read(f("merged-cells", "minerals", 2), f("missing-value", "minerals", 3),
             status="insufficient_data"))
def _merged() -> bytes:
    rows = minerals()
    rows[2][0] = None
    return with_sheet("minerals", sheet_xml(
        rows, tail='<mergeCells count="1"><mergeCell ref="A2:A3"/></mergeCells>'))


@case("hidden_sheet.xlsx", TRAPS, "the entities sheet is hidden",
      **read(f("hidden-content", "entities"), status="pass"))
def _hidden_sheet() -> bytes:
    return xlsx(states={"entities": "hidden"})


@case("hidden_rows_columns.xlsx", TRAPS, "minerals row 3 and column E are hidden",
      **read(f("hidden-content", "minerals", 3), f("hidden-content", "minerals", column="mass_kg"),
             status="pass"))
def _hidden_rows() -> bytes:
    rows = minerals()
    return with_sheet("minerals", sheet_xml(
        [Row(1, rows[0]), Row(2, rows[1]), Row(3, rows[2], ' hidden="1"')],
        head='<cols><col min="5" max="5" width="0" hidden="1"/></cols>'))


@case("struck_through_row.xlsx", TRAPS, "minerals row 3 is struck through",
      **read(f("struck-through", "minerals", 3), status="pass"))
def _struck() -> bytes:
    rows = minerals()
    rows[2] = [T(str(x), STYLE_STRIKE) if isinstance(x, str) else x for x in rows[2]]
    return with_sheet("minerals", sheet_xml(rows))


@case("total_row.xlsx", TRAPS, "a Total row under the minerals, with the sum",
      **read(f("total-row", "minerals", 4), absent=["unknown-battery", "missing-value"],
             status="pass"))
def _total_row() -> bytes:
    rows = minerals()
    rows.append(["Total", None, None, 1000])
    return with_sheet("minerals", sheet_xml(rows))


@case("notes_below_data.xlsx", TRAPS, "a note two rows under the data",
      **read(f("note-row", "minerals", 5), absent=["unknown-battery", "missing-value"],
             status="pass"))
def _notes() -> bytes:
    rows: list[Any] = minerals()
    rows.append(Row(5, ["Note: values from supplier declarations, Q2 2024"]))
    return with_sheet("minerals", sheet_xml(rows))


@case("cells_without_references.xlsx", TRAPS, "positional XML (no r attributes) with an "
      "error cell", **read(f("error-cell", "minerals", 3, "D3", "value_usd"),
                           status="insufficient_data"))
def _positional() -> bytes:
    rows = minerals()
    rows[2][3] = E("#VALUE!")
    xml = sheet_xml(rows)
    xml = re.sub(rb' r="[A-Z]+\d+"', b"", xml)
    xml = re.sub(rb'<row r="\d+">', b"<row>", xml)
    return with_sheet("minerals", xml)


# ---- honest mistakes -------------------------------------------------------------------------

@case("header_not_on_row1.xlsx", HONEST, "a title and a blank row above the header",
      **read(f("ignored-rows", "minerals", 1), absent=["header-not-found"], status="pass",
             values=[v("minerals", 4, "line_id", "M1")]))
def _header_row3() -> bytes:
    rows = minerals()
    return with_sheet("minerals", sheet_xml([Row(1, ["Mineral lines, Q2 2024"]), *[
        Row(3 + i, r) for i, r in enumerate(rows)]]))


@case("header_variants.xlsx", HONEST, "headers in other case, with spaces, line breaks and "
      "non-breaking spaces", **read(absent=["missing-column", "unknown-column"], status="pass"))
def _header_variants() -> bytes:
    rows = minerals()
    rows[0] = ["Battery ID", "LINE\nID", " Mineral ", "value\u00a0usd", "Mass_KG",
               "Extraction Country", "extraction  entity", "PROCESSING_COUNTRY",
               "Processing Entity", "Recycled", "recycling country", "Recycling Entity",
               "Impracticable To Trace"]
    return with_sheet("minerals", sheet_xml(rows))


@case("header_lookalike.xlsx", HONEST, "a header spelled with a Cyrillic 'а' and a zero-width "
      "space", **read(f("normalised-value", "minerals", 1), absent=["missing-column"],
                      status="pass"))
def _header_lookalike() -> bytes:
    rows = minerals()
    rows[0] = ["b\u0430ttery_id", "line\u200b_id", *rows[0][2:]]
    return with_sheet("minerals", sheet_xml(rows))


@case("duplicate_headers.xlsx", HONEST, "value_usd appears twice",
      **read(f("duplicate-column", "minerals", 1, column="value_usd")))
def _dup_headers() -> bytes:
    rows = minerals()
    for r in rows:
        r.append(r[3])
    return with_sheet("minerals", sheet_xml(rows))


@case("blank_header.xlsx", HONEST, "values under a column with no header",
      **read(f("blank-header", "minerals", 1), status="pass"))
def _blank_header() -> bytes:
    rows = minerals()
    rows[0] = [*rows[0], None]
    rows[1] = [*rows[1], "stray"]
    return with_sheet("minerals", sheet_xml(rows))


@case("numbers_as_text.xlsx", HONEST, "amounts typed as 1,234.5 / 1.234,5 / $1,200 / 12 %",
      **read(absent=["invalid-number", "invalid-percent"],
             values=[v("minerals", 2, "value_usd", "1234.5"),
                     v("minerals", 3, "value_usd", "1234.5"),
                     v("components", 2, "incremental_value_usd", "1200"),
                     v("entities", 2, "covered_government_voting_pct", "12")],
             status="pass"))
def _numbers_text() -> bytes:
    sheets = good_sheets()
    m = minerals()
    m[1][3] = "1,234.5"
    m[2][3] = "1.234,5"
    c = components()
    c[1][5] = "$1,200"
    e = entities()
    e[1][4] = "12 %"
    sheets.update(minerals=sheet_xml(m), components=sheet_xml(c), entities=sheet_xml(e))
    return xlsx(sheets)


@case("percent_scales.xlsx", HONEST, "0.3 typed plain (a fraction?) and 25 % as a "
      "percent-formatted 0.25", **read(f("percent-scale", "entities", 2, "E2"),
                                       values=[v("entities", 3, "covered_government_voting_pct",
                                                 "25")]))
def _percent_scales() -> bytes:
    e = entities()
    e[1][4] = 0.3
    e[2][4] = N(0.25, STYLE_PERCENT)
    return with_sheet("entities", sheet_xml(e))


@case("date_serials.xlsx", HONEST, "dates as a date cell and as a plain serial number",
      **read(f("normalised-value", "batteries", 2, "B2"),
             values=[v("batteries", 2, "placed_in_service", "2024-06-30"),
                     v("batteries", 2, "acquired_on", "2024-06-15")], status="pass"))
def _date_serials() -> bytes:
    b = batteries()
    b[1][1] = 45473  # plain number: a 1900-system serial
    b[1][2] = N(45458, STYLE_DATE)
    return with_sheet("batteries", sheet_xml(b))


@case("date1904.xlsx", HONEST, "the 1904 date system (old Mac Excel)",
      **read(values=[v("batteries", 2, "placed_in_service", "2024-06-30"),
                     v("batteries", 2, "acquired_on", "2024-06-15")], status="pass"))
def _date1904() -> bytes:
    b = batteries()
    b[1][1] = 45473 - 1462
    b[1][2] = N(45458 - 1462, STYLE_DATE)
    return with_sheet("batteries", sheet_xml(b), date1904=True)


@case("countries_ambiguous_historic.xlsx", HONEST, "Congo, Korea, USSR and Yugoslavia",
      **read(f("ambiguous-country", "minerals", 2, "F2"), f("historic-country", "minerals", 2,
                                                             "H2"),
             f("ambiguous-country", "components", 2, "D2"),
             f("historic-country", "components", 3, "D3"), status_not="pass"))
def _countries() -> bytes:
    sheets = good_sheets()
    m = minerals()
    m[1][5], m[1][7] = "Congo", "USSR"
    c = components()
    c[1][3], c[2][3] = "Korea", "Yugoslavia"
    sheets.update(minerals=sheet_xml(m), components=sheet_xml(c))
    return xlsx(sheets)


@case("control_characters.xlsx", HONEST, "a bell character (_x0007_) inside an id",
      **read(f("control-character", "minerals", 2, "A2", "battery_id"),
             absent=["unknown-battery"], values=[v("minerals", 2, "battery_id", "B1")],
             status="pass"))
def _control() -> bytes:
    m = minerals()
    m[1][0] = Raw('<c r="@REF@" t="inlineStr"><is><t>B1_x0007_</t></is></c>')
    return with_sheet("minerals", sheet_xml(m))


@case("very_long_text.xlsx", HONEST, "a 40,000-character description",
      **read(f("text-too-long", "batteries", 2, "D2", "description")))
def _long_text() -> bytes:
    b = batteries()
    b[1][3] = "x" * 40_000
    return with_sheet("batteries", sheet_xml(b))


# --------------------------------------------------------------------------------------------


def build_all() -> dict[str, bytes]:
    return {c.name: c.build() for c in CASES}


def expected() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in CASES:
        entry = {"class": c.cls, "note": c.note}
        entry.update(c.expect)
        out[c.name] = entry
    return out


def main(argv: Sequence[str] = ()) -> int:
    import yaml

    FILES.mkdir(parents=True, exist_ok=True)
    names = set()
    for c in CASES:
        data = c.build()
        (FILES / c.name).write_bytes(data)
        names.add(c.name)
        print(f"{len(data):>9,}  {c.name}")
    for stale in FILES.iterdir():
        if stale.name not in names:
            stale.unlink()
    header = ("# Generated by tests/corpus/make_corpus.py: each corpus file, its input class and "
              "its expected outcome.\n")
    EXPECTED.write_text(header + yaml.safe_dump(expected(), sort_keys=False, allow_unicode=True,
                                                width=100), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

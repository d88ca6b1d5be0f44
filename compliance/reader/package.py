"""What the fast cell reader cannot see: the workbook's parts, styles and cell-level oddities.

``fastexcel`` (calamine) loads cell values quickly but reads an Excel error cell or a formula
without a saved result as an empty cell, keeps the last of two duplicate rows or cells without a
word, places cells beyond Excel's grid, and allocates a dense grid up to the farthest cell (one
stray value at XFD1048576 asks for 17 billion cells). Reading those silently would give wrong
verdicts or exhaust memory, so this module opens the zip package itself, verifies every member
(:mod:`compliance.reader.limits`), and scans each sheet's XML as bytes, in bounded chunks,
before the cell reader is allowed to load it: cheap substring counts first, and regular
expressions only where they are needed.

XML structure (workbook, relationships, styles) is parsed only with ``defusedxml``; when it is
not importable, or does not refuse a DTD, nothing is read at all (fail closed).
"""

from __future__ import annotations

import io
import operator
import posixpath
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import repeat
from typing import TYPE_CHECKING

from compliance.errors import UnusableInputError
from compliance.findings import column_index
from compliance.reader.limits import (
    EXCEL_MAX_COL,
    EXCEL_MAX_ROW,
    Limits,
    check_archive,
    verified_pieces,
    verify_member,
    verify_members,
)

if TYPE_CHECKING:
    import polars as pl

try:  # the safe parser is a hard requirement: without it, nothing is parsed (fail closed)
    from defusedxml import DTDForbidden as _DTDForbidden
    from defusedxml import ElementTree as SafeET
except ImportError:  # pragma: no cover - exercised in a subprocess test
    SafeET = None
    _DTDForbidden = None

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_NS_STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"

# Built-in number formats that show a percentage (ECMA-376 18.8.30).
_BUILTIN_PERCENT = {9, 10}

_CHUNK = 8 << 20

_safe_checked = False


def require_safe_xml() -> None:
    """Refuse to read anything unless defusedxml is importable and refuses DTDs."""
    global _safe_checked
    if _safe_checked:
        return
    message = ("the safe XML parser (defusedxml) is not available, so no workbook is read; "
               "install the package's dependencies")
    if SafeET is None or _DTDForbidden is None:
        raise UnusableInputError(message, code="unsafe-xml-parser")
    try:
        SafeET.fromstring(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', forbid_dtd=True)
    except _DTDForbidden:
        _safe_checked = True
        return
    except Exception:
        pass
    raise UnusableInputError(message, code="unsafe-xml-parser")


@dataclass(frozen=True, slots=True)
class SheetPart:
    name: str
    path: str  # member name inside the zip
    state: str  # visible, hidden, veryHidden
    present: bool = True  # False when the workbook lists the sheet but its part is missing


@dataclass(slots=True)
class SheetScan:
    """Cell-level facts about one sheet that the value reader does not report."""

    error_cells: list[tuple[str, int, str]] = field(default_factory=list)  # (col, row, #ERR)
    formulas_without_value: list[tuple[str, int]] = field(default_factory=list)
    row_order_problems: list[tuple[int, int]] = field(default_factory=list)  # (prev, row)
    percent_cells: set[tuple[str, int]] = field(default_factory=set)
    duplicate_cells: list[tuple[str, int]] = field(default_factory=list)
    struck_cells: set[tuple[str, int]] = field(default_factory=set)
    hidden_rows: list[int] = field(default_factory=list)
    hidden_columns: list[tuple[int, int]] = field(default_factory=list)  # 1-based, inclusive
    merged: list[tuple[str, int, str, int]] = field(default_factory=list)
    formula_columns: dict[str, list[int]] = field(default_factory=dict)  # col -> [count, row]
    valued: int = 0  # cells whose XML holds a value (<v> or <is>): what the reader must return
    complete: bool = False  # True once every cell reference has been read (the exact scan)

    def replace_with(self, other: SheetScan) -> None:
        for name in self.__slots__:  # type: ignore[attr-defined]
            setattr(self, name, getattr(other, name))


@dataclass(slots=True)
class Package:
    """An opened xlsx package: its sheets, date system, styles and shared strings."""

    zf: zipfile.ZipFile
    sheets: list[SheetPart]
    date1904: bool
    percent_styles: frozenset[int]
    strike_styles: frozenset[int] = frozenset()
    macros: bool = False
    recalc_on_load: bool = False
    shared_strings: str | None = None
    name: str = "<workbook>"
    limits: Limits = field(default_factory=Limits)
    data: bytes = b""
    unverified: set[str] = field(default_factory=set)  # sheet parts verified when scanned
    _sst_count: int | None = None
    _sst_lengths: pl.Series | None = None

    def sheet(self, name: str) -> SheetPart | None:
        for part in self.sheets:
            if part.name == name:
                return part
        for part in self.sheets:
            if part.name.casefold() == name.casefold():
                return part
        return None

    def part_size(self, part: SheetPart) -> int:
        """The part's inflated size in bytes, as the zip directory declares it."""
        return self.zf.getinfo(part.path).file_size

    def verify(self, part: SheetPart) -> None:
        """Verify a sheet part (size, CRC, no DTD) unless that is already done."""
        if part.path in self.unverified:
            verify_member(self.zf.getinfo(part.path), self.data, self.name)
            self.unverified.discard(part.path)

    def verify_rest(self) -> None:
        """Verify the sheet parts no scan has read, so every member is checked in the end."""
        for path in sorted(self.unverified):
            verify_member(self.zf.getinfo(path), self.data, self.name)
        self.unverified.clear()


    def iter_member(self, member: str, sep: bytes | None = None, *, after: bool = False
                    ) -> Iterator[bytes]:
        """The member's bytes in blocks of about 8 MiB; with ``sep``, each block is cut at an
        occurrence of ``sep`` (see :func:`_blocks`), so none straddles two blocks.

        Every reading goes through :func:`verified_pieces` (the inflate of
        :mod:`compliance.reader.inflate`, isal where available), so a later reading repeats the
        first one's checks: it never yields a byte beyond the declared size, and damaged data
        raises :class:`UnusableInputError` as on the first reading. A large member is inflated
        on another thread while the caller works.
        """
        return _blocks(verified_pieces(self.zf.getinfo(member), self.data, self.name), _CHUNK,
                       sep, after=after)

    def iter_chunks(self, part: SheetPart) -> Iterator[bytes]:
        """The sheet XML in chunks that each end after a complete ``</row>``, verified on the
        way (as every reading is); read to its end, the part no longer awaits verification.

        The scans' byte patterns are written for attributes as Excel writes them (``r="A1"``).
        XML also allows ``r='A1'`` and ``r = "A1"``, which the cell reader reads; such tags are
        rewritten first, or an error cell written that way would be read as empty unreported.
        """
        odd = None  # whether the writer spaces its "=" or quotes with ', seen at the start
        for chunk in self.iter_member(part.path, b"</row>", after=True):
            if odd is None:
                odd = _ODD_TAG.search(chunk, 0, _SNIFF) is not None
            if odd:
                chunk = _ODD_TAG.sub(_plain_attributes, chunk)
            elif b"'" in chunk:  # cheap: apostrophes are rare outside text, and looked at alone
                chunk = _requote(chunk)
            yield chunk
        self.unverified.discard(part.path)

    # Shared strings -------------------------------------------------------------------------

    def sst_count(self) -> int:
        if self._sst_count is None:
            count = 0
            if self.shared_strings:
                for block in self.iter_member(self.shared_strings, b"<si"):
                    count += block.count(b"<si>") + block.count(b"<si ")
            self._sst_count = count
        return self._sst_count

    def sst_lengths(self) -> pl.Series:
        """Upper bounds on each shared string's text length (its XML, less the markup)."""
        if self._sst_lengths is None:
            import polars as pl

            raw: list[int] = []
            if self.shared_strings:
                carry = b""
                for block in self.iter_member(self.shared_strings):
                    data = carry + block
                    # bytes.split is several times faster than the pattern; Excel writes <si>
                    parts = data.split(b"<si>") if b"<si " not in data else _SI_START.split(data)
                    carry = parts.pop()
                    raw.extend(map(len, parts))
                raw.append(len(carry))
                raw = raw[1:]  # the text before the first <si> is the sst header
            self._sst_lengths = (pl.Series("length", raw, dtype=pl.Int64) - 12).clip(0)
        return self._sst_lengths

    def sst_size(self) -> int:
        if not self.shared_strings:
            return 0
        return self.zf.getinfo(self.shared_strings).file_size

    # Sheet scan -----------------------------------------------------------------------------

    def scan_exact(self, part: SheetPart, *, want_percent: bool) -> SheetScan:
        """Scan a sheet's XML cell by cell; raise :class:`UnusableInputError` when it cannot be
        loaded safely. :mod:`compliance.reader.quick_scan` falls back to this, the complete and
        slow scan, whenever its byte counts see anything unusual.

        Refused: cells beyond Excel's grid, a sheet whose values span more than
        ``limits.max_cells`` cells, shared-string references that are negative or out of range,
        and cells that would expand to more than ``limits.max_sheet_text_bytes`` of text.
        """
        self.verify(part)
        scan = SheetScan(complete=True)
        styled = self.styled_pattern(want_percent=want_percent)
        last_row = 0
        min_row, max_row = EXCEL_MAX_ROW + 1, 0
        cols: set[bytes] = set()
        shared_indexes: list[bytes] = []  # every t="s" cell's index, collected in one pass
        numbering: dict[str, int] | None = None
        seen_rows: set[int] = set()
        for index, chunk in enumerate(self.iter_chunks(part)):
            if index == 0:
                scan.hidden_columns = _hidden_columns(chunk)
            refs = _CELL_REF.findall(chunk)
            row_refs = _ROW_R.findall(chunk)
            if numbering is not None or _needs_numbering(chunk, refs, row_refs):
                numbering = numbering if numbering is not None else {"row": 0, "col": 0}
                chunk = _number_cells(chunk, numbering)
                refs = _CELL_REF.findall(chunk)
                row_refs = _ROW_R.findall(chunk)
            row_numbers = list(map(int, row_refs))
            if row_numbers:
                if rows_out_of_order(row_numbers, last_row):
                    for row in row_numbers:
                        if row <= last_row:
                            scan.row_order_problems.append((last_row, row))
                            if row == last_row:
                                seen_rows.add(row)
                        last_row = max(last_row, row)
                last_row = max(last_row, max(row_numbers))
                min_row = min(min_row, min(row_numbers))
                max_row = max(max_row, max(row_numbers))
            if b"hidden=" in chunk:
                scan.hidden_rows.extend(map(int, _HIDDEN_ROW.findall(chunk)))
            if refs:
                distinct = set(refs)
                cols.update(map(bytes.rstrip, distinct, repeat(_DIGITS)))
                if max(map(len, distinct)) >= 8:  # far cells: check the cells' own rows
                    rows = [int(r.lstrip(_LETTERS)) for r in distinct if len(r) >= 8]
                    min_row, max_row = min(min_row, min(rows)), max(max_row, max(rows))
                if len(distinct) != len(refs):
                    for ref, n in Counter(refs).items():
                        if n > 1:
                            letters = ref.rstrip(_DIGITS)
                            row = int(ref[len(letters):])
                            if row not in seen_rows:
                                scan.duplicate_cells.append((letters.decode(), row))
            self.cell_findings(chunk, scan, styled, want_percent=want_percent)
            if b't="s"' in chunk:
                if b"<v>-" in chunk:
                    self._check_negative_refs(part, chunk)
                indexes = _SST_INDEX.findall(chunk)
                if indexes:
                    shared_indexes.extend(indexes)
                    if self.shared_strings and max(map(int, indexes)) >= self.sst_count():
                        self._report_out_of_range(part, chunk)
        self._check_grid(part, scan, min_row, max_row, cols)
        if shared_indexes:
            self.check_text_size(part, len(shared_indexes), lambda: _as_indexes(shared_indexes))
        return scan

    def cell_findings(self, chunk: bytes, scan: SheetScan, styled: re.Pattern[bytes] | None,
                      *, want_percent: bool) -> None:
        """Add one chunk's error cells, formulas without values, struck or percent cells and
        merged ranges to ``scan`` (cheap substring tests decide which patterns run)."""
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
            if self.recalc_on_load:
                for match in _FORMULA_CELL.finditer(chunk):
                    ref = _REF.search(match.group(1))
                    if ref:
                        entry = scan.formula_columns.setdefault(
                            ref.group(1).decode(), [0, int(ref.group(2))])
                        entry[0] += 1
        if styled is not None and b's="' in chunk:
            for match in styled.finditer(chunk):
                attrs = match.group(1)
                style = int(_STYLE.search(attrs).group(1))  # type: ignore[union-attr]
                ref = _REF.search(attrs)
                if ref is None:
                    continue
                cell = (ref.group(1).decode(), int(ref.group(2)))
                if style in self.strike_styles:
                    scan.struck_cells.add(cell)
                if want_percent and style in self.percent_styles:
                    scan.percent_cells.add(cell)
        if b"<mergeCell " in chunk:
            for match in _MERGE.finditer(chunk):
                a, r1, b, r2 = match.groups()
                scan.merged.append((a.decode(), int(r1), (b or a).decode(),
                                    int(r2 or r1)))

    def styled_pattern(self, *, want_percent: bool) -> re.Pattern[bytes] | None:
        styles = set(self.percent_styles) if want_percent else set()
        return _styled_cell_pattern(styles | set(self.strike_styles))

    def _check_negative_refs(self, part: SheetPart, chunk: bytes) -> None:
        negative = _SST_NEGATIVE.search(chunk)
        if negative:
            ref = _REF.search(negative.group(1))
            where = _cell_name(ref)
            raise UnusableInputError(
                f"sheet '{part.name}' cell {where} points to a negative shared-string index; "
                "the file is damaged (it was not written by Excel)", code="unreadable-workbook",
                where=self.name)

    def _report_out_of_range(self, part: SheetPart, chunk: bytes) -> None:
        """Name the first cell whose shared-string index is past the table (rare: the cheap
        check on the chunk's largest index found one)."""
        count = self.sst_count()
        for match in _sst_out_of_range_pattern(count).finditer(chunk):
            if int(match.group(1)) >= count:
                start = chunk.rfind(b"<c", 0, match.start())
                ref = _REF.search(chunk, start, match.start()) if start >= 0 else None
                raise UnusableInputError(
                    f"sheet '{part.name}' cell {_cell_name(ref)} points to shared string "
                    f"{int(match.group(1))}, but the workbook has only {count}; the file is "
                    "damaged", code="unreadable-workbook", where=self.name)

    def _check_grid(self, part: SheetPart, scan: SheetScan, min_row: int, max_row: int,
                    cols: set[bytes]) -> None:
        if max_row == 0:
            return
        indexes = {c: column_index(c.decode()) for c in cols}
        max_col = max(indexes.values(), default=1)
        min_col = min(indexes.values(), default=1)
        if max_row > EXCEL_MAX_ROW or max_col > EXCEL_MAX_COL:
            far = _first_beyond_grid(self.iter_chunks(part))
            raise UnusableInputError(
                f"sheet '{part.name}' has a cell at {far or 'a position'} beyond Excel's grid "
                f"(last row {EXCEL_MAX_ROW:,}, last column XFD); the file was not written by "
                "Excel and cannot be trusted", code="unreadable-workbook", where=self.name)
        limits = self.limits
        span = (max_row - min_row + 1) * (max_col - min_col + 1)
        if span <= limits.max_cells and max_row - min_row + 1 <= limits.max_rows:
            return
        # Only cells holding a value make the reader allocate; styled empty cells do not.
        box = _valued_box(self.iter_chunks(part))
        if box is None:
            return
        (r1, c1), (r2, c2), far = box
        span = (r2 - r1 + 1) * (c2 - c1 + 1)
        if r2 - r1 + 1 > limits.max_rows:
            raise UnusableInputError(
                f"sheet '{part.name}' has values down to row {r2:,} (cell {far}); the limit is "
                f"{limits.max_rows:,} rows. Delete stray cells below the data",
                code="unsafe-workbook", where=self.name)
        if span > limits.max_cells:
            raise UnusableInputError(
                f"sheet '{part.name}' has a value in cell {far}, far from the rest of the data: "
                f"the sheet would span {span:,} cells (limit {limits.max_cells:,}); delete the "
                "stray cell or the rows and columns beyond the data", code="unsafe-workbook",
                where=self.name)

    def check_text_size(self, part: SheetPart, shared_cells: int,
                        indexes: Callable[[], pl.Series]) -> None:
        """Refuse a sheet whose shared-string cells would expand to too much text.

        Two bounds need only the count of shared-string cells; ``indexes`` (every such cell's
        index) is asked for only when both fail.
        """
        limit = self.limits.max_sheet_text_bytes
        if shared_cells * self.sst_size() <= limit:
            return
        known = self.sst_lengths()
        longest = int(known.max() or 0)  # type: ignore[arg-type]
        if shared_cells * longest <= limit:
            return
        idx = indexes()
        idx = idx.filter((idx >= 0) & (idx < len(known)))
        total = int(known.gather(idx).sum())
        if total > limit:
            counts = idx.value_counts(name="n")
            weight = counts["n"] * known.gather(counts[idx.name])
            index = int(counts[idx.name][int(weight.arg_max())])  # type: ignore[arg-type]
            raise UnusableInputError(
                f"sheet '{part.name}' repeats long shared strings (string {index} is about "
                f"{known[index]:,} characters) in so many cells that reading it would take "
                f"about {total // (1 << 20):,} MiB of text (limit {limit // (1 << 20):,} MiB)",
                code="unsafe-workbook", where=self.name)


def _as_indexes(digits: list[bytes]) -> pl.Series:
    """Shared-string indexes captured as digit strings -> an Int64 series (in Rust, not a
    Python loop: a 1M-line sheet has millions of them)."""
    import polars as pl

    return pl.Series("index", digits, dtype=pl.Binary).cast(pl.String).cast(pl.Int64, strict=False)


def rows_out_of_order(rows: list[int], last_row: int) -> bool:
    """True unless ``rows`` rise strictly, starting above ``last_row`` (the previous chunk's)."""
    return bool(rows) and (rows[0] <= last_row or any(map(operator.ge, rows, rows[1:])))


# A tag with an attribute in single quotes or with spaces around its "=" (text between tags
# is never touched: a tag cannot hold "<", and text cannot hold a raw "<"). The XML declaration
# is not one: ElementTree, for one, writes it in single quotes before double-quoted tags.
_ODD_TAG = re.compile(rb"<[^<>?!][^<>]*(?:'|\s=|=\s)[^<>]*>")
_ATTRIBUTE = re.compile(rb"""(\s[\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


_SNIFF = 64 << 10  # bytes at a sheet's start that show how its writer writes attributes


def _plain_attributes(tag: re.Match[bytes]) -> bytes:
    """The tag with every attribute written as ``name="value"``."""
    return _ATTRIBUTE.sub(_plain_attribute, tag.group(0))


def _plain_attribute(attr: re.Match[bytes]) -> bytes:
    double, single = attr.group(2), attr.group(3)
    value = double if double is not None else single.replace(b'"', b"&quot;")
    return attr.group(1) + b'="' + value + b'"'


def _requote(chunk: bytes) -> bytes:
    """``chunk`` with the tags that hold a single quote rewritten; an apostrophe in text (the
    usual kind) costs a look back for the nearest tag, not a pass over the chunk."""
    parts: list[bytes] = []
    start = 0
    pos = chunk.find(b"'")
    while pos >= 0:
        opened = chunk.rfind(b"<", start, pos)
        if opened >= 0 and chunk.rfind(b">", opened, pos) < 0:  # the quote is inside a tag
            closed = chunk.find(b">", pos)
            if closed < 0:
                break
            parts.append(chunk[start:opened])
            parts.append(_ATTRIBUTE.sub(_plain_attribute, chunk[opened:closed + 1]))
            start = closed + 1
            pos = chunk.find(b"'", start)
        else:
            pos = chunk.find(b"'", pos + 1)
    parts.append(chunk[start:])
    return b"".join(parts)


def _cell_name(ref: re.Match[bytes] | None) -> str:
    return (ref.group(1) + ref.group(2)).decode() if ref else "(unknown)"


_SI_START = re.compile(rb"<si[ >]")
_WORKSHEET = re.compile(r"xl/worksheets/[^/]+\.xml")
_ROW_TAG = re.compile(rb"<row\b([^>]*)>")
_R_ATTR = re.compile(rb"\br=\"(\d+)\"")
_HIDDEN = re.compile(rb"\bhidden=\"(?:1|true)\"")
_CELL_REF = re.compile(rb"<c\b[^>]*?\br=\"([A-Z]+\d+)\"")
_ROW_R = re.compile(rb"<row\b[^>]*?\br=\"(\d+)\"")
_HIDDEN_ROW = re.compile(rb"<row\b(?=[^>]*\bhidden=\"(?:1|true)\")[^>]*?\br=\"(\d+)\"")
_DIGITS = b"0123456789"
_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_REF = re.compile(rb"\br=\"([A-Z]+)(\d+)\"")
_STYLE = re.compile(rb"\bs=\"(\d+)\"")
_ERROR_CELL = re.compile(rb"<c\b([^>]*\bt=\"e\"[^>]*)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?"
                         rb"<v>([^<]*)</v>")
_FORMULA_NO_VALUE = re.compile(rb"<c\b([^>]*)>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)"
                               rb"(?:<v\s*/>|(<v>\s*</v>))?</c>")
_FORMULA_CELL = re.compile(rb"<c\b([^>]*)><f\b")
_MERGE = re.compile(rb"<mergeCell\b[^>]*\bref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")
_COL_TAG = re.compile(rb"<col\b([^>]*)/?>")
_MIN = re.compile(rb"\bmin=\"(\d+)\"")
_MAX = re.compile(rb"\bmax=\"(\d+)\"")
_SST_NEGATIVE = re.compile(rb"<c\b([^>]*\bt=\"s\"[^>]*)>\s*<v>\s*-")
_SST_INDEX = re.compile(rb"<c\b[^>]*\bt=\"s\"[^>]*>\s*<v>\s*(\d+)\s*</v>")
_VALUED_CELL = re.compile(rb"<c\b[^>]*?\br=\"([A-Z]+)(\d+)\"[^>]*?(?<!/)>"
                          rb"(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?<(?:v|is)\b")
_ANY_REF = re.compile(rb"<(?:c|row)\b[^>]*?\br=\"([A-Z]*)(\d+)\"")


def _styled_cell_pattern(styles: set[int]) -> re.Pattern[bytes] | None:
    if not styles:
        return None
    ids = b"|".join(str(s).encode() for s in sorted(styles))
    return re.compile(rb"<c\b([^>]*?\bs=\"(?:" + ids + rb")\"[^>]*)>")


def _sst_out_of_range_pattern(count: int) -> re.Pattern[bytes]:
    """Cells whose shared-string index may be >= ``count`` (the caller checks the number)."""
    if count <= 0:
        digits = rb"\d+"
    else:
        text = str(count)
        first = int(text[0])
        more = len(text)
        digits = rb"\d{%d,}|[%d-9]\d{%d}" % (more + 1, first, more - 1)
    return re.compile(rb"\bt=\"s\"[^>]*>\s*<v>\s*(" + digits + rb")\s*</v>")


def _blocks(pieces: Iterator[bytes], size: int, sep: bytes | None = None, *,
            after: bool = False) -> Iterator[bytes]:
    """Join inflated pieces (about 1 MiB each) into blocks of about ``size`` bytes.

    With ``sep``, a block ends just before the last ``sep`` of its newest piece (just after it
    with ``after``); a block whose newest piece holds none grows by another piece. Only whole
    occurrences are cut at, so none straddles two blocks. Cutting inside the newest piece, not
    the joined block, copies each byte about once instead of three times (a 1M-line sheet is
    450 MB, read twice).
    """
    held: list[bytes] = []
    count = 0
    for piece in pieces:
        held.append(piece)
        count += len(piece)
        if count < size:
            continue
        if sep is None:
            yield b"".join(held)
            held, count = [], 0
            continue
        cut = piece.rfind(sep)
        if cut >= 0 and after:
            cut += len(sep)
        if cut < 0 or (cut == 0 and len(held) == 1):  # nothing to end a block with yet
            continue
        held[-1] = piece[:cut]
        yield b"".join(held)
        rest = piece[cut:]
        held, count = ([rest], len(rest)) if rest else ([], 0)
    if held:
        yield b"".join(held)


def _hidden_columns(chunk: bytes) -> list[tuple[int, int]]:
    head = chunk[: chunk.find(b"<sheetData")] if b"<sheetData" in chunk else b""
    out = []
    for match in _COL_TAG.finditer(head):
        attrs = match.group(1)
        if _HIDDEN.search(attrs):
            lo, hi = _MIN.search(attrs), _MAX.search(attrs)
            if lo and hi:
                out.append((int(lo.group(1)), int(hi.group(1))))
    return out


_BARE_TAG = re.compile(rb"<(?:c|row)/?>")


def _needs_numbering(chunk: bytes, refs: list[bytes], row_refs: list[bytes]) -> bool:
    """True when some row or cell lacks its ``r`` reference (positional XML)."""
    if _BARE_TAG.search(chunk):
        return True
    return chunk.count(b"<c ") != len(refs) or chunk.count(b"<row ") != len(row_refs)


_POSITIONAL = re.compile(rb"<(row|c)\b([^>]*?)(/?)>")


def _number_cells(chunk: bytes, state: dict[str, int]) -> bytes:
    """Give every row and cell an explicit reference, as the reader numbers them."""
    from compliance.findings import column_letter

    def fix(match: re.Match[bytes]) -> bytes:
        tag, attrs, close = match.groups()
        if tag == b"row":
            ref = _R_ATTR.search(attrs)
            state["row"] = int(ref.group(1)) if ref else state["row"] + 1
            state["col"] = 0
            if ref:
                return match.group(0)
            return b'<row r="%d"%s%s>' % (state["row"], attrs, close)
        ref = _REF.search(attrs)
        if ref:
            state["col"] = column_index(ref.group(1).decode())
            return match.group(0)
        state["col"] += 1
        letters = column_letter(state["col"] - 1).encode()
        return b'<c r="%s%d"%s%s>' % (letters, state["row"], attrs, close)

    return _POSITIONAL.sub(fix, chunk)


def _first_beyond_grid(chunks: Iterator[bytes]) -> str | None:
    for chunk in chunks:
        for match in _ANY_REF.finditer(chunk):
            letters, digits = match.group(1).decode(), int(match.group(2))
            if digits > EXCEL_MAX_ROW or (letters and column_index(letters) > EXCEL_MAX_COL):
                return f"{letters or 'row '}{digits}"
    return None


def _valued_box(chunks: Iterator[bytes]):  # type: ignore[no-untyped-def]
    r1 = c1 = 10**9
    r2 = c2 = 0
    far = None
    far_score = -1
    for chunk in chunks:
        for match in _VALUED_CELL.finditer(chunk):
            col = column_index(match.group(1).decode())
            row = int(match.group(2))
            r1, r2, c1, c2 = min(r1, row), max(r2, row), min(c1, col), max(c2, col)
            if row * col > far_score:
                far_score = row * col
                far = (match.group(1) + match.group(2)).decode()
    if r2 == 0:
        return None
    return (r1, c1), (r2, c2), far


def _xml_text(raw: bytes) -> str:
    return (raw.decode("utf-8", "replace").replace("&lt;", "<").replace("&gt;", ">")
            .replace("&amp;", "&"))


def open_package(data: bytes, name: str, limits: Limits, *, defer_sheets: bool = False
                 ) -> Package:
    """Open the zip, check it against ``limits`` and read the workbook's structure.

    With ``defer_sheets``, worksheet parts are verified (size, CRC, no DTD) as they are first
    scanned instead of here, so a large sheet is inflated once for both; the caller must scan
    every sheet it loads and call :meth:`Package.verify_rest` before it returns.
    """
    require_safe_xml()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise UnusableInputError("the file is a damaged or truncated zip archive",
                                 code="not-a-workbook", where=name) from None
    check_archive(zf, name, limits, data)
    deferred = frozenset(n for n in zf.namelist() if _WORKSHEET.fullmatch(n)) if defer_sheets \
        else frozenset()
    verify_members(zf, data, name, limits, skip=deferred)
    try:
        workbook = _parse_xml(zf, "xl/workbook.xml", name)
        if workbook.tag.startswith("{" + _NS_STRICT):
            raise UnusableInputError(
                "this is a Strict Open XML Spreadsheet, which the reader does not support; in "
                "Excel use File > Save As > Excel Workbook (.xlsx)", code="not-a-workbook",
                where=name)
        if not workbook.tag.startswith(_NS_MAIN):
            raise UnusableInputError(
                f"xl/workbook.xml is not a SpreadsheetML workbook (root {workbook.tag[:80]})",
                code="unreadable-workbook", where=name)
        rels, types = _relationships(zf, "xl/_rels/workbook.xml.rels", name)
        members = {n.casefold(): n for n in zf.namelist()}
        sheets: list[SheetPart] = []
        sheets_el = workbook.find(f"{_NS_MAIN}sheets")
        listed = [] if sheets_el is None else list(sheets_el)
        if len(listed) > limits.max_sheets:
            raise UnusableInputError(f"the workbook has {len(listed)} sheets "
                                     f"(limit {limits.max_sheets})", code="unsafe-workbook",
                                     where=name)
        for el in listed:
            rid = el.get(f"{_NS_REL}id")
            target = rels.get(rid or "")
            sheet_name = el.get("name", "")
            state = el.get("state", "visible")
            if target is None:
                sheets.append(SheetPart(sheet_name, "", state, present=False))
                continue
            real = members.get(target.casefold())
            sheets.append(SheetPart(sheet_name, real or target, state, present=real is not None))
        pr = workbook.find(f"{_NS_MAIN}workbookPr")
        date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
        calc = workbook.find(f"{_NS_MAIN}calcPr")
        recalc = calc is not None and calc.get("fullCalcOnLoad", "0").lower() in ("1", "true")
        styles_path = next((t for r, t in rels.items() if types.get(r, "").endswith("/styles")),
                           "xl/styles.xml")
        styles_path = members.get(styles_path.casefold(), styles_path)
        percent, strike = (_styles(zf, styles_path, name) if styles_path in zf.namelist()
                           else (frozenset(), frozenset()))
        sst = next((t for r, t in rels.items() if types.get(r, "").endswith("/sharedStrings")),
                   "xl/sharedStrings.xml")
        sst = members.get(sst.casefold())
        macros = "xl/vbaproject.bin" in members or b"macroEnabled" in _content_types(zf)
    except UnusableInputError:
        raise
    except Exception as exc:  # malformed XML in a structural part: the package is unusable
        raise UnusableInputError(f"the workbook structure cannot be read ({exc})",
                                 code="unreadable-workbook", where=name) from None
    return Package(zf, sheets, date1904, percent, strike, macros=macros, recalc_on_load=recalc,
                   shared_strings=sst, name=name, limits=limits, data=data,
                   unverified=set(deferred))


def _content_types(zf: zipfile.ZipFile) -> bytes:
    try:
        return zf.read("[Content_Types].xml")
    except KeyError:
        return b""


def _parse_xml(zf: zipfile.ZipFile, member: str, name: str):  # type: ignore[no-untyped-def]
    try:
        raw = zf.read(member)
    except KeyError:
        raise UnusableInputError(f"the workbook lacks its part {member}",
                                 code="unreadable-workbook", where=name) from None
    try:
        return SafeET.fromstring(raw, forbid_dtd=True)  # type: ignore[union-attr]
    except Exception as exc:
        if type(exc).__module__.startswith("defusedxml"):
            raise UnusableInputError(f"{member} holds hostile XML ({exc})",
                                     code="unsafe-workbook", where=name) from None
        raise UnusableInputError(f"{member} is not well-formed XML ({exc}); the file is damaged",
                                 code="unreadable-workbook", where=name) from None


def _relationships(zf: zipfile.ZipFile, member: str, name: str
                   ) -> tuple[dict[str, str], dict[str, str]]:
    root = _parse_xml(zf, member, name)
    base = posixpath.dirname(posixpath.dirname(member))  # xl/_rels/x.rels -> xl
    out: dict[str, str] = {}
    types: dict[str, str] = {}
    for rel in root.iter(f"{_NS_PKG_REL}Relationship"):
        target = rel.get("Target", "")
        if target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join(base, target))
        out[rel.get("Id", "")] = path
        types[rel.get("Id", "")] = rel.get("Type", "")
    return out, types


def _styles(zf: zipfile.ZipFile, member: str, name: str
            ) -> tuple[frozenset[int], frozenset[int]]:
    """Cell style indexes that show a percentage, and those whose font is struck through."""
    root = _parse_xml(zf, member, name)
    custom_percent: set[int] = set()
    num_fmts = root.find(f"{_NS_MAIN}numFmts")
    if num_fmts is not None:
        for fmt in num_fmts:
            code = re.sub(r'"[^"]*"|\\.', "", fmt.get("formatCode", ""))
            if "%" in code:
                custom_percent.add(_int(fmt.get("numFmtId"), -1))
    struck_fonts: set[int] = set()
    fonts = root.find(f"{_NS_MAIN}fonts")
    if fonts is not None:
        for index, font in enumerate(fonts):
            strike = font.find(f"{_NS_MAIN}strike")
            if strike is not None and strike.get("val", "1").lower() not in ("0", "false"):
                struck_fonts.add(index)
    xfs = root.find(f"{_NS_MAIN}cellXfs")
    percent: set[int] = set()
    strike_styles: set[int] = set()
    if xfs is not None:
        for index, xf in enumerate(xfs):
            fmt_id = _int(xf.get("numFmtId"), 0)
            if fmt_id in _BUILTIN_PERCENT or fmt_id in custom_percent:
                percent.add(index)
            if _int(xf.get("fontId"), 0) in struck_fonts:
                strike_styles.add(index)
    return frozenset(percent), frozenset(strike_styles)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default

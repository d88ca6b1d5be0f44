"""The scan's fast path (compliance.reader.quick_scan) agrees with the exact scan.

Every workbook in the hardening corpus and in fixtures/ is scanned both ways, sheet by sheet:
the findings must be identical, and a sheet the exact scan refuses must be refused by the fast
path too (before the load or when the reader fails, as ``read_bom`` would). Hand-made sheets
then check which path each irregularity takes, so the fast path cannot quietly become the
exact scan for everything (which would pass the comparison and lose the speed).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import fastexcel
import pytest

from compliance.errors import UnusableInputError
from compliance.reader import quick_scan
from compliance.reader.limits import DEFAULT_LIMITS
from compliance.reader.package import Package, SheetPart, SheetScan, open_package

ROOT = Path(__file__).resolve().parents[1]
WORKBOOKS = sorted([*(ROOT / "tests" / "corpus" / "files").glob("*.xlsx"),
                    *(ROOT / "fixtures").rglob("*.xlsx")])
FIELDS = ("error_cells", "formulas_without_value", "row_order_problems", "percent_cells",
          "duplicate_cells", "struck_cells", "hidden_rows", "hidden_columns", "merged",
          "formula_columns")


def _fast(package: Package, part: SheetPart, data: bytes) -> SheetScan:
    """The three steps as read_bom runs them, the load included."""
    scan = quick_scan.preflight(package, part, want_percent=True)
    quick_scan.findings(package, part, scan, want_percent=True)
    try:
        grid = fastexcel.read_excel(data).load_sheet(part.name, header_row=None, skip_rows=0,
                                                     dtypes="string").to_polars()
    except Exception:
        quick_scan.explain_failure(package, part, want_percent=True)
        raise
    values = grid.height * grid.width - sum(grid.null_count().row(0))
    quick_scan.confirm(package, part, scan, want_percent=True, values=values)
    return scan


def _outcome(run):  # type: ignore[no-untyped-def]
    try:
        scan = run()
    except UnusableInputError as exc:
        return ("refused", exc.code, str(exc))
    except Exception as exc:  # the reader's own failure: read_bom turns it into a finding
        return ("reader failed", type(exc).__name__)
    return tuple(sorted(getattr(scan, f)) if isinstance(getattr(scan, f), set | list)
                 else getattr(scan, f) for f in FIELDS)


@pytest.mark.parametrize("path", WORKBOOKS, ids=lambda p: p.name)
def test_fast_path_agrees_with_exact_scan(path: Path) -> None:
    data = path.read_bytes()
    try:
        open_package(data, path.name, DEFAULT_LIMITS)
    except (UnusableInputError, Exception):
        pytest.skip("refused before any sheet is scanned")
    exact_pkg = open_package(data, path.name, DEFAULT_LIMITS)
    fast_pkg = open_package(data, path.name, DEFAULT_LIMITS, defer_sheets=True)
    for part in exact_pkg.sheets:
        if not part.present:
            continue
        exact = _outcome(lambda p=part: exact_pkg.scan_exact(p, want_percent=True))
        fast_part = fast_pkg.sheet(part.name)
        fast = _outcome(lambda p=fast_part: _fast(fast_pkg, p, data))
        if exact[0] == "refused":
            assert fast[:2] == exact[:2], part.name
        elif fast[0] == "reader failed":
            continue  # the exact scan has nothing to add: read_bom reports the reader's error
        else:
            assert fast == exact, part.name


def _book(rows_xml: str) -> bytes:
    """A one-sheet workbook whose sheet XML is exactly ``rows_xml`` inside sheetData."""
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main"><sheetData>' + rows_xml
             + "</sheetData></worksheet>")
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships">')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
                   'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/></Types>')
        z.writestr("_rels/.rels", rels + '<Relationship Id="rId1" Type="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.'
                   'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
                   'name="s" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", rels + '<Relationship Id="rId1" Type="http://'
                   'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                   'Target="worksheets/sheet1.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return buf.getvalue()


def _rows(n: int, extra: str = "") -> str:
    body = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="inlineStr"><is><t>'
                   f"x{r}</t></is></c></row>" for r in range(1, n + 1))
    return body + extra


def _paths(xml: str, monkeypatch: pytest.MonkeyPatch) -> tuple[SheetScan, list[str]]:
    """Run the fast path on a hand-made sheet; say where the exact scan was called from."""
    data = _book(xml)
    package = open_package(data, "t.xlsx", DEFAULT_LIMITS, defer_sheets=True)
    calls: list[str] = []
    exact = Package.scan_exact

    def spy(self, part, *, want_percent):  # type: ignore[no-untyped-def]
        import inspect
        calls.append(inspect.stack()[1].function)
        return exact(self, part, want_percent=want_percent)

    monkeypatch.setattr(Package, "scan_exact", spy)
    return _fast(package, package.sheets[0], data), calls


def test_a_regular_sheet_never_needs_the_exact_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    scan, calls = _paths(_rows(3000), monkeypatch)
    assert calls == []
    assert scan.valued == 6000 and not scan.complete


def test_a_duplicate_cell_is_caught_by_the_value_count(monkeypatch: pytest.MonkeyPatch) -> None:
    xml = _rows(5).replace('<c r="A3"><v>3</v></c>', '<c r="A3"><v>3</v></c><c r="A3"><v>9</v></c>')
    scan, calls = _paths(xml, monkeypatch)
    assert calls == ["confirm"]
    assert scan.duplicate_cells == [("A", 3)]


def test_rows_out_of_order_are_found_while_the_sheet_loads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    scan, calls = _paths(_rows(4) + '<row r="2"><c r="C2"><v>1</v></c></row>', monkeypatch)
    assert calls == ["findings"]
    assert scan.row_order_problems == [(4, 2)]


def test_unnumbered_cells_go_to_the_exact_scan_before_the_load(
        monkeypatch: pytest.MonkeyPatch) -> None:
    scan, calls = _paths('<row r="1"><c><v>1</v></c><c><v>2</v></c></row>', monkeypatch)
    assert calls == ["preflight"]
    assert scan.complete


def test_unnumbered_rows_are_found_while_the_sheet_loads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    scan, calls = _paths(_rows(3) + '<row><c r="A4"><v>4</v></c></row>', monkeypatch)
    assert calls == ["findings"]
    assert scan.complete and scan.row_order_problems == []


def test_error_cells_and_formulas_without_values_stay_on_the_fast_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    xml = _rows(3, '<row r="4"><c r="A4" t="e"><v>#REF!</v></c><c r="B4"><f>A1*2</f></c></row>')
    scan, calls = _paths(xml, monkeypatch)
    assert calls == []
    assert scan.error_cells == [("A", 4, "#REF!")]
    assert scan.formulas_without_value == [("B", 4)]


def test_a_far_cell_in_a_late_chunk_is_seen_before_the_load(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the first rows only the ``_irregular_cells`` pattern looks at cell references: a
    stray cell at XFD1048576 deep in the sheet must still be refused before the reader
    allocates."""
    filler = _rows(120_000)  # more than one 8 MiB chunk of XML
    assert len(filler) > 8 << 20
    xml = filler.replace('<row r="119000">', '<row r="119000"><c r="XFD1048576"><v>1</v></c>', 1)
    with pytest.raises(UnusableInputError) as info:
        _paths(xml, monkeypatch)
    assert info.value.code == "unsafe-workbook" and "XFD1048576" in str(info.value)


@pytest.mark.parametrize(("bound", "ref", "hit"), [
    (("N", 7), "N999999", False), (("N", 7), "N1000001", True), (("N", 7), "O5", True),
    (("N", 7), "AA5", True), (("N", 6), "A100000", True), (("N", 6), "A99999", False),
    (("AB", 7), "AC1", True), (("AB", 7), "BA1", True), (("AB", 7), "Z100", False),
    (("AB", 7), "AB99", False), (("AB", 7), "AAA1", True), (("Z", 7), "Z9", False),
    (("Z", 7), "AA9", True), (("", 2), "A1", True),
])
def test_the_beyond_pattern_matches_exactly_the_cells_past_the_bounds(
        bound: tuple[str, int], ref: str, hit: bool) -> None:
    pattern = quick_scan._irregular_cells(*bound)
    assert (pattern.search(f'<c r="{ref}" t="s">'.encode()) is not None) is hit


@pytest.mark.parametrize("tag", [
    '<c r="N5" t="s">', '<c r="O5">', '<c r="AA5">', '<c r="A1000002">', '<c>', '<c/>',
    '<c t="s" r="A1">', "<c r='A1'>", '<c  r="A1">', '<c r="A99">', '<col min="1"/>',
    '<cfRule type="x">', '<c r="A999999" s="2">', '<c\tr="A1">', '<c\nr="O1">',
])
def test_the_polars_count_finds_whatever_the_byte_pattern_finds(tag: str) -> None:
    chunk = f'<row r="5">{tag}<v>1</v></c></row>'.encode()
    python = len(quick_scan._irregular_cells("N", 7).findall(chunk))
    polars_count, _ = quick_scan._counts(chunk, "N", 7)
    assert (polars_count > 0) is (python > 0)


def test_a_chunk_that_is_not_utf8_is_left_to_the_byte_patterns() -> None:
    chunk = b'<row r="5"><c r="A5" t="s"><v>1</v></c><c r="B5" t="inlineStr"><is><t>\xff</t>'
    assert quick_scan._counts(chunk + b"</is></c></row>", "N", 7) == (1, 1)


def test_a_chunk_is_counted_in_pieces_cut_after_whole_rows() -> None:
    rows = [f'<row r="{r}"><c r="A{r}" t="s"><v>{r}</v></c></row>'.encode()
            for r in range(1, 401)]
    rows[337] = b'<row r="338"><c r="A338" t="s"><v>1</v></c><c r="Q338"><v>2</v></c></row>'
    chunk = b"".join(rows)
    pieces = quick_scan._row_pieces(chunk)
    assert len(pieces) == quick_scan._PIECES
    assert b"".join(pieces) == chunk
    assert all(p.endswith(b"</row>") for p in pieces)
    assert quick_scan._counts(chunk, "N", 7) == (1, 400)  # Q338 lies in the last piece
    assert quick_scan._row_pieces(b'<row r="1"></row>') == [b'<row r="1"></row>']


@pytest.mark.parametrize("after", [True, False])
def test_blocks_cut_only_at_whole_separators(after: bool) -> None:
    import random

    from compliance.reader.package import _blocks

    rng = random.Random(7)
    data = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, rng.randrange(10**6))
                    for i in range(1, 3000))
    cuts = sorted(rng.sample(range(1, len(data)), 60))  # pieces that split tags anywhere
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    blocks = list(_blocks(iter(pieces), 4096, b"</row>", after=after))
    assert b"".join(blocks) == data
    assert sum(b.count(b"</row>") for b in blocks) == data.count(b"</row>")
    for block in blocks[:-1]:
        assert block.endswith(b"</row>") if after else True
    for block in blocks[1:]:
        assert after or block.startswith(b"</row>")
    assert len(blocks) > 10
    plain = list(_blocks(iter(pieces), 4096))
    assert b"".join(plain) == data and all(len(b) >= 4096 for b in plain[:-1])

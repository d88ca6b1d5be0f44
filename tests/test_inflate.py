"""compliance.reader.inflate: isal and its zlib fallback read every member alike.

Each case is read twice, once with ``isal.isal_zlib`` and once with the module reloaded while
``isal`` cannot be imported (the fallback a platform without an isal wheel gets), and both give
the same bytes and the same refusal: in the verifying first reading
(:func:`~compliance.reader.limits.verified_pieces`), in a later reading
(:meth:`~compliance.reader.package.Package.iter_member`) and through ``read_bom``. Sheets are
built both small (inflated on the caller's thread) and large (inflated on the prefetch thread).
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from loading import load_module

from compliance.errors import UnusableInputError
from compliance.reader import inflate
from compliance.reader.bom import read_bom
from compliance.reader.limits import DEFAULT_LIMITS, verified_pieces
from compliance.reader.package import open_package

pytest.importorskip("isal.isal_zlib")

HERE = Path(__file__).resolve().parent
SHEET = "xl/worksheets/sheet3.xml"  # the minerals sheet


maker = load_module("corpus_maker", HERE / "corpus" / "make_corpus.py")


def _members(lines: int) -> dict[str, bytes]:
    """A valid workbook's members whose minerals sheet has ``lines`` lines."""
    sheets = maker.good_sheets()
    rows = [list(maker.MINERALS_HEAD)]
    rows += [maker.mineral("B1", f"M{i}", "lithium", 800 + i % 97, 9.4 + i % 13)
             for i in range(1, lines + 1)]
    sheets["minerals"] = maker.sheet_xml(rows)
    return maker.package(sheets)


SMALL = _members(2)
LARGE = _members(8_000)  # about 6 MiB of sheet XML: inflated on the prefetch thread


def _zip(members: dict[str, bytes], *, stored: bool = False,
         alter: Callable[[bytes], bytes] | None = None, crc: int | None = None,
         declared: int | None = None) -> bytes:
    """A zip of ``members``, written byte by byte so the minerals sheet's compressed data
    (``alter``), CRC and declared size can be forged."""
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    out = bytearray()
    central = bytearray()
    for name, data in members.items():
        if stored:
            raw = data
        else:
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            raw = packer.compress(data) + packer.flush()
        check, size = zlib.crc32(data), len(data)
        if name == SHEET:
            raw = alter(raw) if alter else raw
            check = check if crc is None else crc
            size = size if declared is None else declared
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 33, check, len(raw),
                           size, len(encoded), 0) + encoded + raw
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 33, check,
                               len(raw), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    start = len(out)
    out += central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                                 len(central), start, 0)
    return bytes(out)


def _error(exc: BaseException | None) -> tuple[str, str, str] | None:
    if exc is None:
        return None
    return type(exc).__name__, getattr(exc, "code", ""), str(exc)


def _drain(blocks: Iterator[bytes]) -> tuple[bytes, tuple[str, str, str] | None]:
    """The bytes ``blocks`` yields and the error that ends it (None at a clean end)."""
    got: list[bytes] = []
    try:
        for block in blocks:
            got.append(block)
    except Exception as exc:
        return b"".join(got), _error(exc)
    return b"".join(got), None


def _readings(data: bytes) -> dict[str, Any]:
    """What each reading of the minerals sheet gives."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    first = _drain(verified_pieces(zf.getinfo(SHEET), data, "t.xlsx"))
    package = open_package(data, "t.xlsx", DEFAULT_LIMITS, defer_sheets=True)
    later = _drain(package.iter_member(SHEET))
    return {"first": first, "later": later, "declared": zf.getinfo(SHEET).file_size}


def _read_bom(data: bytes) -> Any:
    try:
        bom = read_bom(data, name="t.xlsx")
    except UnusableInputError as exc:
        return _error(exc)
    return sorted(f.code for f in bom.findings), bom.minerals.height


@contextmanager
def _zlib_fallback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Reload the module while isal cannot be imported, as where it has no wheel."""
    try:
        with monkeypatch.context() as patch:
            patch.setitem(sys.modules, "isal", None)
            patch.setitem(sys.modules, "isal.isal_zlib", None)
            importlib.reload(inflate)
            assert inflate.backend is zlib
            yield
    finally:
        importlib.reload(inflate)


def _alike(monkeypatch: pytest.MonkeyPatch, read: Callable[[], Any]) -> Any:
    """``read()`` with isal and with the zlib fallback; they must agree."""
    assert inflate.backend.__name__ == "isal.isal_zlib"
    fast = read()
    with _zlib_fallback(monkeypatch):
        slow = read()
    assert inflate.backend.__name__ == "isal.isal_zlib"
    assert fast == slow
    return fast


@pytest.mark.parametrize("members", [SMALL, LARGE], ids=["small", "large"])
def test_a_normal_member_reads_alike(monkeypatch: pytest.MonkeyPatch,
                                     members: dict[str, bytes]) -> None:
    data = _zip(members)
    got = _alike(monkeypatch, lambda: _readings(data))
    assert got["first"] == (members[SHEET], None)
    assert got["later"] == (members[SHEET], None)


def test_a_normal_workbook_audits_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    _, lines = _alike(monkeypatch, lambda: _read_bom(_zip(SMALL)))
    assert lines == 2


@pytest.mark.parametrize("members", [SMALL, LARGE], ids=["small", "large"])
def test_a_truncated_stream_is_refused_alike(monkeypatch: pytest.MonkeyPatch,
                                             members: dict[str, bytes]) -> None:
    data = _zip(members, alter=lambda raw: raw[: len(raw) * 2 // 3])
    got = _alike(monkeypatch, lambda: _readings(data))
    for reading in ("first", "later"):
        read, error = got[reading]
        assert error is not None and error[1] == "unreadable-workbook", error
        assert "cut short" in error[2]
        assert members[SHEET].startswith(read)
    assert _alike(monkeypatch, lambda: _read_bom(data))[1] == "unreadable-workbook"


@pytest.mark.parametrize("members", [SMALL, LARGE], ids=["small", "large"])
def test_a_corrupt_stream_is_refused_alike(monkeypatch: pytest.MonkeyPatch,
                                           members: dict[str, bytes]) -> None:
    """Half the sheet, then a block of the reserved type 3: the inflater raises its own error
    (``isal_zlib.error`` or ``zlib.error``) mid-stream, and the reader refuses the member."""
    xml = members[SHEET]

    def corrupt(_: bytes) -> bytes:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        half = packer.compress(xml[: len(xml) // 2]) + packer.flush(zlib.Z_FULL_FLUSH)
        return half + b"\x06" + bytes(range(256)) * 4

    data = _zip(members, alter=corrupt)
    with pytest.raises(inflate.error):
        inflate.raw_inflater().decompress(corrupt(b""))
    got = _alike(monkeypatch, lambda: _readings(data))
    for reading in ("first", "later"):
        read, error = got[reading]
        assert error is not None and error[1] == "unreadable-workbook", error
        assert "cut short" in error[2]
        assert xml.startswith(read)
    assert len(got["first"][0]) <= len(xml) // 2  # what the failing call inflated is lost


@pytest.mark.parametrize("members", [SMALL, LARGE], ids=["small", "large"])
def test_a_wrong_crc_is_refused_alike(monkeypatch: pytest.MonkeyPatch,
                                      members: dict[str, bytes]) -> None:
    data = _zip(members, crc=zlib.crc32(members[SHEET]) ^ 1)
    got = _alike(monkeypatch, lambda: _readings(data))
    for reading in ("first", "later"):
        read, error = got[reading]
        # The CRC is known only at the end: every byte was read, and then it is refused (a
        # later reading raises the reader's error, not zipfile's BadZipFile).
        assert error == ("UnusableInputError", "unreadable-workbook",
                         f"t.xlsx: {SHEET} fails its checksum (damaged file)")
        assert members[SHEET].startswith(read)
    assert _alike(monkeypatch, lambda: _read_bom(data))[1] == "unreadable-workbook"


@pytest.mark.parametrize("members", [SMALL, LARGE], ids=["small", "large"])
def test_a_member_inflating_beyond_its_size_is_refused_alike(
        monkeypatch: pytest.MonkeyPatch, members: dict[str, bytes]) -> None:
    declared = len(members[SHEET]) // 2
    data = _zip(members, declared=declared)
    got = _alike(monkeypatch, lambda: _readings(data))
    assert got["declared"] == declared
    for reading in ("first", "later"):
        read, error = got[reading]
        assert error is not None and error[1] == "unsafe-workbook", error
        assert "inflates beyond" in error[2]
        # Nothing past the declared size is ever handed on (zipfile used to cut it silently).
        assert len(read) <= declared
        assert members[SHEET].startswith(read)
    outcome = _alike(monkeypatch, lambda: _read_bom(data))
    assert outcome[1] == "unsafe-workbook" and "inflates beyond" in outcome[2]


@pytest.mark.parametrize("members", [SMALL, LARGE], ids=["small", "large"])
def test_a_stored_member_reads_alike(monkeypatch: pytest.MonkeyPatch,
                                     members: dict[str, bytes]) -> None:
    data = _zip(members, stored=True)
    got = _alike(monkeypatch, lambda: _readings(data))
    assert got["first"] == (members[SHEET], None)
    assert got["later"] == (members[SHEET], None)
    forged = _zip(members, stored=True, crc=zlib.crc32(members[SHEET]) ^ 1)
    refused = _alike(monkeypatch, lambda: _readings(forged))
    for reading in ("first", "later"):
        read, error = refused[reading]
        assert members[SHEET].startswith(read)
        assert error is not None and "fails its checksum" in error[2]
    if members is SMALL:
        _, lines = _alike(monkeypatch, lambda: _read_bom(data))
        assert lines == 2


def test_the_fallback_is_zlib_and_isal_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    with _zlib_fallback(monkeypatch):
        assert inflate.error is zlib.error
        assert inflate.crc32(b"workbook") == zlib.crc32(b"workbook")
    assert inflate.backend.__name__ == "isal.isal_zlib"
    assert inflate.crc32(b"workbook", 7) == zlib.crc32(b"workbook", 7)
    assert inflate.raw_inflater().decompress(zlib.compress(b"x" * 100)[2:-4]) == b"x" * 100

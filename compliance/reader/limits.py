"""Safety limits for workbooks, checked on the zip directory before anything is inflated.

Two passes, both before any XML parser or the fast cell reader sees the package:

1. :func:`check_archive` reads only the zip directory: member count, names, declared sizes,
   compression ratios, compression methods, encryption flags, members that overlap (the
   "better zip bomb" trick) and a directory whose entry count disagrees with its records.
2. :func:`verify_members` inflates every member once, in bounded steps, straight from the raw
   bytes (with :mod:`compliance.reader.inflate`, not through :mod:`zipfile`, which silently
   stops at the declared size): a member that inflates beyond its declared size is a zip bomb
   and is refused the moment it does; the CRC must match; and no part may carry a
   ``<!DOCTYPE`` or ``<!ENTITY`` declaration, so neither ``defusedxml`` nor the fast cell
   reader is ever handed entity expansion or external entities.
"""

from __future__ import annotations

import itertools
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from compliance.errors import UnusableInputError
from compliance.reader import inflate
from compliance.reader.prefetch import prefetched


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a workbook may declare. Defaults fit a 1M-line BOM with room to spare."""

    max_file_bytes: int = 512 << 20
    max_uncompressed_bytes: int = 4 << 30
    max_member_bytes: int = 2 << 30
    max_members: int = 10_000
    max_ratio: int = 200  # uncompressed / compressed per member above 1 MiB
    max_sheets: int = 1_000
    max_rows: int = 5_000_000
    max_cells: int = 20_000_000  # cells in the rectangle a sheet's values span
    # Shared-string text a sheet's cells expand to. A legitimate 1M-line sheet (eight text
    # columns of up to ~60 characters) stays under this; a hostile sheet cannot make the reader
    # hold more text than that, so its memory stays that of a large real workbook (~1 GB).
    max_sheet_text_bytes: int = 512 << 20
    max_cell_chars: int = 32_767  # Excel's own limit for one cell


DEFAULT_LIMITS = Limits()

# Excel's grid: 1,048,576 rows and 16,384 columns (A-XFD).
EXCEL_MAX_ROW = 1_048_576
EXCEL_MAX_COL = 16_384

_ALLOWED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_EOCD = b"PK\x05\x06"
_STEP = 1 << 20  # inflate at most this much at a time
_PREFETCH_FROM = 4 << 20  # inflated size from which a member is inflated on its own thread


def _unsafe(message: str, name: str) -> UnusableInputError:
    return UnusableInputError(message, code="unsafe-workbook", where=name)


def _damaged(message: str, name: str) -> UnusableInputError:
    return UnusableInputError(message, code="unreadable-workbook", where=name)


def check_archive(zf: zipfile.ZipFile, name: str, limits: Limits,
                  data: bytes | None = None) -> None:
    """Refuse archives whose declared sizes, counts or ratios exceed ``limits``."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise _unsafe(f"the archive has {len(infos)} members (limit {limits.max_members})", name)
    seen: set[str] = set()
    total = 0
    for info in infos:
        folded = info.filename.replace("\\", "/").casefold()
        if folded in seen:
            raise _unsafe(
                f"the archive holds two members named {info.filename!r}; refusing an ambiguous "
                "workbook", name)
        seen.add(folded)
        if info.flag_bits & 0x1:
            raise UnusableInputError(
                f"{info.filename} is encrypted inside the zip archive; save an unprotected copy",
                code="encrypted-workbook", where=name)
        if info.compress_type not in _ALLOWED_METHODS:
            raise _damaged(
                f"{info.filename} uses zip compression method {info.compress_type}, which Excel "
                "does not write (only stored and deflate are read)", name)
        if info.file_size > limits.max_member_bytes:
            raise _unsafe(
                f"{info.filename} declares {info.file_size} bytes uncompressed "
                f"(limit {limits.max_member_bytes})", name)
        if (info.file_size > (1 << 20) and info.compress_size
                and info.file_size / info.compress_size > limits.max_ratio):
            raise _unsafe(
                f"{info.filename} expands {info.file_size // max(info.compress_size, 1)}-fold "
                f"(limit {limits.max_ratio}); this looks like a zip bomb", name)
        total += info.file_size
    if total > limits.max_uncompressed_bytes:
        raise _unsafe(
            f"the archive declares {total} bytes uncompressed "
            f"(limit {limits.max_uncompressed_bytes})", name)
    if data is not None:
        _check_layout(zf, data, name)


def _check_layout(zf: zipfile.ZipFile, data: bytes, name: str) -> None:
    """The directory must agree with itself and members must not share bytes."""
    end = data.rfind(_EOCD, max(0, len(data) - (1 << 16) - 22))
    if end >= 0 and len(data) >= end + 22:
        declared = struct.unpack_from("<H", data, end + 10)[0]
        if declared != 0xFFFF and declared != len(zf.infolist()):
            raise _unsafe(
                f"the archive's directory says it holds {declared} members but lists "
                f"{len(zf.infolist())}; refusing an inconsistent archive", name)
    spans = []
    for info in zf.infolist():
        start = _data_offset(info, data, name)
        spans.append((info.header_offset, start + info.compress_size, info.filename))
    spans.sort()
    for (_, end_a, name_a), (start_b, _, name_b) in itertools.pairwise(spans):
        if start_b < end_a:
            raise _unsafe(
                f"members {name_a} and {name_b} overlap in the archive (a zip-bomb technique)",
                name)


def _data_offset(info: zipfile.ZipInfo, data: bytes, name: str) -> int:
    offset = info.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(data):
        raise _damaged(f"{info.filename} points outside the file (truncated download?)", name)
    fields = _LOCAL_HEADER.unpack_from(data, offset)
    if fields[0] != b"PK\x03\x04":
        raise _damaged(f"{info.filename} has no local header where the directory says "
                       "(damaged or truncated file)", name)
    name_len, extra_len = fields[9], fields[10]
    raw_name = data[offset + 30: offset + 30 + name_len]
    expected = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437",
                                         "replace")
    if raw_name != expected:
        raise _unsafe(f"member {info.filename!r} has a different name in its local header "
                      f"({raw_name[:60]!r}); refusing an ambiguous archive", name)
    start = offset + 30 + name_len + extra_len
    if start + info.compress_size > len(data):
        raise _damaged(f"{info.filename} runs past the end of the file (truncated download?)",
                       name)
    return start


def _marker(word: str) -> bytes:
    # Matches the declaration in UTF-8 and in UTF-16 (either byte order).
    return rb"<\x00?!\x00?" + rb"\x00?".join(re.escape(c.encode()) for c in word)


_DTD = re.compile(_marker("DOCTYPE") + rb"|" + _marker("ENTITY"), re.IGNORECASE)
_OVERLAP = 32


def verify_members(zf: zipfile.ZipFile, data: bytes, name: str, limits: Limits,
                   skip: frozenset[str] = frozenset()) -> None:
    """Inflate each member once: true size, CRC and no DTD, before any parser runs.

    Members in ``skip`` are left to the caller, which must read them through
    :func:`verified_pieces` before anything else reads them (the sheet scan does, so a large
    sheet is inflated once for both the checks and the scan).
    """
    for info in zf.infolist():
        if not info.is_dir() and info.filename not in skip:
            verify_member(info, data, name)


def verify_member(info: zipfile.ZipInfo, data: bytes, name: str) -> None:
    """Inflate one member to its end, raising as :func:`verified_pieces` does."""
    for _ in verified_pieces(info, data, name):
        pass


def verified_pieces(info: zipfile.ZipInfo, data: bytes, name: str) -> Iterator[bytes]:
    """Yield a member's inflated bytes; raise as soon as it proves to be a bomb, a forgery or
    damaged (the CRC and the true size are known only at the end, so they raise last)."""
    start = _data_offset(info, data, name)
    raw = memoryview(data)[start: start + info.compress_size]
    crc = 0
    size = 0
    tail = b""
    if info.compress_type == zipfile.ZIP_STORED:
        pieces = (raw[i: i + _STEP].tobytes() for i in range(0, len(raw), _STEP))
        done = True
    else:
        inflating, state = _inflate(raw)
        # A large member inflates on another core while the caller scans it; a thread per
        # small member (a workbook may have thousands) would cost more than it saves.
        pieces = prefetched(inflating) if info.file_size > _PREFETCH_FROM else inflating
        done = False
    utf16 = None  # decided on the first piece: only a UTF-16 part can hide "<\0!"
    for piece in pieces:
        if utf16 is None:
            utf16 = piece[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in piece[:4]
        size += len(piece)
        if size > info.file_size:
            raise _unsafe(
                f"{info.filename} inflates beyond the {info.file_size} bytes it declares; "
                "this is a zip bomb or a forged archive", name)
        crc = inflate.crc32(piece, crc)
        # Every declaration holds a "!": sheet XML rarely does, and a one-byte search is far
        # cheaper than one for "<!" in text full of "<" (or than copying the piece into a
        # window), so only a window with a "!" is searched further. Every declaration starts
        # with "<!" (UTF-8) or "<\0!" (UTF-16): test those cheap substrings before running the
        # pattern over the whole window.
        if b"!" in piece or b"!" in tail:
            window = tail + piece
            if (b"<!" in window or (utf16 and b"<\x00!" in window)) and _DTD.search(window):
                raise _unsafe(
                    f"{info.filename} contains a DOCTYPE or ENTITY declaration; workbooks "
                    "never need one, and it can hide entity-expansion or external-entity "
                    "attacks", name)
        tail = piece[-_OVERLAP:] if len(piece) >= _OVERLAP else (tail + piece)[-_OVERLAP:]
        yield piece
    if not done and not state["eof"]:
        raise _damaged(f"{info.filename} is cut short (damaged or truncated file)", name)
    if size != info.file_size:
        raise _damaged(f"{info.filename} holds {size} bytes but declares {info.file_size} "
                       "(damaged file)", name)
    if crc != info.CRC:
        raise _damaged(f"{info.filename} fails its checksum (damaged file)", name)


def _inflate(raw: memoryview):  # type: ignore[no-untyped-def]
    state = {"eof": False}

    def gen():  # type: ignore[no-untyped-def]
        inflater = inflate.raw_inflater()
        try:
            for i in range(0, len(raw), _STEP):
                chunk = raw[i: i + _STEP].tobytes()
                while chunk:
                    out = inflater.decompress(chunk, _STEP)
                    if out:
                        yield out
                    chunk = inflater.unconsumed_tail
                    if inflater.eof:
                        state["eof"] = True
                        return
            rest = inflater.flush()
            if rest:
                yield rest
            state["eof"] = inflater.eof
        except inflate.error:
            state["eof"] = False
            return

    return gen(), state

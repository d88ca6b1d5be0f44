"""Say what a file really is, from its content, before any parser touches it.

The file's name is never trusted: a CSV renamed to ``.xlsx`` is still a CSV. Each message says
what the file is and what to do, so a person can fix the upload without guessing.
"""

from __future__ import annotations

import io
import zipfile

from compliance.errors import UnusableInputError

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def describe_non_xlsx(data: bytes, name: str) -> str | None:
    """Return why ``data`` is not an xlsx workbook, or None when it looks like one."""
    if not data:
        return "the file is empty (0 bytes); upload the workbook again"
    head = data[:512]
    if head.startswith(_OLE):
        return _describe_ole(data)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _describe_zip(data)
    if head.startswith(b"PK"):
        return "the file is a damaged zip archive (an incomplete download?)"
    lock = _describe_lock_file(data, name)
    if lock:
        return lock
    if head.startswith(b"%PDF"):
        return "this is a PDF document, not a spreadsheet; upload the .xlsx workbook itself"
    if head.startswith((b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")):
        return "this is a compressed archive (gzip, 7z or rar), not an .xlsx workbook"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ("this is a UTF-16 text file (Excel's 'Unicode Text' export); save the workbook "
                "as .xlsx instead")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head", b"<body")):
        return "this is an HTML page saved with a spreadsheet name; export a real .xlsx"
    if text.startswith(b"<?xml") or text.startswith(b"<"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in data[:4096]:
            return ("this is an Excel 2003 XML Spreadsheet; open it in Excel and save it as "
                    "Excel Workbook (.xlsx)")
        if b"<html" in data[:4096].lower():
            return "this is an HTML page saved with a spreadsheet name; export a real .xlsx"
        return "this is an XML file, not an .xlsx workbook; save it as .xlsx"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            # A cut multi-byte character at the end of the sample is still text.
            try:
                head[:-4].decode("utf-8")
            except UnicodeDecodeError:
                return "the file is not an Excel .xlsx workbook (unrecognised binary content)"
        if any(sep in head for sep in (b",", b";", b"\t")):
            return "this is a CSV or text file; save it as .xlsx with the template's sheets"
        return "this is a plain text file, not an .xlsx workbook"
    return "the file is not an Excel .xlsx workbook (unrecognised binary content)"


def _describe_ole(data: bytes) -> str:
    """Legacy Office files and password-protected xlsx are OLE compound files."""
    if _utf16("EncryptedPackage") in data or _utf16("EncryptionInfo") in data:
        return ("the workbook is password-protected (encrypted); remove the password in Excel "
                "(File > Info > Protect Workbook) and upload that copy")
    if _utf16("WordDocument") in data:
        return "this is a legacy Word .doc file, not a spreadsheet"
    if _utf16("PowerPoint Document") in data:
        return "this is a legacy PowerPoint .ppt file, not a spreadsheet"
    return "this is a legacy Excel 97-2003 .xls file; open it in Excel and save it as .xlsx"


def _describe_zip(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = {n.replace("\\", "/") for n in zf.namelist()}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return "the file is a damaged or truncated zip archive (an incomplete download?)"
    folded = {n.casefold() for n in names}
    if "xl/workbook.bin" in folded:
        return "this is an Excel binary workbook (.xlsb); save it as Excel Workbook (.xlsx)"
    if "content.xml" in folded and "mimetype" in folded:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                mimetype = zf.read("mimetype")[:100]
        except Exception:
            mimetype = b""
        if b"spreadsheet" in mimetype or not mimetype:
            return ("this is an OpenDocument spreadsheet (.ods); save it as Excel Workbook "
                    "(.xlsx)")
        return "this is an OpenDocument file (not a spreadsheet), not an .xlsx workbook"
    if "xl/workbook.xml" not in folded:
        if "word/document.xml" in folded:
            return "this is a Word document, not a spreadsheet"
        if "ppt/presentation.xml" in folded:
            return "this is a PowerPoint file, not a spreadsheet"
        if "encryptedpackage" in folded:
            return "the workbook is password-protected (encrypted); upload an unprotected copy"
        return "this zip archive is not an Excel workbook (it has no xl/workbook.xml)"
    return None


def _describe_lock_file(data: bytes, name: str) -> str | None:
    """Excel's owner file ``~$name.xlsx``: a 1-byte length, the user's name, space padding."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if 50 <= len(data) <= 512:
        n = data[0]
        user = data[1: 1 + n]
        pad = data[1 + n: 54]
        if 0 < n < 53 and all(32 <= b < 127 or b >= 128 for b in user) and (
                pad.strip(b" \x00") == b"") and (
                user.decode("latin-1").encode("utf-16-le") in data[54:]):
            who = user.decode("latin-1").strip()
            return (f"this is an Excel lock file (it only records that {who} has the workbook "
                    "open), not the workbook; upload the file without '~$' in its name")
    if base.startswith("~$") and len(data) <= 512:
        return ("this looks like an Excel lock file (~$ name, a few bytes), not the workbook; "
                "upload the real file")
    return None


def ensure_xlsx(data: bytes, name: str) -> None:
    problem = describe_non_xlsx(data, name)
    if problem:
        raise UnusableInputError(problem, code="not-a-workbook", where=name)

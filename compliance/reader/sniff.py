"""Say what a file really is, from its content, before any parser touches it."""

from __future__ import annotations

import io
import zipfile

from compliance.errors import UnusableInputError

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def describe_non_xlsx(data: bytes, name: str) -> str | None:
    """Return why ``data`` is not an xlsx workbook, or None when it looks like one."""
    if not data:
        return "the file is empty"
    head = data[:512]
    if head.startswith(_OLE):
        # Both legacy .xls and password-protected (encrypted) xlsx are OLE compound files.
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data:
            return ("the workbook is password-protected (encrypted); save an unprotected copy "
                    "and upload that")
        return "this is a legacy Excel 97-2003 .xls file; save it as .xlsx in Excel"
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            return "the file is a damaged or truncated zip archive (an incomplete download?)"
        if "xl/workbook.bin" in names:
            return "this is an Excel binary workbook (.xlsb); save it as .xlsx"
        if "content.xml" in names and "mimetype" in names:
            return "this is an OpenDocument spreadsheet (.ods); save it as .xlsx"
        if "xl/workbook.xml" not in names:
            if "word/document.xml" in names:
                return "this is a Word document, not a spreadsheet"
            if "ppt/presentation.xml" in names:
                return "this is a PowerPoint file, not a spreadsheet"
            return "this zip archive is not an Excel workbook (no xl/workbook.xml)"
        return None
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table")):
        return "this is an HTML page saved with a spreadsheet name; export a real .xlsx"
    if text.startswith(b"<?xml"):
        return "this is an XML file (perhaps Excel 2003 XML); save it as .xlsx"
    if b"," in head or b";" in head or b"\t" in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return "this is a CSV or text file; save it as .xlsx with the template's sheets"
    return "the file is not an Excel .xlsx workbook"


def ensure_xlsx(data: bytes, name: str) -> None:
    problem = describe_non_xlsx(data, name)
    if problem:
        raise UnusableInputError(problem, code="not-a-workbook", where=name)

"""Read a multipart upload into memory while it streams in, refusing it as soon as it is too big.

Starlette's own form parser spools file parts above 1 MiB to temporary files; uploads here hold
confidential supplier data, so this reader keeps every byte in memory (bounded by the upload
limit) and never touches the disk. The size limit is enforced on the declared Content-Length
before reading and again on every chunk as it arrives, so a client cannot make the service read
(or buffer) more than the limit by lying about the length or leaving it out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from compliance.service.problems import ProblemError, invalid

FILE_FIELD = "file"
MAX_FIELD_BYTES = 4 << 10  # a text form field (ruleset id, date, format)
MAX_PARTS = 64
MAX_NAME_CHARS = 200


@dataclass(slots=True)
class Upload:
    """The form as received: the workbook bytes, the client's file name, the text fields."""

    data: bytes
    filename: str  # display name only, never a path
    fields: dict[str, list[str]] = field(default_factory=dict)

    def values(self, name: str) -> list[str]:
        return self.fields.get(name, [])

    def value(self, name: str) -> str | None:
        got = self.fields.get(name)
        return got[-1] if got else None


def too_large(limit: int) -> ProblemError:
    return ProblemError(413, "file-too-large",
                        f"the upload is larger than this service accepts ({limit} bytes)")


class _Form:
    """Callbacks for python-multipart's streaming parser, collecting parts into memory."""

    def __init__(self, max_file_bytes: int):
        self.max_file_bytes = max_file_bytes
        self.parts = 0
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.name: str | None = None
        self.is_file = False
        self.buffer = bytearray()
        self.file: bytearray | None = None
        self.filename = ""
        self.fields: dict[str, list[str]] = {}
        self.ended = False
        self.error: ProblemError | None = None

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.part_begin, "on_header_field": self.header_field_data,
            "on_header_value": self.header_value_data, "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished, "on_part_data": self.part_data,
            "on_part_end": self.part_end, "on_end": self.end,
        }

    def fail(self, error: ProblemError) -> None:
        if self.error is None:
            self.error = error
        raise error

    def part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            self.fail(invalid("body", f"more than {MAX_PARTS} form fields"))
        self.headers = {}
        self.name = None
        self.is_file = False
        self.buffer = bytearray()

    def header_field_data(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def header_value_data(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        self.headers[bytes(self.header_field).strip().lower()] = bytes(self.header_value).strip()
        self.header_field = bytearray()
        self.header_value = bytearray()

    def headers_finished(self) -> None:
        disposition = self.headers.get(b"content-disposition")
        if disposition is None:
            self.fail(invalid("body", "a form part has no Content-Disposition header"))
        kind, params = parse_options_header(disposition)
        name = params.get(b"name")
        if kind != b"form-data" or name is None:
            self.fail(invalid("body", "a form part is not form-data with a name"))
        self.name = name.decode("utf-8", "replace")
        if self.name == FILE_FIELD:
            if self.file is not None:
                self.fail(invalid(FILE_FIELD, "send exactly one workbook"))
            self.is_file = True
            self.file = bytearray()
            self.filename = display_name(params.get(b"filename", b"").decode("utf-8", "replace"))

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.is_file:
            assert self.file is not None
            if len(self.file) + (end - start) > self.max_file_bytes:
                self.fail(too_large(self.max_file_bytes))
            self.file += data[start:end]
        else:
            if len(self.buffer) + (end - start) > MAX_FIELD_BYTES:
                self.fail(invalid(self.name or "body",
                                  f"a form field may hold at most {MAX_FIELD_BYTES} bytes"))
            self.buffer += data[start:end]

    def part_end(self) -> None:
        if self.is_file or self.name is None:
            return
        try:
            text = self.buffer.decode("utf-8")
        except UnicodeDecodeError:
            self.fail(invalid(self.name, "not UTF-8 text"))
        self.fields.setdefault(self.name, []).append(text)

    def end(self) -> None:
        self.ended = True


def display_name(raw: str) -> str:
    """The client's file name reduced to a harmless display label (never used as a path)."""
    base = re.split(r"[\\/]", raw)[-1]
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if cleaned in ("", ".", ".."):
        return "upload.xlsx"
    return cleaned[:MAX_NAME_CHARS]


def download_stem(name: str) -> str:
    """An ASCII file-name stem for Content-Disposition, from the display name."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:60]
    return stem or "workbook"


async def read_upload(request: Request, max_file_bytes: int) -> Upload:
    """Stream the multipart body into memory. 413 past the limit; 415/422 for a bad form."""
    content_type = request.headers.get("content-type", "")
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise ProblemError(415, "unsupported-media-type",
                           "send the workbook as multipart/form-data with a 'file' part")
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 70:
        raise invalid("body", "the multipart Content-Type has no usable boundary")
    max_body = max_file_bytes + (64 << 10)
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise invalid("body", "Content-Length is not a number")
        if int(declared) > max_body:
            raise too_large(max_file_bytes)
    form = _Form(max_file_bytes)
    try:
        parser = MultipartParser(boundary, form.callbacks(),  # type: ignore[arg-type]
                                 max_header_size=8 << 10, max_header_count=16)
    except ValueError:
        raise invalid("body", "the multipart boundary is not usable") from None
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_body:
                raise too_large(max_file_bytes)
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except ProblemError:
        raise
    except MultipartParseError:
        if form.error is not None:
            raise form.error from None
        raise invalid("body", "the multipart body is malformed") from None
    except ClientDisconnect:
        raise invalid("body", "the client closed the connection before the body ended") from None
    except Exception:
        # python-multipart wraps errors raised by callbacks differently across versions, and
        # anything else it raises is about the bytes the client sent.
        if form.error is not None:
            raise form.error from None
        raise invalid("body", "the multipart body is malformed") from None
    if form.error is not None:
        raise form.error
    if not form.ended:
        raise invalid("body", "the multipart body ended before its closing boundary")
    if form.file is None:
        raise invalid(FILE_FIELD, "no workbook: send it in a form part named 'file'")
    data = bytes(form.file)
    form.file = None
    return Upload(data=data, filename=form.filename or "upload.xlsx", fields=form.fields)

"""Turn what a caller hands us (a path, bytes, a binary file object) into one input record."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from compliance.errors import UnusableInputError

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO


@dataclass(frozen=True, slots=True)
class InputFile:
    """The bytes of an uploaded or local workbook, with its display name and sha256."""

    name: str
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def load_source(source: Source, *, name: str | None = None) -> InputFile:
    """Read ``source`` fully into memory and fingerprint it.

    Workbooks are zip archives that must be read with random access anyway, so holding the
    compressed bytes costs little; the sha256 goes into every report.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        display = name or "<bytes>"
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            raise UnusableInputError(f"{path} is a folder, not a workbook file",
                                     code="not-a-file")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise UnusableInputError(f"{path}: no such file", code="file-not-found") from None
        except OSError as exc:
            raise UnusableInputError(f"{path}: cannot be read ({exc.strerror})",
                                     code="file-not-readable") from None
        display = name or str(path)
    elif hasattr(source, "read"):
        data = source.read()
        if not isinstance(data, bytes | bytearray):
            raise UnusableInputError("the file object must be opened in binary mode",
                                     code="not-binary")
        data = bytes(data)
        display = name or str(getattr(source, "name", "<stream>"))
    else:
        raise TypeError(f"cannot read a workbook from {type(source).__name__}")
    return InputFile(display, data, hashlib.sha256(data).hexdigest())

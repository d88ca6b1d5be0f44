"""Safety limits for workbooks: checked on the zip directory before anything is inflated."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass

from compliance.errors import UnusableInputError


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


DEFAULT_LIMITS = Limits()


def check_archive(zf: zipfile.ZipFile, name: str, limits: Limits) -> None:
    """Refuse archives whose declared sizes, counts or ratios exceed ``limits``."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise UnusableInputError(
            f"the archive has {len(infos)} members (limit {limits.max_members})",
            code="unsafe-workbook", where=name)
    seen: set[str] = set()
    total = 0
    for info in infos:
        if info.filename in seen:
            raise UnusableInputError(
                f"the archive holds two members named {info.filename!r}; refusing an ambiguous "
                "workbook", code="unsafe-workbook", where=name)
        seen.add(info.filename)
        if info.file_size > limits.max_member_bytes:
            raise UnusableInputError(
                f"{info.filename} declares {info.file_size} bytes uncompressed "
                f"(limit {limits.max_member_bytes})", code="unsafe-workbook", where=name)
        if (info.file_size > (1 << 20) and info.compress_size
                and info.file_size / info.compress_size > limits.max_ratio):
            raise UnusableInputError(
                f"{info.filename} expands {info.file_size // max(info.compress_size, 1)}-fold "
                f"(limit {limits.max_ratio}); this looks like a zip bomb",
                code="unsafe-workbook", where=name)
        total += info.file_size
    if total > limits.max_uncompressed_bytes:
        raise UnusableInputError(
            f"the archive declares {total} bytes uncompressed "
            f"(limit {limits.max_uncompressed_bytes})", code="unsafe-workbook", where=name)

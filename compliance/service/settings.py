"""Service settings: safety limits and the optional token, from the environment or ``serve``.

Every limit has a safe default and an environment variable; ``compliance serve`` options
override the environment. The bearer token is read from ``COMPLIANCE_API_TOKEN`` only (a token on
the command line would show in ``ps`` output and shell history).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from compliance.reader.limits import Limits

TOKEN_ENV = "COMPLIANCE_API_TOKEN"

_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str | int) -> int:
    """``"20MiB"``, ``"20M"``, ``"512k"`` or ``"1048576"`` -> bytes (binary multiples)."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size; write bytes or a number with K, M or G")
    unit = (match.group(2) or "").lower()[:1]
    return int(match.group(1)) * _UNITS[unit]


def _default_parses() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True, slots=True)
class Settings:
    """What one running service allows. Field docs are shown by ``compliance serve --help``."""

    max_upload_bytes: int = 20 << 20  # the workbook file part; 413 past it
    max_rows: int = 200_000  # rows in all worksheets together (and per sheet for the reader)
    max_cells: int = 5_000_000  # cells in all worksheets together
    request_timeout: float = 60.0  # seconds for receiving, parsing and evaluating one upload
    max_parses: int = dataclasses.field(default_factory=_default_parses)  # at once
    max_queue: int = 16  # uploads that may wait for a parse slot; 429 past it
    queue_timeout: float = 30.0  # seconds an upload may wait for a slot; 503 past it
    token: str | None = None  # bearer token; None leaves the service open

    def __post_init__(self) -> None:
        for name in ("max_upload_bytes", "max_rows", "max_cells", "max_parses"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.max_queue < 0:
            raise ValueError("max_queue must be 0 or more")
        for name in ("request_timeout", "queue_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds")
        if self.token is not None and not self.token.strip():
            object.__setattr__(self, "token", None)

    @property
    def max_body_bytes(self) -> int:
        """The whole multipart body: the file plus room for the form fields and boundaries."""
        return self.max_upload_bytes + (64 << 10)

    def limits(self) -> Limits:
        """The reader's safety limits for an upload under these settings."""
        base = Limits()
        # An xlsx sheet cell takes at least ~10 bytes of XML, so the cell limit bounds how much
        # XML is worth inflating; never more than the reader's own defaults.
        xml_budget = max(64 << 20, self.max_cells * 200)
        return Limits(
            max_file_bytes=self.max_upload_bytes,
            max_uncompressed_bytes=min(base.max_uncompressed_bytes, xml_budget),
            max_member_bytes=min(base.max_member_bytes, xml_budget),
            max_members=base.max_members,
            max_ratio=base.max_ratio,
            max_sheets=min(base.max_sheets, 200),
            max_rows=min(base.max_rows, self.max_rows),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``COMPLIANCE_*`` variables, then ``overrides`` that are not None."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for field in dataclasses.fields(cls):
            if field.name == "token":
                continue
            raw = env.get(ENV_NAMES[field.name])
            if raw is None or not raw.strip():
                continue
            try:
                values[field.name] = _convert(field.name, raw)
            except ValueError as exc:
                raise ValueError(f"{ENV_NAMES[field.name]}: {exc}") from None
        token = env.get(TOKEN_ENV)
        values["token"] = token if token and token.strip() else None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


ENV_NAMES = {
    "max_upload_bytes": "COMPLIANCE_MAX_UPLOAD_BYTES",
    "max_rows": "COMPLIANCE_MAX_ROWS",
    "max_cells": "COMPLIANCE_MAX_CELLS",
    "request_timeout": "COMPLIANCE_REQUEST_TIMEOUT",
    "max_parses": "COMPLIANCE_MAX_PARSES",
    "max_queue": "COMPLIANCE_MAX_QUEUE",
    "queue_timeout": "COMPLIANCE_QUEUE_TIMEOUT",
}


def _convert(name: str, raw: str) -> object:
    if name == "max_upload_bytes":
        return parse_size(raw)
    if name in ("request_timeout", "queue_timeout"):
        return float(raw)
    return int(raw.replace("_", ""))

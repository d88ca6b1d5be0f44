"""The audit report: pydantic models whose JSON form is the product's machine interface.

Decimal figures serialise as strings so no consumer reads 59.999999 as 60. The JSON Schema
shipped in ``compliance/schemas/report.schema.json`` is generated from these models.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from compliance.findings import Finding

REPORT_FORMAT = "battery-compliance/audit-report@1"


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings")


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INSUFFICIENT_DATA = "insufficient_data"
    NOT_APPLICABLE = "not_applicable"
    # A pass or fail that rests on a ruleset value marked unconfirmed; the outcome it would be
    # is in ``provisional_outcome``. ``--strict`` turns these into insufficient_data.
    PROVISIONAL = "provisional"


class Citation(Model):
    title: str
    href: str | None = None


class ParameterUse(Model):
    """A ruleset value a verdict used: what it was, since when, and on whose authority."""

    name: str
    value: str | list[str] | bool | dict[str, str] | None
    in_force_from: dt.date | None
    status: str | None
    source: list[Citation] = Field(default_factory=list)


class LineResult(Model):
    """One workbook row that does not qualify, breaks a prohibition or was left out of a test."""

    sheet: str
    row: int | None = Field(description="Excel row; none for a per-material summary line")
    item_id: str
    value_usd: Decimal | None
    share_pct: Decimal | None = Field(description="share of the requirement's total, 4 dp")
    mass_kg: Decimal | None = None
    reason: str
    cells: list[str] = Field(default_factory=list, description="Excel references involved")


class DataGap(Model):
    """A missing or unusable cell or row a verdict depends on."""

    sheet: str
    row: int | None
    column: str | None
    cell: str | None
    item_id: str | None
    message: str


class RequirementResult(Model):
    id: str
    title: str
    kind: str
    effect: str
    status: Status
    date_basis: str
    date: dt.date | None
    comparison: Literal["at_least", "at_most"] | None = None
    actual_pct: Decimal | None = None
    required_pct: Decimal | None = None
    shortfall_pct: Decimal | None = None
    shortfall_usd: Decimal | None = None
    shortfall_kg: Decimal | None = Field(default=None,
                                         description="for mass-based rules: mass still missing")
    total_usd: Decimal | None = None
    qualifying_usd: Decimal | None = None
    credit_usd: Decimal | None = None
    explanation: str
    lines: list[LineResult] = Field(default_factory=list)
    relieved: list[LineResult] = Field(default_factory=list)
    gaps: list[DataGap] = Field(default_factory=list)
    parameters: list[ParameterUse] = Field(default_factory=list)
    provisional: bool = False
    provisional_outcome: Status | None = None
    citation: list[Citation] = Field(default_factory=list)


class Verdict(Model):
    """One battery under one ruleset."""

    ruleset: str
    status: Status
    credit_usd: Decimal | None
    dates: dict[str, dt.date | None]
    date_source: Literal["workbook", "as_of"]
    requirements: list[RequirementResult]
    gaps: list[DataGap] = Field(default_factory=list)
    provisional: bool = False
    provisional_outcome: Status | None = None
    summary: str


class BatteryReport(Model):
    """A battery's verdicts; ``status`` is the least favourable across rulesets."""

    battery_id: str
    row: int | None
    description: str | None = None
    status: Status
    verdicts: list[Verdict]


class RulesetRef(Model):
    id: str
    version: str
    sha256: str
    title: str
    last_reviewed: dt.date


class InputRef(Model):
    name: str
    sha256: str | None
    size_bytes: int | None


class SheetSummary(Model):
    sheet: str
    found_as: str | None
    header_row: int | None
    data_rows: int
    used_rows: int
    excluded_rows: int


class Summary(Model):
    batteries: int
    passed: int
    failed: int
    insufficient_data: int
    not_applicable: int
    provisional: int = 0
    errors: int
    warnings: int


class Tool(Model):
    name: str = "battery-compliance"
    version: str


class AuditReport(Model):
    format: str = REPORT_FORMAT
    tool: Tool
    input: InputRef
    rulesets: list[RulesetRef]
    as_of: dt.date | None
    strict: bool = False
    status: Status
    summary: Summary
    batteries: list[BatteryReport]
    findings: list[Finding]
    sheets: list[SheetSummary]


class ValidationReport(Model):
    """Structure-only result for upload checks: is the workbook usable, and what is wrong."""

    format: str = "battery-compliance/validation-report@1"
    tool: Tool
    input: InputRef
    valid: bool
    summary: Summary
    findings: list[Finding]
    sheets: list[SheetSummary]

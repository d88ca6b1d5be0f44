"""Results of explain, plan, what-if and horizon: pydantic models like the audit report's.

They serialise the same way (decimals as strings, dates as ISO text), so ``--format json`` of
every command is a stable machine interface next to the audit report's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field

from compliance.report.model import InputRef, Model, Status

LineStatus = Literal["qualifies", "does_not_qualify", "unknown", "violates", "relieved", "clear"]
# What filling a data gap does to its verdict (see compliance.explain.gaps): the same verdict
# whatever the fill (harmless; always so for a decided verdict: pass, fail, not applicable or
# provisional), another verdict for some fill (can_change; a provisional pass or fail counts as
# another verdict than insufficient_data), still insufficient_data for every fill
# (needs_other_gaps), or no fill run (not_assessed).
GapEffect = Literal["harmless", "can_change", "needs_other_gaps", "not_assessed"]


# --------------------------------------------------------------------------------------------
# explain
# --------------------------------------------------------------------------------------------

class LineContribution(Model):
    """One row's part in a requirement: its value, its share of the total, and its standing."""

    sheet: str
    row: int
    item_id: str
    value_usd: Decimal | None
    share_pct: Decimal | None = Field(
        description="share of the requirement's total, 4 dp (for recycled content: of the "
                    "mass of the row's material)")
    mass_kg: Decimal | None = Field(
        default=None, description="the row's mass, for mass-based rules (recycled content)")
    status: LineStatus
    reason: str
    blocking: bool = Field(description="the line keeps the requirement from passing")
    impact_rank: int | None = Field(
        default=None, description="1 = the blocking line whose change matters most")
    cells: list[str] = Field(default_factory=list)


class RequirementExplanation(Model):
    id: str
    title: str
    kind: str
    status: Status
    comparison: Literal["at_least", "at_most"] | None = None
    actual_pct: Decimal | None = None
    required_pct: Decimal | None = None
    shortfall_pct: Decimal | None = Field(default=None, description="short by, in points")
    shortfall_usd: Decimal | None = None
    total_usd: Decimal | None = None
    qualifying_usd: Decimal | None = None
    explanation: str
    blocking_lines: int = 0
    lines: list[LineContribution] = Field(
        default_factory=list, description="blocking lines first (by impact), then the rest")


class GapOutcome(Model):
    """The verdict if a gap were filled with one representative value."""

    fill: str
    status: Status
    provisional_outcome: Status | None = Field(
        default=None, description="for a provisional status: the pass or fail it would be, "
                                  "resting on ruleset values marked unconfirmed")


class GapAnalysis(Model):
    """A missing or invalid cell and what the verdict would be if it were filled either way."""

    sheet: str
    row: int | None
    column: str | None
    cell: str | None
    item_id: str | None
    message: str
    requirements: list[str]
    current: Status
    best: Status | None = Field(
        default=None, description="verdict with the kindest fill (kindest first: pass, "
                                  "provisional pass, not_applicable, insufficient_data, "
                                  "provisional fail, fail; outcomes say which a provisional "
                                  "one is)")
    worst: Status | None = Field(default=None, description="verdict with the harshest fill")
    effect: GapEffect
    outcomes: list[GapOutcome] = Field(default_factory=list)
    note: str


class VerdictExplanation(Model):
    ruleset: str
    status: Status
    summary: str
    requirements: list[RequirementExplanation]
    gaps: list[GapAnalysis] = Field(default_factory=list)
    gaps_not_assessed: int = Field(
        default=0, description="gaps left out of the fill analysis by the --max-gaps limit")


class BatteryExplanation(Model):
    battery_id: str
    status: Status
    verdicts: list[VerdictExplanation]


class Explanation(Model):
    format: str = "battery-compliance/explanation@1"
    input: InputRef
    as_of: dt.date | None
    batteries: list[BatteryExplanation]


# --------------------------------------------------------------------------------------------
# plan
# --------------------------------------------------------------------------------------------

class PlanLine(Model):
    sheet: str
    row: int
    item_id: str
    value_usd: Decimal
    share_pct: Decimal | None
    now: str = Field(description="why the line does not qualify today")


class ShareOption(Model):
    """One way to reach the threshold: the lines to re-source and the share that results."""

    objective: Literal["fewest_lines", "least_value", "with_required_changes"]
    lines: list[PlanLine]
    moved_usd: Decimal
    resulting_pct: Decimal
    exact: bool
    method: str
    lower_bound_usd: Decimal | None = None


class SharePlan(Model):
    requirement: str
    title: str
    status: Status
    actual_pct: Decimal | None
    required_pct: Decimal | None
    needed_usd: Decimal | None = Field(description="more qualifying value needed, exact")
    total_usd: Decimal | None
    qualifying_usd: Decimal | None
    reachable: bool
    qualifies_when: str | None = None
    fewest_lines: ShareOption | None = None
    least_value: ShareOption | None = None
    with_required_changes: ShareOption | None = Field(
        default=None, description="lines a failing prohibition forces to change anyway, "
                                  "re-sourced to qualify, plus the least value among the rest")
    words: list[str]


class EntityToReplace(Model):
    """One activity of a violating line: who performed it, where, and what is wrong."""

    entity_id: str | None
    column: str
    activity: str
    country: str | None
    reasons: list[str]
    replace_entity: bool = Field(description="the supplier itself fails the entity test")
    move_activity: bool = Field(description="the activity takes place in a covered country")


class ReplaceLine(Model):
    sheet: str
    row: int
    item_id: str
    value_usd: Decimal | None
    reason: str
    entities: list[EntityToReplace] = Field(default_factory=list)


class ProhibitionPlan(Model):
    requirement: str
    title: str
    status: Status
    lines: list[ReplaceLine]
    entities: list[str] = Field(description="distinct entity ids to replace")
    words: list[str]


class OtherStep(Model):
    requirement: str
    kind: str
    status: Status
    words: str


class BatteryPlan(Model):
    battery_id: str
    ruleset: str
    status: Status
    shares: list[SharePlan] = Field(default_factory=list)
    prohibitions: list[ProhibitionPlan] = Field(default_factory=list)
    other: list[OtherStep] = Field(default_factory=list)
    words: list[str] = Field(default_factory=list)


class Plan(Model):
    format: str = "battery-compliance/plan@1"
    input: InputRef
    as_of: dt.date | None
    batteries: list[BatteryPlan]


# --------------------------------------------------------------------------------------------
# what-if
# --------------------------------------------------------------------------------------------

class CellChange(Model):
    sheet: str
    row: int
    battery_id: str | None
    item_id: str
    field: str
    value: str = Field(description="the value as given, read like a cell")
    before: str | None
    after: str | None


class RequirementDelta(Model):
    battery_id: str
    ruleset: str
    requirement: str
    status_before: Status | None
    status_after: Status | None
    actual_pct_before: Decimal | None = None
    actual_pct_after: Decimal | None = None
    shortfall_pct_before: Decimal | None = None
    shortfall_pct_after: Decimal | None = None
    shortfall_usd_before: Decimal | None = None
    shortfall_usd_after: Decimal | None = None
    changed: bool


class BatteryDelta(Model):
    battery_id: str
    status_before: Status | None
    status_after: Status | None
    credit_usd_before: Decimal | None = None
    credit_usd_after: Decimal | None = None
    changed: bool


class ScenarioResult(Model):
    name: str
    changes: list[CellChange]
    status_before: Status
    status_after: Status
    batteries: list[BatteryDelta]
    requirements: list[RequirementDelta]
    notes: list[str] = Field(default_factory=list)


class WhatIf(Model):
    format: str = "battery-compliance/what-if@1"
    input: InputRef
    as_of: dt.date | None
    scenarios: list[ScenarioResult]


# --------------------------------------------------------------------------------------------
# horizon
# --------------------------------------------------------------------------------------------

class HorizonRequirement(Model):
    ruleset: str
    id: str
    status: Status
    comparison: Literal["at_least", "at_most"] | None = None
    actual_pct: Decimal | None = None
    required_pct: Decimal | None = None
    shortfall_usd: Decimal | None = None


class HorizonPoint(Model):
    date: dt.date
    status: Status
    requirements: list[HorizonRequirement]


class HorizonChange(Model):
    date: dt.date
    before: Status
    after: Status
    because: str


class BatteryHorizon(Model):
    battery_id: str
    points: list[HorizonPoint]
    changes: list[HorizonChange]
    summary: str


class Horizon(Model):
    format: str = "battery-compliance/horizon@1"
    input: InputRef
    rulesets: list[str]
    dates: list[dt.date]
    batteries: list[BatteryHorizon]

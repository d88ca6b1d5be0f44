"""The ruleset file format: law as dated, cited parameters and a few kinds of requirement.

A ruleset names its parameters (thresholds, country lists, list names, amounts). Each parameter
holds values keyed by the date they start, and every dated value carries its own citation and a
status (confirmed from a primary text, secondary only, or unconfirmed). The value in force on a
day is the one with the latest start on or before it; a ``null`` value ends the previous one.

Requirements instantiate the engine's rule kinds with references to those parameters, so a new
regime is a new YAML file, not new code.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Status(StrEnum):
    CONFIRMED = "confirmed"  # read in a primary text (statute, regulation, official journal)
    SECONDARY = "secondary"  # confirmed only by secondary sources (law firms, agencies' pages)
    UNCONFIRMED = "unconfirmed"  # not confirmed by any source read: verdicts are provisional


class Unit(StrEnum):
    PERCENT = "percent"
    USD = "usd"
    COUNTRIES = "countries"
    NAMES = "names"
    BOOLEAN = "boolean"
    PERCENT_TABLE = "percent_table"  # one percentage per label, e.g. per mineral
    NUMBER = "number"  # a plain quantity (kWh, kg)


class Citation(Strict):
    title: str = Field(min_length=3)
    href: str | None = None


class DatedValue(Strict):
    value: Any
    status: Status
    source: list[Citation] = Field(min_length=1)
    note: str | None = None


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _finite(v: object, where: str) -> Decimal:
    """A finite decimal from a YAML number or numeric text, or a ValueError naming ``where``."""
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        raise ValueError(f"{where}: {v!r} is not a number")
    try:
        number = Decimal(str(v).strip())
    except InvalidOperation:
        raise ValueError(f"{where}: {v!r} is not a number") from None
    if number.is_nan():
        raise ValueError(f"{where}: {v!r} is not a number")
    if not number.is_finite():
        raise ValueError(f"{where}: {v!r} is not a finite number")
    return number


class Parameter(Strict):
    description: str = Field(min_length=3)
    unit: Unit
    label: str | None = None  # how a reason names it: "an FTA country"
    values: dict[dt.date, DatedValue] = Field(min_length=1)

    @field_validator("values", mode="before")
    @classmethod
    def _dates_as_written(cls, v: object) -> object:
        """Keys must be written YYYY-MM-DD: '2025-01-01T00:00' would silently merge with
        '2025-01-01' once parsed, and the later one would win."""
        if isinstance(v, dict):
            for key in v:
                if not isinstance(key, str) or not _ISO_DAY.match(key):
                    raise ValueError(f"date key {key!r} must be written as \"YYYY-MM-DD\"")
        return v

    @model_validator(mode="after")
    def _values_fit_unit(self) -> Parameter:
        from compliance.countries import is_country_code

        for day, item in self.values.items():
            v = item.value
            if v is None:
                continue
            where = f"value starting {day.isoformat()}"
            if self.unit in (Unit.PERCENT, Unit.USD, Unit.NUMBER):
                number = _finite(v, where)
                if number < 0 or (self.unit is Unit.PERCENT and number > 100):
                    raise ValueError(f"{where}: {v} is out of range for unit {self.unit}")
            elif self.unit is Unit.PERCENT_TABLE:
                if not isinstance(v, dict) or not v:
                    raise ValueError(f"{where}: expected a mapping of label -> percentage")
                for label, cell in v.items():
                    if not Decimal(0) <= _finite(cell, f"{where}: {label}") <= Decimal(100):
                        raise ValueError(f"{where}: {label}: {cell} is outside 0-100")
            elif self.unit is Unit.BOOLEAN:
                if not isinstance(v, bool):
                    raise ValueError(f"{where}: {v!r} is not true or false (write true/false; "
                                     "yes/no/on/off are not booleans here)")
            else:
                if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                    raise ValueError(f"{where}: expected a list of names")
                if self.unit is Unit.COUNTRIES:
                    bad = [x for x in v if not is_country_code(x)]
                    if bad:
                        raise ValueError(f"{where}: unknown country code(s) {', '.join(bad)}")
                if len(set(v)) != len(v):
                    raise ValueError(f"{where}: the list names an item twice")
        return self

    def at(self, day: dt.date) -> tuple[dt.date, DatedValue] | None:
        """The value in force on ``day`` with its start date, or None if none is."""
        found: tuple[dt.date, DatedValue] | None = None
        for start in sorted(self.values):
            if start <= day:
                found = (start, self.values[start])
            else:
                break
        if found is None or found[1].value is None:
            return None
        return found

    def change_dates(self) -> list[dt.date]:
        return sorted(self.values)


class DateBasis(Strict):
    column: str
    label: str
    fallback: str | None = None  # another date basis used when this column is empty


# Predicates over one row: which lines qualify.
class Leaf(Strict):
    column: str
    in_: list[str] | None = Field(default=None, alias="in")  # names of list parameters
    equals: bool | str | None = None
    more_than: str | None = None  # name of a number parameter: cell > value
    says: str = Field(min_length=3)  # "extracted in {value}": describes the cell in words
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_test(self) -> Leaf:
        if sum(x is not None for x in (self.in_, self.equals, self.more_than)) != 1:
            raise ValueError("a condition needs exactly one of 'in', 'equals' or 'more_than'")
        return self


class AnyOf(Strict):
    any: list[Predicate] = Field(min_length=1)


class AllOf(Strict):
    all: list[Predicate] = Field(min_length=1)


Predicate = AnyOf | AllOf | Leaf


class Effect(StrEnum):
    CREDIT = "credit"  # passing earns the amount named by ``credit``
    DISQUALIFIES = "disqualifies"  # failing makes the battery ineligible altogether
    CONDITION = "condition"  # must pass; no amount attached


class RequirementBase(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    date_basis: str
    effect: Effect
    citation: list[Citation] = Field(min_length=1)
    # Which batteries the requirement covers, tested on the batteries sheet (e.g. category);
    # a battery outside it gets not_applicable.
    applies_if: Predicate | None = None


class InForce(RequirementBase):
    """Passes while a boolean parameter is true on the battery's date (e.g. credit not ended)."""

    kind: Literal["in_force"]
    parameter: str
    fails_says: str  # "acquired on {date}, after the credit ended"


class TracedStage(Strict):
    stage: Literal["extraction", "processing", "recycling"]
    countries: list[str] = Field(min_length=1)  # country-list parameters where it qualifies


class TracedValue(Strict):
    """Value added per stage and country (the ``value_added`` sheet), for the traced
    qualifying value and its optional safe harbour; see compliance/engine/traced.py."""

    stages: list[TracedStage] = Field(min_length=1)
    safe_harbour_share: str | None = None  # percent parameter (50)
    safe_harbour_available: str | None = None  # boolean parameter, on the date basis below
    safe_harbour_date_basis: str | None = None
    election_column: str = "minerals_method"


class ContentShare(RequirementBase):
    """The share of a measure (value, mass) carried by qualifying rows must reach a threshold."""

    kind: Literal["content_share"]
    sheet: Literal["minerals", "components"]
    item_id: str
    measure: str
    threshold: str
    qualifies: Predicate
    scope: Predicate | None = None  # rows outside it are not counted (and are listed as such)
    traced: TracedValue | None = None  # value added per stage, when the workbook gives it
    credit: str | None = None


class Activity(Strict):
    name: str  # extraction
    verb: str  # extracted
    country: str | None = None
    entity: str
    when: str | None = None  # boolean column that must be true for the activity to exist


class Relief(Strict):
    flag: str  # boolean column marking rows the relief covers
    in_force: str  # boolean parameter
    says: str


class ProhibitedEntity(RequirementBase):
    """No row may have an activity performed by an entity that the entity test flags."""

    kind: Literal["prohibited_entity"]
    sheet: Literal["minerals", "components", "batteries", "costs"]
    item_id: str
    measure: str | None = None
    in_force: str
    activities: list[Activity] = Field(min_length=1)
    entity_test: str
    relief: Relief | None = None


class CostRatio(RequirementBase):
    """Material assistance cost ratio: (total cost - cost attributable to entities the test
    flags) / total cost must reach a threshold (IRC 45X, 48E after P.L. 119-21)."""

    kind: Literal["cost_ratio"]
    sheet: Literal["costs"] = "costs"
    item_id: str = "item_id"
    cost: str = "direct_cost_usd"
    certified_cost: str | None = "pfe_cost_usd"  # supplier-certified attributable part
    supplier: str = "supplier"
    entity_test: str
    threshold: str
    in_force: str | None = None


class RecycledContent(RequirementBase):
    """Per material, the mass share recovered from waste must reach a minimum."""

    kind: Literal["recycled_content"]
    sheet: Literal["minerals"] = "minerals"
    item_id: str = "line_id"
    material: str = "mineral"
    mass: str = "mass_kg"
    recovered: str = "recycled"  # boolean column: the row's mass was recovered from waste
    minimums: str  # percent_table parameter: material -> minimum share
    documentation: str | None = None  # boolean parameter: shares must be documented


class ConcentrationCap(RequirementBase):
    """No single country may supply more than a cap of a material's value at any stage."""

    kind: Literal["concentration_cap"]
    sheet: Literal["minerals"] = "minerals"
    item_id: str = "line_id"
    group_by: str = "mineral"
    measure: str = "value_usd"
    stages: list[Activity] = Field(min_length=1)  # name, verb and country column per stage
    cap: str  # percent parameter
    exempt: str | None = None  # countries parameter: not counted against the cap


class ForbiddenRows(RequirementBase):
    """Rows matching ``when`` must not match ``forbidden`` (e.g. graphite processed in CN)."""

    kind: Literal["forbidden_rows"]
    sheet: Literal["minerals", "components", "costs"]
    item_id: str
    measure: str
    when: Predicate | None = None
    forbidden: Predicate


Requirement = Annotated[
    InForce | ContentShare | ProhibitedEntity | CostRatio | RecycledContent | ConcentrationCap
    | ForbiddenRows,
    Field(discriminator="kind"),
]


class EntityCheck(Strict):
    """One way an entity is caught by an entity test.

    - ``activity_in``: the activity (extraction, processing, ...) took place in a listed country
    - ``country_in``: an entities-sheet country column is in a listed country
    - ``at_least`` / ``more_than``: an entities-sheet percentage reaches a threshold
    - ``flag``: an entities-sheet true/false column is true (while a boolean parameter is true)
    - ``listed``: the entity is on one of the named lists
    - ``passes``: the entity is caught by another entity test (``test``)
    - ``held_by``: entities caught by ``test`` hold, directly or through chains in the ownership
      sheet, at least (or more than) a threshold of ``measure``; ``aggregate`` says whether one
      holder must reach it (``single``) or all together (``total``)
    - ``appointed_by``: an entity caught by ``test`` may appoint an officer (ownership sheet)
    """

    kind: Literal["activity_in", "country_in", "at_least", "more_than", "flag", "listed",
                  "passes", "held_by", "appointed_by"]
    column: str | None = None
    parameter: str | None = None  # countries, threshold, list names or boolean switch
    test: str | None = None
    measure: Literal["equity_pct", "voting_pct", "board_pct", "debt_pct"] | None = None
    aggregate: Literal["single", "total"] = "total"
    compare: Literal["at_least", "more_than"] = "at_least"
    # What an empty cell means: "unknown" (the entity cannot be cleared) or "no" (say, an empty
    # government_of means the entity is not a government).
    when_empty: Literal["unknown", "no"] = "unknown"
    says: str

    @model_validator(mode="after")
    def _fields_needed(self) -> EntityCheck:
        needs = {
            "activity_in": ("parameter",), "country_in": ("column", "parameter"),
            "at_least": ("column", "parameter"), "more_than": ("column", "parameter"),
            "flag": ("column", "parameter"), "listed": ("column", "parameter"),
            "passes": ("test",), "held_by": ("test", "measure", "parameter"),
            "appointed_by": ("test",),
        }[self.kind]
        missing = [f for f in needs if getattr(self, f) is None]
        if missing:
            raise ValueError(f"an entity check of kind {self.kind} needs {', '.join(missing)}")
        return self


class EntityTest(Strict):
    title: str
    checks: list[EntityCheck] = Field(min_length=1)


class Ruleset(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    title: str
    summary: str
    jurisdiction: str
    last_reviewed: dt.date
    date_bases: dict[str, DateBasis]
    parameters: dict[str, Parameter]
    entity_tests: dict[str, EntityTest] = Field(default_factory=dict)
    requirements: list[Requirement] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: object) -> object:
        if not isinstance(v, str):
            raise ValueError("write the version as quoted text, e.g. \"1.0.0\"")
        return v

    def parameter(self, name: str) -> Parameter:
        return self.parameters[name]

    def requirement(self, rid: str) -> Any:
        for req in self.requirements:
            if req.id == rid:
                return req
        raise KeyError(rid)


AnyOf.model_rebuild()
AllOf.model_rebuild()

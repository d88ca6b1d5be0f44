"""The workbook contract: which sheets and columns a BOM workbook holds, and what each means.

This module is the single description of the input format. The reader uses it to find and
type columns, the template writer uses it to lay out headers, dropdowns and instructions, and
the README's table is generated from the same data, so the three cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """How a column's cells are read."""

    ID = "id"  # text key, kept exactly as typed ("00123" stays "00123")
    TEXT = "text"
    DATE = "date"
    MONEY = "money"  # exact decimal, US dollars, >= 0
    MASS = "mass"  # exact decimal, kilograms, >= 0
    NUMBER = "number"  # exact decimal, >= 0, in the unit the column names
    PERCENT = "percent"  # 0-100, or an Excel percent-formatted cell
    BOOL = "bool"
    COUNTRY = "country"  # ISO 3166-1 alpha-2 after normalisation
    MINERAL = "mineral"
    COMPONENT_TYPE = "component_type"
    LIST = "list"  # ";"-separated names
    CATEGORY = "category"  # battery category (EU Batteries Regulation)
    METHOD = "method"  # 30D critical-minerals method
    STAGE = "stage"  # extraction, processing, recycling
    PRODUCT = "product"  # 45X eligible component kind


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a sheet.

    ``required`` means the header must be present. ``nonblank`` means a row without a value here
    cannot be used at all (it is reported and left out). ``default`` is what an empty cell means
    when emptiness has a plain meaning (``recycled`` empty is false). Any other empty cell is read
    as unknown, and the rules engine reports it as a data gap only where it can change a verdict.
    """

    name: str
    kind: Kind
    required: bool
    description: str
    example: str = ""
    nonblank: bool = False
    default: str | None = None
    note_if_absent: bool = True  # say so when the column is absent and its default applies


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # columns that together must be unique
    required: bool = True

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


# Battery component types of 26 CFR 1.30D-2(b)(8), in the order the regulation lists them.
COMPONENT_TYPES: tuple[str, ...] = (
    "cathode electrode",
    "anode electrode",
    "solid metal electrode",
    "separator",
    "liquid electrolyte",
    "solid state electrolyte",
    "battery cell",
    "battery module",
)

# Applicable critical minerals of IRC 45X(c)(6) (the list 30D refers to), lower case.
MINERALS: tuple[str, ...] = (
    "aluminum", "antimony", "arsenic", "barite", "beryllium", "bismuth", "cerium", "cesium",
    "chromium", "cobalt", "dysprosium", "erbium", "europium", "fluorspar", "gadolinium",
    "gallium", "germanium", "graphite", "hafnium", "holmium", "indium", "iridium", "lanthanum",
    "lithium", "lutetium", "magnesium", "manganese", "neodymium", "nickel", "niobium",
    "palladium", "platinum", "praseodymium", "rhodium", "rubidium", "ruthenium", "samarium",
    "scandium", "tantalum", "tellurium", "terbium", "thulium", "tin", "titanium", "tungsten",
    "vanadium", "ytterbium", "yttrium", "zinc", "zirconium",
)

# Not applicable critical minerals under 45X(c)(6), but regulated elsewhere (EU recycled content).
OTHER_MATERIALS: tuple[str, ...] = ("lead", "copper")

METHODS: tuple[str, ...] = ("traced", "value_added_50")
METHOD_ALIASES: dict[str, str] = {"traced qualifying value": "traced", "tqv": "traced",
                                  "50% value added": "value_added_50",
                                  "value added 50": "value_added_50",
                                  "safe harbour": "value_added_50",
                                  "safe harbor": "value_added_50"}
STAGES: tuple[str, ...] = ("extraction", "processing", "recycling")
PRODUCT_KINDS: tuple[str, ...] = ("battery component", "critical mineral")
PRODUCT_ALIASES: dict[str, str] = {"component": "battery component",
                                   "applicable critical mineral": "critical mineral",
                                   "mineral": "critical mineral"}
STAGE_ALIASES: dict[str, str] = {"mining": "extraction", "refining": "processing"}

# Battery categories of Regulation (EU) 2023/1542 Art. 3.
CATEGORIES: tuple[str, ...] = ("EV", "industrial", "SLI", "LMT", "portable")
CATEGORY_ALIASES: dict[str, str] = {
    "ev": "EV", "electric vehicle": "EV", "industrial": "industrial", "sli": "SLI",
    "starting lighting ignition": "SLI", "lmt": "LMT", "light means of transport": "LMT",
    "portable": "portable", "stationary": "industrial", "energy storage": "industrial",
}

# Spelling variants a person types for the same mineral.
MINERAL_ALIASES: dict[str, str] = {
    "aluminium": "aluminum",
    "caesium": "cesium",
    "natural graphite": "graphite",
    "synthetic graphite": "graphite",
    "fluorite": "fluorspar",
    "wolfram": "tungsten",
}

COMPONENT_TYPE_ALIASES: dict[str, str] = {
    "cathode": "cathode electrode",
    "anode": "anode electrode",
    "cell": "battery cell",
    "module": "battery module",
    "electrolyte": "liquid electrolyte",
    "solid-state electrolyte": "solid state electrolyte",
    "solid electrolyte": "solid state electrolyte",
}

BATTERIES = Sheet(
    name="batteries",
    description="One row per battery (or vehicle) to audit.",
    key=("battery_id",),
    columns=(
        Column("battery_id", Kind.ID, True, "Your identifier for the battery; unique.", "BAT-001",
               nonblank=True),
        Column("placed_in_service", Kind.DATE, False,
               "Date the vehicle was placed in service (selects the 30D thresholds).",
               "2024-06-30"),
        Column("acquired_on", Kind.DATE, False,
               "Date the vehicle was acquired (binding contract and payment); defaults to "
               "placed_in_service.", "2024-06-15"),
        Column("description", Kind.TEXT, False, "Free text: model, plant, pack.", "Model X pack"),
        Column("sold_on", Kind.DATE, False,
               "Date the component was sold (selects the 45X cost-ratio threshold).", ""),
        Column("construction_start", Kind.DATE, False,
               "Date construction of the energy storage project began (48E).", ""),
        Column("placed_on_market", Kind.DATE, False,
               "Date the battery was placed on the EU market (EU Batteries Regulation).", ""),
        Column("category", Kind.CATEGORY, False,
               "Battery category: " + ", ".join(CATEGORIES) + ".", "EV"),
        Column("capacity_kwh", Kind.NUMBER, False, "Energy capacity, kWh.", "75"),
        Column("minerals_method", Kind.METHOD, False,
               "30D critical minerals method: traced (default) or value_added_50 (the 50 % "
               "value-added safe harbour, for reports before 2027-01-01).", ""),
        Column("report_date", Kind.DATE, False,
               "Date of the periodic written report (decides whether the safe harbour is "
               "available); defaults to placed_in_service.", ""),
        Column("product_kind", Kind.PRODUCT, False,
               "45X: what the row's product is: battery component or critical mineral "
               "(selects the cost-ratio table); empty means battery component.",
               "battery component", default="battery component", note_if_absent=False),
        Column("taxpayer", Kind.ID, False,
               "entity_id of the taxpayer claiming a credit (45X/48E prohibited-entity tests).",
               ""),
    ),
)

COMPONENTS = Sheet(
    name="components",
    description="One row per battery component, with where it was manufactured or assembled.",
    key=("battery_id", "component_id"),
    required=False,
    columns=(
        Column("battery_id", Kind.ID, True, "The battery this component belongs to.", "BAT-001",
               nonblank=True),
        Column("component_id", Kind.ID, True, "Unique per battery.", "C-01", nonblank=True),
        Column("component_type", Kind.COMPONENT_TYPE, True,
               "One of: " + ", ".join(COMPONENT_TYPES) + ".", "battery cell"),
        Column("country", Kind.COUNTRY, True,
               "Where the component was manufactured or assembled (ISO code or English name).",
               "US"),
        Column("manufacturer", Kind.ID, False,
               "entity_id of the manufacturer or assembler (see the entities sheet).", "E-CELLCO"),
        Column("incremental_value_usd", Kind.MONEY, True,
               "The component's value minus the value of the components it incorporates, USD.",
               "2400.00"),
    ),
)

MINERAL_LINES = Sheet(
    name="minerals",
    description="One row per procurement chain of an applicable critical mineral in a battery.",
    key=("battery_id", "line_id"),
    required=False,
    columns=(
        Column("battery_id", Kind.ID, True, "The battery this mineral is in.", "BAT-001",
               nonblank=True),
        Column("line_id", Kind.ID, True, "Unique per battery.", "M-01", nonblank=True),
        Column("mineral", Kind.MINERAL, True, "Applicable critical mineral (IRC 45X(c)(6)).",
               "lithium"),
        Column("value_usd", Kind.MONEY, True, "Value of the mineral in this chain, USD.",
               "812.50"),
        Column("mass_kg", Kind.MASS, False, "Mass of the mineral, kg.", "9.4"),
        Column("extraction_country", Kind.COUNTRY, True, "Where it was extracted.", "AU"),
        Column("extraction_entity", Kind.ID, False, "entity_id of the extractor.", "E-MINECO"),
        Column("processing_country", Kind.COUNTRY, True, "Where it was processed.", "US"),
        Column("processing_entity", Kind.ID, False, "entity_id of the processor.", "E-REFCO"),
        Column("recycled", Kind.BOOL, False, "true when the mineral was recycled.", "false",
               default="false"),
        Column("recycling_country", Kind.COUNTRY, False,
               "Where it was recycled (required when recycled is true).", ""),
        Column("recycling_entity", Kind.ID, False, "entity_id of the recycler.", ""),
        Column("impracticable_to_trace", Kind.BOOL, False,
               "true for impracticable-to-trace battery materials (26 CFR 1.30D-6(b)(2)).",
               "false", default="false"),
    ),
)

ENTITIES = Sheet(
    name="entities",
    description="One row per supplier entity named in the components and minerals sheets.",
    key=("entity_id",),
    required=False,
    columns=(
        Column("entity_id", Kind.ID, True, "Unique identifier, referenced from other sheets.",
               "E-REFCO", nonblank=True),
        Column("name", Kind.TEXT, True, "Legal name.", "Refining Co. LLC"),
        Column("incorporated_in", Kind.COUNTRY, True, "Country of incorporation.", "US"),
        Column("headquartered_in", Kind.COUNTRY, True,
               "Country of headquarters / principal place of business.", "US"),
        Column("covered_government_voting_pct", Kind.PERCENT, True,
               "Share of voting rights held, directly or indirectly, by covered-nation "
               "governments (0-100).", "0"),
        Column("covered_government_board_pct", Kind.PERCENT, True,
               "Share of board seats held by covered-nation governments (0-100).", "0"),
        Column("covered_government_equity_pct", Kind.PERCENT, True,
               "Share of equity held by covered-nation governments (0-100).", "0"),
        Column("effective_control", Kind.BOOL, True,
               "true when a licence or contract gives a covered-nation government or its entity "
               "effective control.", "false"),
        Column("government_of", Kind.COUNTRY, False,
               "When the entity is a government, or an agency or official of one: that "
               "country.", ""),
        Column("restricted_lists", Kind.LIST, False,
               "';'-separated names of restricted lists the entity is on (e.g. SDN); empty when "
               "none.", "", default=""),
    ),
)

COSTS = Sheet(
    name="costs",
    description=("One row per direct material or manufactured product whose cost enters a "
                 "material assistance cost ratio (45X, 48E)."),
    key=("battery_id", "item_id"),
    required=False,
    columns=(
        Column("battery_id", Kind.ID, True, "The battery, component or project the cost is in.",
               "BESS-1", nonblank=True),
        Column("item_id", Kind.ID, True, "Unique per battery.", "K-01", nonblank=True),
        Column("description", Kind.TEXT, False, "What the item is.", "LFP cells"),
        Column("supplier", Kind.ID, True, "entity_id of the maker or supplier.", "E-CELLCO"),
        Column("country", Kind.COUNTRY, False, "Where the item was made.", "US"),
        Column("direct_cost_usd", Kind.MONEY, True, "Direct cost paid or incurred, USD.",
               "125000.00"),
        Column("pfe_cost_usd", Kind.MONEY, False,
               "Part of the cost a supplier certification attributes to prohibited foreign "
               "entities; empty means decided from the supplier's own status.", ""),
    ),
)

OWNERSHIP = Sheet(
    name="ownership",
    description=("One row per holding: owner -> owned entity, with each measure of the "
                 "holding. Indirect holdings are combined by the rules engine."),
    key=("owner_id", "owned_id"),
    required=False,
    columns=(
        Column("owner_id", Kind.ID, True, "entity_id of the holder.", "E-PARENT", nonblank=True),
        Column("owned_id", Kind.ID, True, "entity_id of the entity held.", "E-CELLCO",
               nonblank=True),
        Column("equity_pct", Kind.PERCENT, False, "Equity held (0-100).", "30"),
        Column("voting_pct", Kind.PERCENT, False, "Voting rights held (0-100).", "30"),
        Column("board_pct", Kind.PERCENT, False, "Board seats held (0-100).", "0"),
        Column("debt_pct", Kind.PERCENT, False, "Share of the owned entity's debt held (0-100).",
               "0"),
        Column("appoints_officer", Kind.BOOL, False,
               "true when the holder may appoint a covered officer.", "false",
               default="false"),
    ),
)

VALUE_ADDED = Sheet(
    name="value_added",
    description=("Optional split of a mineral line's value by stage and country, for the 30D "
                 "traced qualifying value and the 50 % value-added safe harbour."),
    required=False,
    columns=(
        Column("battery_id", Kind.ID, True, "The battery.", "BAT-001", nonblank=True),
        Column("line_id", Kind.ID, True, "The minerals line this value added belongs to.",
               "M-01", nonblank=True),
        Column("stage", Kind.STAGE, True, "extraction, processing or recycling.", "processing"),
        Column("country", Kind.COUNTRY, True, "Where this stage took place.", "KR"),
        Column("value_added_usd", Kind.MONEY, True, "Value added at this stage and place, USD.",
               "320.00"),
    ),
)

SHEETS: tuple[Sheet, ...] = (BATTERIES, COMPONENTS, MINERAL_LINES, ENTITIES, COSTS, OWNERSHIP,
                             VALUE_ADDED)

# Sheets the template adds for people (instructions) and for its dropdowns (lists). The reader
# recognises them and does not report them as unknown sheets.
TEMPLATE_SHEETS: tuple[str, ...] = ("instructions", "lists")
# Sheets other commands read (what-if scenarios): known, so not reported as unknown either.
TOOL_SHEETS: tuple[str, ...] = ("scenarios",)
SHEETS_BY_NAME: dict[str, Sheet] = {s.name: s for s in SHEETS}

_SPACES = re.compile(r"[\s_\u00a0\u2007\u202f]+")


def normalise_header(text: str) -> str:
    """Fold a sheet or header name: case-insensitive, spaces and underscores alike, trimmed."""
    return _SPACES.sub(" ", str(text)).strip().casefold()


@dataclass(frozen=True, slots=True)
class HeaderIndex:
    """Lookup of normalised header text -> canonical column name for one sheet."""

    sheet: Sheet
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_sheet(cls, sheet: Sheet) -> HeaderIndex:
        return cls(sheet, {normalise_header(c.name): c.name for c in sheet.columns})

    def canonical(self, header: str) -> str | None:
        return self.names.get(normalise_header(header))

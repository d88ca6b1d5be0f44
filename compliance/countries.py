"""Normalise the countries people type in BOM spreadsheets to ISO 3166-1 alpha-2 codes.

Users write ISO alpha-2 codes ("CN"), alpha-3 codes ("CHN"), official names ("People's Republic of
China"), short names ("China") or everyday English ("Mainland China", "USA", "Ivory Coast").
:func:`normalise_country` turns each into an upper-case alpha-2 code, or into a problem a person can
act on. An ambiguous name is a finding, never a guess: sourcing rules depend on the exact country.

Data source: pycountry is a core dependency on purpose. It ships the ISO 3166-1 list maintained by
Debian's iso-codes project, so we do not hand-maintain 249 names and codes; this module only curates
what ISO does not cover (everyday aliases, ambiguous names, states that no longer exist).

Start-up time of the CLI matters and importing pycountry costs tens of milliseconds, so pycountry is
imported inside :func:`_tables`, which builds every lookup table once, at first use. ``import
compliance.countries`` stays cheap; :data:`COUNTRY_CODES` is computed on first access.

Decisions (the reasons sit next to the data below):

* Kosovo: ``XK`` is accepted everywhere (``normalise_country``, ``is_country_code``,
  ``COUNTRY_CODES``). It is a user-assigned code, not ISO 3166-1, but the European Commission,
  customs systems and banks use it and Kosovo is a mining country; a code this module returns must
  also pass :func:`is_country_code`, so the three agree.
* A two- or three-letter input is read as a code first, so "NA" is Namibia and "no" is Norway.
  "N/A" and "n.a." are not letters only, so they are placeholders, never Namibia. (Callers reading
  CSV with pandas must keep "NA" from becoming a missing value; polars keeps it by default.)
* ``problem`` is one of three words. "ambiguous": the text matches several present-day countries.
  "historic": the text names a state that split, so a present-day code must be chosen. "unknown":
  everything else that does not resolve, including placeholders ("TBD"), the EU and the
  constituent countries of the United Kingdom ("England"), each with its own message.
* Historic names of countries that were renamed, not split (Burma, Zaire, Swaziland, East Timor,
  Cape Verde, Ceylon) resolve to the present-day code: they are unambiguous.
"""

from __future__ import annotations

import difflib
import functools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

__all__ = [
    "COUNTRY_CODES",
    "CountryMatch",
    "country_name",
    "is_country_code",
    "normalise_countries",
    "normalise_country",
]

UNKNOWN = "unknown"
AMBIGUOUS = "ambiguous"
HISTORIC = "historic"


@dataclass(frozen=True, slots=True)
class CountryMatch:
    code: str | None  # ISO alpha-2 upper-case, None when not resolved
    problem: str | None  # None when resolved; else "unknown" or "ambiguous" or "historic"
    message: str | None  # a sentence a person can act on; None when resolved


# Sorted alpha-2 codes (ISO 3166-1 plus XK), for dropdown lists in templates. Computed lazily by
# the module-level __getattr__ below so that importing this module does not import pycountry.
COUNTRY_CODES: tuple[str, ...]

# --------------------------------------------------------------------------------------------
# Curated data. Plain strings only, so the module stays cheap to import. Names are matched after
# the same normalisation as user input (case, accents, punctuation and spacing do not matter), so
# each spelling is listed once.
# --------------------------------------------------------------------------------------------

_KOSOVO = "XK"
_EXAMPLE = "write the two-letter ISO code (e.g. CN, US)"

# Short names for messages and templates where the ISO short name is awkward ("Congo, The
# Democratic Republic of the") or politically loaded in a way people do not type.
_DISPLAY_NAMES: dict[str, str] = {
    "BN": "Brunei",
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "FK": "Falkland Islands",
    "FM": "Micronesia",
    "GB": "United Kingdom",
    "MF": "Saint Martin, French part",  # avoids "MF (Saint Martin (French part))" in messages
    "PS": "Palestine",
    "RU": "Russia",
    "SX": "Sint Maarten",
    "US": "United States",
    "VA": "Vatican City",
    "VG": "British Virgin Islands",
    "VI": "US Virgin Islands",
    _KOSOVO: "Kosovo",
}

# Everyday English names that resolve unambiguously. pycountry's name, official_name and
# common_name (e.g. "Iran", "Laos", "Syria", "Bolivia", "Venezuela", "Tanzania", "Moldova",
# "Vietnam", "South Korea", "North Korea", "Taiwan", "Czech Republic", "Macao", "Hong Kong") are
# added automatically and are not repeated here.
_ALIASES: dict[str, tuple[str, ...]] = {
    "AE": ("UAE", "U.A.E.", "Emirates"),
    "BA": ("Bosnia", "Bosnia-Herzegovina"),
    "BN": ("Brunei",),
    # Congo-Kinshasa. "Zaire" is its name from 1971 to 1997: renamed, not split, so unambiguous.
    "CD": (
        "DR Congo", "D.R. Congo", "DRC", "D.R.C.", "Democratic Republic of the Congo",
        "Democratic Republic of Congo", "Congo, Democratic Republic of the",
        "Congo, Democratic Republic", "Congo, Dem. Rep.", "Congo (Kinshasa)", "Congo-Kinshasa",
        "Zaire",
    ),
    "CG": (
        "Republic of Congo", "Congo, Republic of the", "Congo, Republic of", "Congo, Rep.",
        "Congo (Brazzaville)", "Congo-Brazzaville",
    ),
    "CI": ("Ivory Coast",),
    "CN": (
        "Mainland China", "PRC", "P.R.C.", "PR China", "P.R. China", "China, People's Republic of",
        "China (Mainland)",
    ),
    "CV": ("Cape Verde",),
    "CZ": ("Czech Republic",),
    "DE": ("East Germany", "West Germany"),  # merged into today's Germany, so unambiguous
    "FK": ("Falklands",),
    # Micronesia is also a region, but in a country column it means the Federated States (FM).
    "FM": ("Micronesia",),
    # "Britain" and "Great Britain" are used for the whole state in everyday English; the
    # constituent countries (England, ...) are findings, see _NOT_COUNTRIES.
    "GB": (
        "UK", "U.K.", "Great Britain", "Britain",
        "United Kingdom of Great Britain and Northern Ireland",
    ),
    "KP": ("DPRK", "D.P.R.K.", "Korea, North", "Korea (North)", "Korea, Dem. People's Rep."),
    "KR": (
        "Republic of Korea", "Korea, South", "Korea (South)", "Korea, Rep.", "ROK",
    ),
    "LA": ("Lao PDR",),
    "LK": ("Ceylon",),
    # "Macedonia" (and FYROM) can only mean North Macedonia in a country column.
    "MK": ("Macedonia", "FYROM", "Former Yugoslav Republic of Macedonia"),
    "MM": ("Burma",),  # historic name of Myanmar; renamed, not split: unambiguous
    "MO": ("Macau",),
    "NL": ("Holland", "The Netherlands"),
    "PS": ("Palestine", "State of Palestine"),
    "RU": ("Russia",),
    "ST": ("Sao Tome",),
    "SX": ("Sint Maarten", "St Maarten", "Saint Maarten"),
    "SZ": ("Swaziland",),
    "TL": ("East Timor",),
    "TR": ("Turkey",),  # "Türkiye" is pycountry's name; accents fold, so "Turkiye" matches too
    "US": ("USA", "U.S.", "U.S.A.", "United States of America"),
    "VA": ("Vatican", "Vatican City", "Holy See", "Vatican City State"),
    _KOSOVO: ("Kosovo", "Republic of Kosovo"),
}

# Letters-only abbreviations read like codes: "UK" is exceptionally reserved for GB and "EL" for
# Greece (EU documents use EL), "XKX" is the three-letter code used for Kosovo.
_CODE_ALIASES: dict[str, str] = {
    "UK": "GB",
    "EL": "GR",
    "UAE": "AE",
    "DRC": "CD",
    "PRC": "CN",
    "ROK": "KR",
    "XKX": _KOSOVO,
}

# Names that genuinely match several present-day countries. Deliberately NOT here, because the
# name is that country's own ISO short name and so is not a guess:
#   "Guinea" -> GN (Guinea-Bissau, Equatorial Guinea and Papua New Guinea carry qualifiers),
#   "Samoa" -> WS (American Samoa is AS), "Sudan" -> SD (South Sudan is SS),
#   "Niger" -> NE (Nigeria is NG), "Dominica" -> DM (Dominican Republic is DO),
#   "Ireland" -> IE (Northern Ireland is part of GB), "Georgia" -> GE (the country, not the state).
_AMBIGUOUS: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("Korea",), ("KR", "KP"), ""),
    # "Congo" is pycountry's short name for CG, but in everyday use it means either state.
    (("Congo",), ("CD", "CG"), ""),
    (("Virgin Islands",), ("VG", "VI"), ""),
    (("America",), ("US",), ", or the code of another country in the Americas (e.g. CA, MX, BR)"),
    # The island is split between the French collectivity and the Dutch constituent country.
    (("Saint Martin", "St Martin"), ("MF", "SX"), ""),
    # Officially Taiwan's name, but often written loosely for the People's Republic.
    (("Republic of China",), ("CN", "TW"), ""),
    (("Timor",), ("TL", "ID"), ""),  # the island is shared by Timor-Leste and Indonesia
)


class _Historic(NamedTuple):
    label: str  # completes "is the withdrawn ISO code of ..."
    names: tuple[str, ...]
    codes: tuple[str, ...]  # withdrawn ISO codes that meant this state
    successors: tuple[str, ...]
    note: str  # what happened, for the message


# States that split: any single present-day code would be a guess, so a person must choose.
_HISTORIC: tuple[_Historic, ...] = (
    _Historic(
        "Czechoslovakia",
        ("Czechoslovakia", "Czechoslovak Socialist Republic", "CSSR"),
        ("CSK",),
        ("CZ", "SK"),
        "split in 1993",
    ),
    _Historic(
        "Yugoslavia",
        (
            "Yugoslavia", "Socialist Federal Republic of Yugoslavia", "SFR Yugoslavia", "SFRY",
            "Federal Republic of Yugoslavia",
        ),
        ("YU", "YUG"),
        ("BA", "HR", "ME", "MK", "RS", "SI", _KOSOVO),
        "broke up from 1991",
    ),
    _Historic(
        "the Soviet Union",
        ("Soviet Union", "USSR", "U.S.S.R.", "Union of Soviet Socialist Republics"),
        ("SU", "SUN"),
        (
            "AM", "AZ", "BY", "EE", "GE", "KG", "KZ", "LT", "LV", "MD", "RU", "TJ", "TM", "UA",
            "UZ",
        ),
        "dissolved in 1991",
    ),
    _Historic(
        "Serbia and Montenegro", ("Serbia and Montenegro",), ("SCG",), ("RS", "ME"), "split in 2006"
    ),
    _Historic(
        "the Netherlands Antilles",
        ("Netherlands Antilles",),
        ("AN", "ANT"),
        ("AW", "BQ", "CW", "SX"),
        "Aruba left in 1986, the rest dissolved in 2010",
    ),
)
# CS meant Czechoslovakia until 1993 and was later reused for Serbia and Montenegro.
_CS_DETAIL = (
    "is a withdrawn ISO code (Czechoslovakia until 1993, then Serbia and Montenegro until 2006)"
)
_CS_SUCCESSORS = ("CZ", "SK", "RS", "ME")

_UK_PART = "is part of the United Kingdom, which has one ISO code: write GB"
_NOT_A_COUNTRY = "is not a country: write the ISO code of the country itself (e.g. DE, FR)"
_PLACEHOLDER = f"is a placeholder, not a country: {_EXAMPLE}"

# Text that is recognisably not a country; reported as problem "unknown" with a precise message.
_NOT_COUNTRIES: dict[str, str] = {
    "England": _UK_PART,
    "Scotland": _UK_PART,
    "Wales": _UK_PART,
    "Northern Ireland": _UK_PART,
    "EU": _NOT_A_COUNTRY,
    "European Union": _NOT_A_COUNTRY,
    "Europe": _NOT_A_COUNTRY,
    # "NA" itself is Namibia (letters-only input is read as a code first); these are not.
    "N/A": _PLACEHOLDER,
    "n.a.": _PLACEHOLDER,
    "TBD": _PLACEHOLDER,
    "TBA": _PLACEHOLDER,
    "TBC": _PLACEHOLDER,
    "unknown": _PLACEHOLDER,
    "none": _PLACEHOLDER,
    "null": _PLACEHOLDER,
    "nil": _PLACEHOLDER,
    "nan": _PLACEHOLDER,  # what str(float("nan")) gives when a missing cell is stringified
    "various": _PLACEHOLDER,
    "multiple": _PLACEHOLDER,
}

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

# Curly and look-alike apostrophes become straight ones before anything else.
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2018\u2019\u02bc\u02b9\u0060\u00b4\u2032", "'"))


def _clean(text: str) -> str:
    """The cache key: casefolded, accents folded, whitespace collapsed, trailing full stop gone.

    NFKD turns non-breaking and other compatibility spaces into plain spaces and splits accented
    letters into a base letter and combining marks, which are dropped ("Côte" -> "cote").
    Invisible format characters (zero-width space, BOM) pasted from web pages are dropped too.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    kept = "".join(
        ch
        for ch in decomposed
        if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf"
    )
    cleaned = " ".join(kept.casefold().split())
    if cleaned.endswith("."):
        cleaned = cleaned[:-1].rstrip()
    return cleaned


def _compact(cleaned: str) -> str:
    """Name key: letters and digits only, so punctuation and spacing never decide a match.

    "Korea, Republic of", "Guinea Bissau", "St. Kitts & Nevis" and "U.S.A." all reduce to one
    key per spelling. Codes live in a separate table, so "N/A" (key "na") is not Namibia.
    """
    return "".join(ch for ch in cleaned.replace("&", " and ") if ch.isalnum())


def _name_key(name: str) -> str:
    return _compact(_clean(name))


# --------------------------------------------------------------------------------------------
# Lookup tables, built once at first use
# --------------------------------------------------------------------------------------------


class _Entry(NamedTuple):
    code: str | None
    problem: str | None
    detail: str | None  # the message after the quoted input text


@dataclass(frozen=True, slots=True)
class _Tables:
    codes: dict[str, _Entry]  # upper-case letters-only input -> entry
    names: dict[str, _Entry]  # _compact key -> entry
    display: dict[str, str]  # alpha-2 -> short name
    country_codes: tuple[str, ...]
    suggestions: tuple[str, ...]  # name keys that resolve, for "did you mean"


def _add(table: dict[str, _Entry], key: str, entry: _Entry) -> None:
    """Add a key, refusing two different meanings for one key (a data error, found in tests)."""
    if not key:
        raise RuntimeError("country table: empty key")
    old = table.get(key)
    if old is not None and old != entry:
        raise RuntimeError(f"country table: {key!r} means both {old} and {entry}")
    table[key] = entry


def _choices(codes: Iterable[str], display: dict[str, str]) -> str:
    """'KR (South Korea) or KP (North Korea)'."""
    parts = [f"{code} ({display[code]})" for code in codes]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


@functools.lru_cache(maxsize=1)
def _tables() -> _Tables:
    import pycountry  # deliberately lazy: see the module docstring

    codes: dict[str, _Entry] = {}
    names: dict[str, _Entry] = {}
    display: dict[str, str] = {}

    def add_name(name: str, entry: _Entry) -> None:
        key = _name_key(name)
        _add(names, key, entry)
        if key.startswith("saint"):  # "St Lucia", "St. Kitts & Nevis"
            _add(names, "st" + key.removeprefix("saint"), entry)

    for country in pycountry.countries:
        code: str = country.alpha_2
        entry = _Entry(code, None, None)
        _add(codes, code, entry)
        _add(codes, country.alpha_3, entry)
        common = getattr(country, "common_name", None)
        official = getattr(country, "official_name", None)
        display[code] = common or country.name
        for name in (country.name, official, common):
            if name:
                add_name(name, entry)

    kosovo = _Entry(_KOSOVO, None, None)
    _add(codes, _KOSOVO, kosovo)
    display.update(_DISPLAY_NAMES)
    for code, name in display.items():
        add_name(name, _Entry(code, None, None))
    for code, aliases in _ALIASES.items():
        for alias in aliases:
            add_name(alias, _Entry(code, None, None))
    for alias, code in _CODE_ALIASES.items():
        _add(codes, alias, _Entry(code, None, None))

    # Problems last: they deliberately override pycountry where its short name is ambiguous in
    # everyday use ("Congo"), so plain assignment instead of _add.
    for spellings, candidates, tail in _AMBIGUOUS:
        detail = f"is ambiguous: write {_choices(candidates, display)}{tail}"
        entry = _Entry(None, AMBIGUOUS, detail)
        for spelling in spellings:
            names[_name_key(spelling)] = entry
    for historic in _HISTORIC:
        choose = f": write the present-day code, {_choices(historic.successors, display)}"
        entry = _Entry(None, HISTORIC, f"is a former country ({historic.note}){choose}")
        for spelling in historic.names:
            _add(names, _name_key(spelling), entry)
        about_code = f"is the withdrawn ISO code of {historic.label} ({historic.note})"
        for old_code in historic.codes:
            _add(codes, old_code, _Entry(None, HISTORIC, about_code + choose))
    choose = f": write the present-day code, {_choices(_CS_SUCCESSORS, display)}"
    _add(codes, "CS", _Entry(None, HISTORIC, _CS_DETAIL + choose))
    for text, detail in _NOT_COUNTRIES.items():
        _add(names, _name_key(text), _Entry(None, UNKNOWN, detail))

    # Only names that resolve are suggested, and only long enough ones (not "uk", "us").
    suggestions = tuple(
        sorted(key for key, entry in names.items() if entry.code and len(key) >= 4)
    )
    country_codes = tuple(sorted(display))
    return _Tables(codes, names, display, country_codes, suggestions)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _lookup(cleaned: str, tables: _Tables) -> _Entry | None:
    if cleaned.isascii() and cleaned.isalpha() and len(cleaned) in (2, 3):
        entry = tables.codes.get(cleaned.upper())
        if entry is not None:
            return entry
    entry = tables.names.get(_compact(cleaned))
    if entry is None and cleaned.startswith("the "):  # "The Gambia", "the USA"
        return _lookup(cleaned.removeprefix("the "), tables)
    return entry


def _unknown(cleaned: str, tables: _Tables) -> _Entry:
    detail = f"is not a country name or ISO 3166-1 code we recognise; {_EXAMPLE}"
    key = _compact(cleaned)
    if 4 <= len(key) <= 60:  # short strings match too much, long ones are not names
        close = difflib.get_close_matches(key, tables.suggestions, n=1, cutoff=0.8)
        if close:
            code = tables.names[close[0]].code
            assert code is not None  # suggestions only hold names that resolve
            detail = (
                "is not a country name or ISO 3166-1 code we recognise; did you mean "
                f"{tables.display[code]} ({code})? If not, {_EXAMPLE}"
            )
    return _Entry(None, UNKNOWN, detail)


@functools.lru_cache(maxsize=8192)
def _resolve(cleaned: str) -> _Entry:
    """Cached on the normalised key, so "china", "CHINA " and "China." share one entry."""
    tables = _tables()
    return _lookup(cleaned, tables) or _unknown(cleaned, tables)


def normalise_country(text: str) -> CountryMatch:
    """Resolve what a person typed to an ISO alpha-2 code, or say why it cannot be resolved.

    The message quotes the input as typed (whitespace tidied), so it is only built here and not
    cached: "korea" and "KOREA" share the cached entry but each message names its own text.
    """
    cleaned = _clean(text)
    if not cleaned:
        return CountryMatch(None, UNKNOWN, f"The country is empty: {_EXAMPLE}")
    entry = _resolve(cleaned)
    if entry.problem is None:
        return CountryMatch(entry.code, None, None)
    shown = " ".join(text.split())
    return CountryMatch(None, entry.problem, f'"{shown}" {entry.detail}')


def normalise_countries(values: Iterable[str | None]) -> dict[str, CountryMatch]:
    """Map each distinct non-empty input string, exactly as given, to its match.

    Meant for the unique values of a large column: the keys are the original strings, so the
    result can be mapped back onto the column. None, "" and whitespace-only strings are missing
    values, not countries, and are left out; the caller reports missing cells its own way.
    """
    result: dict[str, CountryMatch] = {}
    for value in values:
        if value is None or value in result or not value.strip():
            continue
        result[value] = normalise_country(value)
    return result


def country_name(code: str) -> str:
    """Short common name for messages: "CN" -> "China", "KR" -> "South Korea".

    Takes a code as :func:`normalise_country` returns it (upper-case alpha-2); raises ValueError
    for anything else.
    """
    try:
        return _tables().display[code]
    except KeyError:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code") from None


def is_country_code(code: str) -> bool:
    """True for a code in :data:`COUNTRY_CODES` (upper-case alpha-2, XK included).

    Strict on purpose: it validates stored, already normalised codes ("cn" is False). Use
    :func:`normalise_country` for text a person typed.
    """
    return isinstance(code, str) and code in _tables().display


def __getattr__(name: str) -> object:
    """Compute COUNTRY_CODES on first access (PEP 562), keeping the import free of pycountry."""
    if name == "COUNTRY_CODES":
        codes = _tables().country_codes
        globals()[name] = codes
        return codes
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

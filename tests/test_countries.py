"""Tests for compliance.countries: normalising typed countries to ISO alpha-2 codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pycountry
import pytest

from compliance import countries
from compliance.countries import (
    COUNTRY_CODES,
    CountryMatch,
    country_name,
    is_country_code,
    normalise_countries,
    normalise_country,
)

ISO_COUNTRIES = list(pycountry.countries)


def resolved(text: str) -> str | None:
    match = normalise_country(text)
    if match.code is not None:
        assert match.problem is None and match.message is None, match
    return match.code


# --- codes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("country", ISO_COUNTRIES, ids=lambda c: c.alpha_2)
def test_every_iso_alpha2_and_alpha3_resolves(country: object) -> None:
    alpha_2 = country.alpha_2  # type: ignore[attr-defined]
    alpha_3 = country.alpha_3  # type: ignore[attr-defined]
    assert normalise_country(alpha_2) == CountryMatch(alpha_2, None, None)
    assert resolved(alpha_2.lower()) == alpha_2
    assert resolved(alpha_3) == alpha_2
    assert resolved(alpha_3.lower()) == alpha_2


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("NA", "NA"),  # Namibia, never "missing"
        ("na", "NA"),
        (" NA ", "NA"),
        ("NAM", "NA"),
        ("NO", "NO"),  # Norway
        ("no", "NO"),
        ("No.", "NO"),
        ("CHN", "CN"),
        ("chn", "CN"),
        ("USA", "US"),
        ("XK", "XK"),  # Kosovo, user-assigned but accepted
        ("XKX", "XK"),
        ("UK", "GB"),  # exceptionally reserved for GB
        ("EL", "GR"),  # exceptionally reserved for Greece, used by the EU
    ],
)
def test_codes(text: str, code: str) -> None:
    assert resolved(text) == code


def test_namibia_and_norway_by_name() -> None:
    assert resolved("Namibia") == "NA"
    assert resolved("Norway") == "NO"
    assert country_name("NA") == "Namibia"
    assert country_name("NO") == "Norway"


# --- names -----------------------------------------------------------------------------------


def _iso_names() -> list[tuple[str, str]]:
    pairs = []
    for country in ISO_COUNTRIES:
        for attr in ("name", "official_name", "common_name"):
            name = getattr(country, attr, None)
            if name and name != "Congo":  # "Congo" is deliberately ambiguous, tested below
                pairs.append((name, country.alpha_2))
    return pairs


@pytest.mark.parametrize(("text", "code"), _iso_names())
def test_every_iso_name_official_and_common_name_resolves(text: str, code: str) -> None:
    assert resolved(text) == code
    assert resolved(text.upper()) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("USA", "US"),
        ("U.S.", "US"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("United States of America", "US"),
        ("the USA", "US"),
        ("UK", "GB"),
        ("U.K.", "GB"),
        ("Great Britain", "GB"),
        ("Britain", "GB"),
        ("United Kingdom", "GB"),
        ("Russia", "RU"),
        ("Iran", "IR"),
        ("Vietnam", "VN"),
        ("Viet Nam", "VN"),
        ("Laos", "LA"),
        ("Syria", "SY"),
        ("Bolivia", "BO"),
        ("Venezuela", "VE"),
        ("Tanzania", "TZ"),
        ("Moldova", "MD"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("Turkiye", "TR"),
        ("Ivory Coast", "CI"),
        ("Burma", "MM"),
        ("Myanmar", "MM"),
        ("Holland", "NL"),
        ("The Netherlands", "NL"),
        ("Netherlands", "NL"),
        ("South Korea", "KR"),
        ("Republic of Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("North Korea", "KP"),
        ("DPRK", "KP"),
        ("Democratic People's Republic of Korea", "KP"),
        ("Taiwan", "TW"),
        ("Macau", "MO"),
        ("Macao", "MO"),
        ("Hong Kong", "HK"),
        ("Palestine", "PS"),
        ("Vatican", "VA"),
        ("Holy See", "VA"),
        ("DR Congo", "CD"),
        ("DRC", "CD"),
        ("Democratic Republic of the Congo", "CD"),
        ("Congo-Kinshasa", "CD"),
        ("Zaire", "CD"),
        ("Republic of the Congo", "CG"),
        ("Congo-Brazzaville", "CG"),
        ("Swaziland", "SZ"),
        ("Eswatini", "SZ"),
        ("East Timor", "TL"),
        ("Cape Verde", "CV"),
        ("Micronesia", "FM"),
        ("Brunei", "BN"),
        ("Mainland China", "CN"),
        ("PRC", "CN"),
        ("People's Republic of China", "CN"),
        ("China", "CN"),
        ("Kosovo", "XK"),
        ("North Macedonia", "MK"),
        ("Macedonia", "MK"),
        ("UAE", "AE"),
        ("The Gambia", "GM"),
        ("St. Kitts & Nevis", "KN"),
        ("St Lucia", "LC"),
        ("Bosnia & Herzegovina", "BA"),
        ("Guinea Bissau", "GW"),
    ],
)
def test_aliases(text: str, code: str) -> None:
    assert resolved(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # Decided NOT ambiguous: each is that country's own ISO short name.
        ("Guinea", "GN"),
        ("Guinea-Bissau", "GW"),
        ("Equatorial Guinea", "GQ"),
        ("Papua New Guinea", "PG"),
        ("Samoa", "WS"),
        ("American Samoa", "AS"),
        ("Sudan", "SD"),
        ("South Sudan", "SS"),
        ("Niger", "NE"),
        ("Nigeria", "NG"),
        ("Dominica", "DM"),
        ("Dominican Republic", "DO"),
        ("Ireland", "IE"),
        ("Georgia", "GE"),
    ],
)
def test_similar_names_are_kept_apart(text: str, code: str) -> None:
    assert resolved(text) == code


# --- normalisation of the typed text ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("china", "CN"),
        ("CHINA", "CN"),
        ("  China  ", "CN"),
        ("China.", "CN"),
        ("\tChina\n", "CN"),
        ("united   states", "US"),
        ("United\u00a0States", "US"),  # non-breaking space
        ("\u00a0CN\u00a0", "CN"),
        ("United\u202fKingdom", "GB"),  # narrow no-break space
        ("Chi\u200bna", "CN"),  # zero-width space pasted from a web page
        ("Côte d'Ivoire", "CI"),
        ("Cote d'Ivoire", "CI"),
        ("Côte d’Ivoire", "CI"),  # curly apostrophe
        ("COTE D'IVOIRE", "CI"),
        ("cote d'ivoire.", "CI"),
        ("People’s Republic of China", "CN"),
        ("Curacao", "CW"),
        ("Réunion", "RE"),
        ("Aland Islands", "AX"),
        ("Sao Tome and Principe", "ST"),
    ],
)
def test_case_space_nbsp_accents_apostrophes(text: str, code: str) -> None:
    assert resolved(text) == code


# --- ambiguous -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "candidates"),
    [
        ("Korea", ("KR", "KP")),
        ("korea ", ("KR", "KP")),
        ("Congo", ("CD", "CG")),
        ("The Congo", ("CD", "CG")),
        ("Virgin Islands", ("VG", "VI")),
        ("America", ("US",)),
        ("Saint Martin", ("MF", "SX")),
        ("St. Martin", ("MF", "SX")),
        ("Republic of China", ("CN", "TW")),
        ("Timor", ("TL", "ID")),
    ],
)
def test_ambiguous(text: str, candidates: tuple[str, ...]) -> None:
    match = normalise_country(text)
    assert match.code is None
    assert match.problem == "ambiguous"
    assert match.message is not None
    assert match.message.startswith(f'"{text.strip()}" is ambiguous: write ')
    for code in candidates:
        assert f"{code} ({country_name(code)})" in match.message


def test_korea_message_names_both_koreas() -> None:
    assert normalise_country("Korea").message == (
        '"Korea" is ambiguous: write KR (South Korea) or KP (North Korea)'
    )


def test_message_quotes_the_text_as_typed_despite_the_shared_cache() -> None:
    assert normalise_country("korea").message.startswith('"korea" ')  # type: ignore[union-attr]
    assert normalise_country("KOREA").message.startswith('"KOREA" ')  # type: ignore[union-attr]
    nbsp = normalise_country("Virgin\u00a0Islands").message
    assert nbsp is not None and nbsp.startswith('"Virgin Islands" ')


# --- historic --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "successors"),
    [
        ("Czechoslovakia", ("CZ", "SK")),
        ("CSK", ("CZ", "SK")),
        ("Yugoslavia", ("BA", "HR", "ME", "MK", "RS", "SI", "XK")),
        ("YU", ("BA", "HR", "ME", "MK", "RS", "SI", "XK")),
        ("USSR", ("RU", "UA", "BY", "KZ", "EE", "LV", "LT", "GE", "AM", "AZ", "MD")),
        ("U.S.S.R.", ("RU", "UA")),
        ("Soviet Union", ("RU", "UA", "UZ", "TJ", "TM", "KG")),
        ("SU", ("RU", "UA")),
        ("Serbia and Montenegro", ("RS", "ME")),
        ("Serbia & Montenegro", ("RS", "ME")),
        ("SCG", ("RS", "ME")),
        ("Netherlands Antilles", ("BQ", "CW", "SX")),
        ("ANT", ("BQ", "CW", "SX")),
        ("CS", ("CZ", "SK", "RS", "ME")),
    ],
)
def test_historic(text: str, successors: tuple[str, ...]) -> None:
    match = normalise_country(text)
    assert match.code is None
    assert match.problem == "historic"
    assert match.message is not None
    assert match.message.startswith(f'"{text}" ')
    assert "present-day code" in match.message
    for code in successors:
        assert f"{code} ({country_name(code)})" in match.message


def test_historic_names_of_renamed_countries_resolve() -> None:
    # Renamed, not split: there is exactly one present-day country.
    assert resolved("Burma") == "MM"
    assert resolved("Zaire") == "CD"
    assert resolved("Swaziland") == "SZ"
    assert resolved("East Timor") == "TL"


# --- unknown ---------------------------------------------------------------------------------


def test_unknown_without_suggestion() -> None:
    match = normalise_country("Atlantis")
    assert match == CountryMatch(
        None,
        "unknown",
        '"Atlantis" is not a country name or ISO 3166-1 code we recognise; '
        "write the two-letter ISO code (e.g. CN, US)",
    )


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("Austrlia", "Australia (AU)"),
        ("Untied States", "United States (US)"),
        ("Chna", "China (CN)"),
        ("Germny", "Germany (DE)"),
        ("Nigera", "Nigeria (NG)"),
    ],
)
def test_unknown_with_suggestion(text: str, suggestion: str) -> None:
    match = normalise_country(text)
    assert match.code is None
    assert match.problem == "unknown"
    assert match.message is not None
    assert match.message.startswith(f'"{text}" is not a country name')
    assert f"did you mean {suggestion}?" in match.message


@pytest.mark.parametrize("text", ["ZZ", "QQQ", "AA", "12", "-", "?"])
def test_unknown_codes_and_symbols(text: str) -> None:
    match = normalise_country(text)
    assert (match.code, match.problem) == (None, "unknown")
    assert match.message is not None and "did you mean" not in match.message


@pytest.mark.parametrize("text", ["England", "Scotland", "Wales", "Northern Ireland"])
def test_uk_nations_are_findings_pointing_at_gb(text: str) -> None:
    match = normalise_country(text)
    assert (match.code, match.problem) == (None, "unknown")
    assert match.message is not None and match.message.endswith("write GB")


@pytest.mark.parametrize("text", ["EU", "European Union"])
def test_eu_is_not_a_country(text: str) -> None:
    match = normalise_country(text)
    assert (match.code, match.problem) == (None, "unknown")
    assert match.message is not None and "is not a country" in match.message


@pytest.mark.parametrize("text", ["N/A", "n/a", "n.a.", "N A", "TBD", "unknown", "nan", "None"])
def test_placeholders_are_never_namibia(text: str) -> None:
    match = normalise_country(text)
    assert (match.code, match.problem) == (None, "unknown")
    assert match.message is not None and "placeholder" in match.message


@pytest.mark.parametrize("text", ["", "   ", "\u00a0", "\t\n"])
def test_empty_is_unknown_without_crashing(text: str) -> None:
    match = normalise_country(text)
    assert match.code is None
    assert match.problem == "unknown"
    assert match.message is not None and "empty" in match.message


# --- normalise_countries ---------------------------------------------------------------------


def test_normalise_countries_maps_distinct_values() -> None:
    values = ["CN", "China", None, "CN", "", "  ", "Korea", "china", "Atlantis", None, "China"]
    result = normalise_countries(values)
    assert list(result) == ["CN", "China", "Korea", "china", "Atlantis"]
    assert result["CN"] == CountryMatch("CN", None, None)
    assert result["China"].code == "CN"
    assert result["china"].code == "CN"
    assert result["Korea"].problem == "ambiguous"
    assert result["Atlantis"].problem == "unknown"


def test_normalise_countries_accepts_any_iterable() -> None:
    result = normalise_countries(v for v in ("US", "us ", None))
    assert result == {"US": CountryMatch("US", None, None), "us ": CountryMatch("US", None, None)}
    assert normalise_countries([]) == {}


# --- COUNTRY_CODES, country_name, is_country_code --------------------------------------------


def test_country_codes() -> None:
    assert {"US", "CN", "JP", "NA", "XK"} <= set(COUNTRY_CODES)
    assert list(COUNTRY_CODES) == sorted(COUNTRY_CODES)
    assert len(set(COUNTRY_CODES)) == len(COUNTRY_CODES)
    assert set(COUNTRY_CODES) == {c.alpha_2 for c in ISO_COUNTRIES} | {"XK"}
    assert isinstance(COUNTRY_CODES, tuple)
    assert countries.COUNTRY_CODES is COUNTRY_CODES


def test_country_name() -> None:
    assert country_name("CN") == "China"
    assert country_name("US") == "United States"
    assert country_name("GB") == "United Kingdom"
    assert country_name("KR") == "South Korea"
    assert country_name("CD") == "Democratic Republic of the Congo"
    assert country_name("XK") == "Kosovo"
    with pytest.raises(ValueError, match="'ZZ' is not"):
        country_name("ZZ")
    with pytest.raises(ValueError):
        country_name("cn")


@pytest.mark.parametrize("code", COUNTRY_CODES)
def test_every_code_is_valid_and_its_name_resolves_back(code: str) -> None:
    # The names used in messages must themselves be accepted as input.
    assert is_country_code(code)
    assert resolved(country_name(code)) == code
    assert resolved(code) == code


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("CN", True),
        ("NA", True),
        ("XK", True),
        ("cn", False),  # strict: validates normalised codes, not typed text
        ("CHN", False),
        ("UK", False),
        ("EL", False),
        ("CS", False),
        ("ZZ", False),
        ("", False),
    ],
)
def test_is_country_code(code: str, valid: bool) -> None:
    assert is_country_code(code) is valid


def test_unknown_module_attribute_raises() -> None:
    with pytest.raises(AttributeError):
        countries.NOT_THERE  # noqa: B018


def test_import_does_not_load_pycountry() -> None:
    # CLI start-up time: pycountry is imported at first use, not at import.
    code = "import sys, compliance.countries; print('pycountry' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"

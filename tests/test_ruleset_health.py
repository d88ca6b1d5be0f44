"""Health of every bundled ruleset: cited, dated in order, reviewed, and the 30D law table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from compliance.countries import is_country_code
from compliance.rules.loader import (
    EDITIONS_DIR,
    RULESET_FILE,
    LoadedRuleset,
    available,
    bundled_dir,
    load_ruleset,
)
from compliance.rules.model import Status, Unit
from compliance.rules.yaml_strict import load_strict

BUNDLED = available()
# Every bundled file: each ruleset's current edition and its older editions kept for replay.
FILES = [f for folder in BUNDLED
         for f in [folder / RULESET_FILE, *sorted((folder / EDITIONS_DIR).glob("*.yaml"))]]
STATUSES = {"confirmed", "secondary", "unconfirmed"}


def test_there_are_bundled_rulesets() -> None:
    assert "us-ira-30d" in [p.name for p in BUNDLED]


@pytest.fixture(params=FILES, ids=[str(f.relative_to(bundled_dir())) for f in FILES])
def bundled(request: pytest.FixtureRequest) -> tuple[LoadedRuleset, dict]:
    path: Path = request.param
    # Loading runs every check of the loader, among them "every parameter is used by some
    # requirement" and "every name a requirement uses exists".
    loaded = load_ruleset(path)
    raw = load_strict(path.read_bytes())
    return loaded, raw


def test_file_location_matches_id_and_version(bundled: tuple[LoadedRuleset, dict]) -> None:
    loaded, _ = bundled
    if loaded.path.name == RULESET_FILE:
        assert loaded.path.parent.name == loaded.id
        assert load_ruleset(loaded.id).sha256 == loaded.sha256
    else:
        assert loaded.path.parent.name == EDITIONS_DIR
        assert loaded.path.parent.parent.name == loaded.id
        assert loaded.path.stem == loaded.version
        assert load_ruleset(f"{loaded.id}@{loaded.version}").sha256 == loaded.sha256


def test_every_dated_value_is_cited(bundled: tuple[LoadedRuleset, dict]) -> None:
    loaded, _ = bundled
    for name, param in loaded.ruleset.parameters.items():
        for day, item in param.values.items():
            assert item.source, (name, day)
            for citation in item.source:
                assert citation.title.strip(), (name, day)
                if citation.href is not None:
                    assert citation.href.startswith("https://"), (name, day, citation.href)


def test_every_requirement_is_cited(bundled: tuple[LoadedRuleset, dict]) -> None:
    loaded, _ = bundled
    for req in loaded.ruleset.requirements:
        assert req.citation and all(c.title.strip() for c in req.citation), req.id


def test_statuses_are_known(bundled: tuple[LoadedRuleset, dict]) -> None:
    loaded, raw = bundled
    for name, param in raw["parameters"].items():
        for day, item in param["values"].items():
            assert item["status"] in STATUSES, (name, day)
    for param in loaded.ruleset.parameters.values():
        assert all(isinstance(item.status, Status) for item in param.values.values())


def test_dates_are_iso_and_ascending_in_the_file(bundled: tuple[LoadedRuleset, dict]) -> None:
    loaded, raw = bundled
    for name, param in raw["parameters"].items():
        keys = list(param["values"])  # the strict loader keeps the file's order
        days = [dt.date.fromisoformat(k) for k in keys]
        assert [d.isoformat() for d in days] == keys, f"{name}: write dates as YYYY-MM-DD"
        assert days == sorted(days), f"{name}: values are not in date order in the file"
        assert len(set(days)) == len(days), name
        assert list(loaded.ruleset.parameters[name].values) == days


def test_values_fit_their_units(bundled: tuple[LoadedRuleset, dict]) -> None:
    loaded, _ = bundled
    for name, param in loaded.ruleset.parameters.items():
        for day, item in param.values.items():
            v = item.value
            if v is None:
                continue
            if param.unit is Unit.COUNTRIES:
                assert all(is_country_code(c) for c in v), (name, day)
                assert all(isinstance(c, str) and len(c) == 2 for c in v), (name, day)
            elif param.unit is Unit.BOOLEAN:
                assert isinstance(v, bool), (name, day)
            elif param.unit is Unit.PERCENT:
                assert 0 <= v <= 100, (name, day)


def test_last_reviewed_is_not_in_the_future(bundled: tuple[LoadedRuleset, dict]) -> None:
    loaded, raw = bundled
    reviewed = loaded.ruleset.last_reviewed
    assert raw["last_reviewed"] == reviewed.isoformat()
    assert reviewed <= dt.date.today(), f"last_reviewed {reviewed} is in the future"


def test_versions_are_semver_text(bundled: tuple[LoadedRuleset, dict]) -> None:
    loaded, raw = bundled
    assert isinstance(raw["version"], str)
    assert len(loaded.version.split(".")) == 3


# The US 30D ruleset against the law table ------------------------------------------------------


@pytest.fixture(scope="module")
def ira() -> LoadedRuleset:
    return load_ruleset("us-ira-30d")


def values(loaded: LoadedRuleset, name: str) -> dict[dt.date, object]:
    return {day: item.value for day, item in loaded.ruleset.parameters[name].values.items()}


def in_force(loaded: LoadedRuleset, name: str, day: dt.date) -> object:
    found = loaded.ruleset.parameters[name].at(day)
    return None if found is None else found[1].value


D = dt.date


def test_critical_minerals_thresholds(ira: LoadedRuleset) -> None:
    assert values(ira, "critical_minerals_pct") == {
        D(2023, 4, 18): 40, D(2024, 1, 1): 50, D(2025, 1, 1): 60, D(2026, 1, 1): 70,
        D(2027, 1, 1): 80}
    assert in_force(ira, "critical_minerals_pct", D(2023, 4, 17)) is None
    assert in_force(ira, "critical_minerals_pct", D(2023, 12, 31)) == 40
    assert in_force(ira, "critical_minerals_pct", D(2024, 12, 31)) == 50
    assert in_force(ira, "critical_minerals_pct", D(2025, 1, 1)) == 60
    assert in_force(ira, "critical_minerals_pct", D(2030, 1, 1)) == 80


def test_battery_components_thresholds(ira: LoadedRuleset) -> None:
    assert values(ira, "battery_components_pct") == {
        D(2023, 4, 18): 50, D(2024, 1, 1): 60, D(2026, 1, 1): 70, D(2027, 1, 1): 80,
        D(2028, 1, 1): 90, D(2029, 1, 1): 100}
    assert in_force(ira, "battery_components_pct", D(2023, 4, 17)) is None
    assert in_force(ira, "battery_components_pct", D(2025, 12, 31)) == 60
    assert in_force(ira, "battery_components_pct", D(2029, 1, 1)) == 100


def test_credit_amounts(ira: LoadedRuleset) -> None:
    for name in ("critical_minerals_credit_usd", "battery_components_credit_usd"):
        assert in_force(ira, name, D(2024, 6, 30)) == 3750


def test_credit_ends_after_2025_09_30(ira: LoadedRuleset) -> None:
    assert in_force(ira, "credit_available", D(2025, 9, 30)) is True
    assert in_force(ira, "credit_available", D(2025, 10, 1)) is False


FTA_20 = {"AU", "BH", "CA", "CL", "CO", "CR", "DO", "SV", "GT", "HN", "IL", "JO", "KR", "MX",
          "MA", "NI", "OM", "PA", "PE", "SG"}


def test_fta_countries(ira: LoadedRuleset) -> None:
    before = in_force(ira, "fta_countries", D(2023, 3, 27))
    assert isinstance(before, list)
    assert len(before) == 20
    assert set(before) == FTA_20
    after = in_force(ira, "fta_countries", D(2023, 3, 28))
    assert isinstance(after, list)
    assert len(after) == 21
    assert set(after) == FTA_20 | {"JP"}
    assert "NO" not in after  # Norway read as the string "NO", and not an FTA partner


def test_feoc_parameters(ira: LoadedRuleset) -> None:
    assert set(in_force(ira, "covered_nations", D(2024, 1, 1))) == {"CN", "RU", "KP", "IR"}
    assert set(in_force(ira, "feoc_lists", D(2024, 1, 1))) == {"FTO", "SDN"}
    assert in_force(ira, "feoc_government_share_pct", D(2024, 6, 1)) == 25
    assert in_force(ira, "feoc_components_in_force", D(2023, 12, 31)) is False
    assert in_force(ira, "feoc_components_in_force", D(2024, 1, 1)) is True
    assert in_force(ira, "feoc_minerals_in_force", D(2024, 12, 31)) is False
    assert in_force(ira, "feoc_minerals_in_force", D(2025, 1, 1)) is True
    assert in_force(ira, "impracticable_to_trace_relief", D(2026, 12, 31)) is True
    assert in_force(ira, "impracticable_to_trace_relief", D(2027, 1, 1)) is False
    assert set(in_force(ira, "north_america", D(2024, 1, 1))) == {"US", "CA", "MX"}

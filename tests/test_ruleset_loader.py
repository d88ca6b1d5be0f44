"""A malformed ruleset is refused with the file, the key and the reason; never loaded wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from compliance.cli import main
from compliance.errors import RulesetError
from compliance.rules.loader import load_ruleset

REPO = Path(__file__).resolve().parent.parent
SOURCE = (REPO / "rulesets" / "us-ira-30d" / "ruleset.yaml").read_text(encoding="utf-8")

CM_2025 = '"2025-01-01": {value: 60, status: secondary, source: *cm_sources}'
CM_2027 = '"2027-01-01": {value: 80, status: secondary, source: *cm_sources}'
FTA_JP_END = "OM, PA, PE, SG, JP]"
SPARE_PARAMETER = """
  spare_pct:
    description: A parameter nothing refers to.
    unit: percent
    values:
      "2024-01-01":
        value: 10
        status: confirmed
        source:
          - title: Some statute
"""


def mutate(tmp_path: Path, old: str, new: str, *, count: int = 1) -> Path:
    """A copy of the 30D ruleset with ``old`` replaced by ``new`` (which must be present)."""
    assert SOURCE.count(old) >= count, f"{old!r} is not in the ruleset any more"
    path = tmp_path / "broken" / "ruleset.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(SOURCE.replace(old, new, count), encoding="utf-8")
    return path


def refused(path: Path, *keys: str) -> str:
    with pytest.raises(RulesetError) as info:
        load_ruleset(path)
    message = str(info.value)
    assert str(path) in message, message
    for key in keys:
        assert key in message, f"{key!r} not in {message!r}"
    assert info.value.code == "invalid-ruleset"
    return message


def test_unmodified_copy_loads(tmp_path: Path) -> None:
    path = mutate(tmp_path, "", "", count=0)
    loaded = load_ruleset(path)
    assert loaded.id == "us-ira-30d"
    assert loaded.sha256 == load_ruleset("us-ira-30d").sha256


def test_duplicate_date_key(tmp_path: Path) -> None:
    dup = CM_2025 + "\n      " + CM_2025.replace("60", "65")
    message = refused(mutate(tmp_path, CM_2025, dup), "duplicate key", "2025-01-01")
    assert "line" in message


def test_dated_value_without_source(tmp_path: Path) -> None:
    path = mutate(tmp_path, CM_2025, '"2025-01-01": {value: 60, status: secondary}')
    refused(path, "parameters.critical_minerals_pct.values.2025-01-01.source")


def test_dated_value_with_empty_source(tmp_path: Path) -> None:
    path = mutate(tmp_path, CM_2025, '"2025-01-01": {value: 60, status: secondary, source: []}')
    refused(path, "critical_minerals_pct", "2025-01-01", "source")


def test_percent_over_100(tmp_path: Path) -> None:
    path = mutate(tmp_path, CM_2027, CM_2027.replace("80", "140"))
    refused(path, "critical_minerals_pct", "2027-01-01", "140", "out of range")


def test_negative_amount(tmp_path: Path) -> None:
    path = mutate(tmp_path, "value: 3750\n", "value: -1\n")
    refused(path, "critical_minerals_credit_usd", "out of range")


def test_unknown_status(tmp_path: Path) -> None:
    path = mutate(tmp_path, CM_2027, CM_2027.replace("secondary", "probably"))
    refused(path, "critical_minerals_pct.values.2027-01-01.status")


def test_unknown_country_code(tmp_path: Path) -> None:
    path = mutate(tmp_path, FTA_JP_END, "OM, PA, PE, SG, JP, XX]")
    refused(path, "fta_countries", "XX", "unknown country")


def test_country_named_twice(tmp_path: Path) -> None:
    path = mutate(tmp_path, FTA_JP_END, "OM, PA, PE, SG, JP, AU]")
    refused(path, "fta_countries", "twice")


def test_norway_unquoted_is_the_string_no(tmp_path: Path) -> None:
    # PyYAML's safe_load reads a bare NO as False; the strict loader must read the code.
    path = mutate(tmp_path, FTA_JP_END, "OM, PA, PE, SG, JP, NO]")
    loaded = load_ruleset(path)
    fta = loaded.ruleset.parameters["fta_countries"]
    latest = fta.values[max(fta.values)].value
    assert latest[-1] == "NO"
    assert False not in latest
    assert len(latest) == 22


def test_yes_is_not_a_boolean(tmp_path: Path) -> None:
    old = '"2025-10-01":\n        value: false'
    path = mutate(tmp_path, old, '"2025-10-01":\n        value: yes')
    message = refused(path, "credit_available", "2025-10-01", "yes")
    assert "true" in message and "false" in message


def test_requirement_names_undefined_parameter(tmp_path: Path) -> None:
    path = mutate(tmp_path, "threshold: critical_minerals_pct", "threshold: minerals_pct_typo")
    refused(path, "requirements[1] (critical_minerals)", "'minerals_pct_typo' is not defined")


def test_parameter_of_wrong_unit(tmp_path: Path) -> None:
    path = mutate(tmp_path, "threshold: critical_minerals_pct",
                  "threshold: critical_minerals_credit_usd")
    refused(path, "critical_minerals", "critical_minerals_credit_usd", "expected percent")


def test_parameter_no_requirement_uses(tmp_path: Path) -> None:
    path = mutate(tmp_path, "\nentity_tests:\n", SPARE_PARAMETER + "\nentity_tests:\n")
    refused(path, "parameters.spare_pct", "no requirement uses it")


def test_version_as_bare_number(tmp_path: Path) -> None:
    path = mutate(tmp_path, 'version: "1.0.0"', "version: 1.0")
    refused(path, "version", "quoted")


def test_version_not_semver(tmp_path: Path) -> None:
    refused(mutate(tmp_path, 'version: "1.0.0"', 'version: "1.0"'), "version")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = mutate(tmp_path, "jurisdiction: US\n", "jurisdiction: US\nreviewer: someone\n")
    refused(path, "reviewer", "Extra inputs are not permitted")


def test_unknown_key_in_a_dated_value(tmp_path: Path) -> None:
    path = mutate(tmp_path, CM_2025, CM_2025.replace("status:", "satus: secondary, status:"))
    refused(path, "critical_minerals_pct.values.2025-01-01.satus")


def test_requirement_column_not_in_contract(tmp_path: Path) -> None:
    path = mutate(tmp_path, "- column: extraction_country", "- column: mine_country")
    refused(path, "critical_minerals", "sheet 'minerals' has no column 'mine_country'")


def test_measure_column_of_wrong_kind(tmp_path: Path) -> None:
    path = mutate(tmp_path, "measure: incremental_value_usd", "measure: country")
    refused(path, "battery_components", "column 'country'")


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    refused(path, "mapping")


def test_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    refused(path, "not valid YAML")


def test_missing_ruleset_file(tmp_path: Path) -> None:
    with pytest.raises(RulesetError) as info:
        load_ruleset(tmp_path / "absent.yaml")
    assert info.value.code == "ruleset-not-found"
    assert "absent.yaml" in str(info.value)


def test_folder_path_loads_its_ruleset_file(tmp_path: Path) -> None:
    path = mutate(tmp_path, "", "", count=0)
    assert load_ruleset(path.parent).path == path


# The CLI ----------------------------------------------------------------------------------------


def minimal_bom(path: Path) -> Path:
    """One 2024 battery whose single mineral line and single component both qualify."""
    wb = openpyxl.Workbook()
    rows = {
        "batteries": [["battery_id", "placed_in_service"], ["BAT-1", "2024-06-30"]],
        "components": [["battery_id", "component_id", "component_type", "country",
                        "incremental_value_usd"], ["BAT-1", "C-1", "battery cell", "US", 100]],
        "minerals": [["battery_id", "line_id", "mineral", "value_usd", "extraction_country",
                      "processing_country"], ["BAT-1", "M-1", "lithium", 100, "AU", "US"]],
    }
    wb.remove(wb.active)
    for name, lines in rows.items():
        ws = wb.create_sheet(name)
        for line in lines:
            ws.append(line)
    wb.save(path)
    return path


def test_cli_broken_ruleset_path_exits_3(tmp_path: Path) -> None:
    broken = mutate(tmp_path, CM_2027, CM_2027.replace("80", "140"))
    bom = minimal_bom(tmp_path / "bom.xlsx")
    result = CliRunner().invoke(main, ["audit", str(bom), "--ruleset", str(broken)])
    assert result.exit_code == 3
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(broken) in lines[0] and "critical_minerals_pct" in lines[0]

    shown = CliRunner().invoke(main, ["rulesets", "show", str(broken)])
    assert shown.exit_code == 3
    assert "out of range" in shown.stderr


# Known bugs (documented, not fixed here) ---------------------------------------------------------


@pytest.mark.parametrize("bad", [".nan", "abc", '"NaN"'])
def test_percent_that_is_not_a_number(tmp_path: Path, bad: str) -> None:
    path = mutate(tmp_path, CM_2027, CM_2027.replace("80", bad))
    refused(path, "critical_minerals_pct", "2027-01-01", "not a number")


@pytest.mark.parametrize(("old", "new"), [(CM_2027, CM_2027.replace("80", ".nan")),
                                          ("value: 3750\n", "value: .inf\n")],
                         ids=["nan-percent", "inf-usd"])
def test_cli_non_finite_ruleset_exits_3_without_traceback(tmp_path: Path, old: str,
                                                          new: str) -> None:
    path = mutate(tmp_path, old, new)
    bom = minimal_bom(tmp_path / "bom.xlsx")
    entry_point = Path(sys.executable).with_name("compliance")
    done = subprocess.run([str(entry_point), "audit", str(bom), "--ruleset", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr
    assert done.returncode == 3


def test_infinite_amount_is_refused(tmp_path: Path) -> None:
    path = mutate(tmp_path, "value: 3750\n", "value: .inf\n")
    refused(path, "critical_minerals_credit_usd")


@pytest.mark.parametrize("spelling", ['"2025-01-01T00:00:00"', '"2025-01-01 00:00"',
                                      "1735689600"])  # the last: a Unix timestamp
def test_same_date_written_two_ways(tmp_path: Path, spelling: str) -> None:
    twin = f"{spelling}: {{value: 65, status: secondary, source: *cm_sources}}"
    path = mutate(tmp_path, CM_2025, CM_2025 + "\n      " + twin)
    refused(path, "critical_minerals_pct")


def test_parameter_used_only_by_an_unused_entity_test(tmp_path: Path) -> None:
    orphan_test = ("\nentity_tests:\n  orphan:\n    title: nothing uses this test\n"
                   "    checks:\n      - kind: at_least\n        column: "
                   "covered_government_equity_pct\n        parameter: spare_pct\n"
                   "        says: holds {value} %\n")
    path = mutate(tmp_path, "\nentity_tests:\n", SPARE_PARAMETER + orphan_test)
    refused(path, "spare_pct")

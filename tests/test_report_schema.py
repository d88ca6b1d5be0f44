"""The committed JSON Schemas match the report models, and real reports validate against them."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import jsonschema
import openpyxl
import pytest

import compliance
from compliance.report.model import AuditReport, ValidationReport

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "write_schemas.py"
SCHEMAS = REPO / "compliance" / "schemas"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("write_schemas", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def committed(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def strict_loads(text: str) -> object:
    """json.loads that refuses NaN, Infinity and -Infinity (which are not JSON)."""

    def refuse(constant: str) -> object:
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def write_bom(path: Path, batteries: list[tuple[str, str, int, int]]) -> Path:
    """Batteries as (id, placed_in_service, qualifying mineral usd, other mineral usd)."""
    wb = openpyxl.Workbook()
    sheets: dict[str, list[list[object]]] = {
        "batteries": [["battery_id", "placed_in_service", "description"]],
        "components": [["battery_id", "component_id", "component_type", "country",
                        "manufacturer", "incremental_value_usd"]],
        "minerals": [["battery_id", "line_id", "mineral", "value_usd", "extraction_country",
                      "extraction_entity", "processing_country", "processing_entity"]],
        "entities": [["entity_id", "name", "incorporated_in", "headquartered_in",
                      "covered_government_voting_pct", "covered_government_board_pct",
                      "covered_government_equity_pct", "effective_control"],
                     ["E-US", "US Co", "US", "US", 0, 0, 0, False],
                     ["E-CN", "CN Co", "CN", "CN", 0, 0, 0, False]],
    }
    for bid, placed, good, other in batteries:
        sheets["batteries"].append([bid, placed, f"pack {bid}"])
        sheets["components"].append([bid, "C-1", "battery cell", "US", "E-US", 500])
        sheets["minerals"].append([bid, "M-1", "lithium", good, "AU", "E-US", "US", "E-US"])
        sheets["minerals"].append([bid, "M-2", "graphite", other, "CN", "E-CN", "CN", "E-CN"])
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    # A pass, a fail on the share, a FEOC disqualification, an empty date, and a bad cell:
    # statuses, shortfalls, lines, gaps and findings all appear in the report.
    path = write_bom(tmp_path_factory.mktemp("bom") / "bom.xlsx", [
        ("BAT-PASS", "2024-06-30", 60, 40),
        ("BAT-SHORT", "2024-06-30", 30, 70),
        ("BAT-FEOC", "2025-06-30", 90, 10),
        ("BAT-NODATE", "", 60, 40),
    ])
    wb = openpyxl.load_workbook(path)
    wb["components"].append(["BAT-NODATE", "C-2", "battery module", "Atlantis", "E-US", "x"])
    wb.save(path)
    return compliance.audit(path)


# The committed files cannot drift from the models ----------------------------------------------


def test_committed_schemas_are_current() -> None:
    script = load_script()
    expected = script.render()
    assert {p.name for p in expected} == {"report.schema.json", "validation.schema.json"}
    for path, text in expected.items():
        assert path.parent == SCHEMAS
        assert path.is_file(), f"{path} is missing; run python scripts/write_schemas.py"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is out of date; run python scripts/write_schemas.py")


def test_script_output_is_sorted_with_trailing_newline() -> None:
    for path, text in load_script().render().items():
        assert text.endswith("}\n") and not text.endswith("\n\n"), path.name
        data = json.loads(text)
        assert json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == text


def test_script_check_mode_exits_0() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                          text=True, timeout=120, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr


def test_schemas_are_the_models_schemas() -> None:
    assert committed("report.schema.json") == AuditReport.model_json_schema(mode="serialization")
    assert committed("validation.schema.json") == ValidationReport.model_json_schema(
        mode="serialization")


@pytest.mark.parametrize("name", ["report.schema.json", "validation.schema.json"])
def test_schemas_are_valid_json_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(committed(name))


def test_decimals_are_strings_in_the_schema() -> None:
    props = committed("report.schema.json")["$defs"]["RequirementResult"]["properties"]
    for key in ("actual_pct", "required_pct", "shortfall_pct", "shortfall_usd", "credit_usd"):
        types = {alt.get("type") for alt in props[key]["anyOf"]}
        assert types == {"string", "null"}, key


# Real reports validate --------------------------------------------------------------------------


def test_report_exercises_every_status(report: AuditReport) -> None:
    statuses = {b.battery_id: b.status.value for b in report.batteries}
    assert statuses["BAT-PASS"] == "pass"
    assert statuses["BAT-SHORT"] == "fail"
    assert statuses["BAT-FEOC"] == "fail"
    assert statuses["BAT-NODATE"] == "insufficient_data"
    assert any(f.severity.value == "error" for f in report.findings)


def test_audit_report_validates_against_schema(report: AuditReport) -> None:
    data = report.model_dump(mode="json")
    validator = jsonschema.Draft202012Validator(committed("report.schema.json"))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    # The JSON text the CLI prints validates too.
    validator.validate(strict_loads(report.model_dump_json(indent=2)))


def test_schema_catches_a_float_where_a_decimal_string_belongs(report: AuditReport) -> None:
    data = report.model_dump(mode="json")
    data["batteries"][0]["verdicts"][0]["requirements"][1]["actual_pct"] = 55.0
    validator = jsonschema.Draft202012Validator(committed("report.schema.json"))
    assert not validator.is_valid(data)


def test_validation_report_validates_against_schema(tmp_path: Path) -> None:
    path = write_bom(tmp_path / "bom.xlsx", [("BAT-1", "not a date", 60, 40)])
    result = compliance.validate(path)
    assert result.valid is False
    schema = committed("validation.schema.json")
    jsonschema.validate(result.model_dump(mode="json"), schema,
                        cls=jsonschema.Draft202012Validator)
    jsonschema.validate(strict_loads(result.model_dump_json()), schema,
                        cls=jsonschema.Draft202012Validator)


def test_json_has_no_nan_or_infinity(report: AuditReport) -> None:
    text = report.model_dump_json()
    data = strict_loads(text)
    assert strict_loads(json.dumps(report.model_dump(mode="json"), allow_nan=False)) == data
    assert strict_loads(json.dumps(data, allow_nan=False)) == data


def test_strict_loads_refuses_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        strict_loads('{"x": NaN}')
    with pytest.raises(ValueError, match="Infinity"):
        strict_loads("[Infinity]")

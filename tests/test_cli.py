"""The command line: exit codes, report formats, errors as one line, help for every command."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import click
import jsonschema
import openpyxl
import pytest
from click.testing import CliRunner

from compliance.cli import main
from compliance.version import __version__

REPO = Path(__file__).resolve().parent.parent
RULESET_30D = REPO / "rulesets" / "us-ira-30d" / "ruleset.yaml"
ENTRY_POINT = Path(sys.executable).with_name("compliance")

ENTITY_HEADER = ["entity_id", "name", "incorporated_in", "headquartered_in",
                 "covered_government_voting_pct", "covered_government_board_pct",
                 "covered_government_equity_pct", "effective_control", "restricted_lists"]


def write_bom(path: Path, *, placed: dt.date = dt.date(2024, 6, 30), fta_usd: int = 55,
              other_usd: int = 45, mineral_value: object = None) -> Path:
    """One battery: lithium from AU/US (qualifies) and nickel from ID (does not), every
    component made in the US by a clean US entity. ``fta_usd`` % of mineral value qualifies."""
    wb = openpyxl.Workbook()
    sheets = {
        "batteries": [["battery_id", "placed_in_service", "acquired_on", "description"],
                      ["BAT-1", placed, placed, "test pack"]],
        "components": [["battery_id", "component_id", "component_type", "country",
                        "manufacturer", "incremental_value_usd"],
                       ["BAT-1", "C-1", "battery cell", "US", "E-US", 1000]],
        "minerals": [["battery_id", "line_id", "mineral", "value_usd", "extraction_country",
                      "extraction_entity", "processing_country", "processing_entity",
                      "recycled"],
                     ["BAT-1", "M-1", "lithium", mineral_value or fta_usd, "AU", "E-US", "US",
                      "E-US", False],
                     ["BAT-1", "M-2", "nickel", other_usd, "ID", "E-US", "ID", "E-US", False]],
        "entities": [ENTITY_HEADER, ["E-US", "US Co", "US", "US", 0, 0, 0, False, None]],
    }
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def passing(tmp_path: Path) -> Path:
    return write_bom(tmp_path / "pass.xlsx")


@pytest.fixture
def failing(tmp_path: Path) -> Path:
    return write_bom(tmp_path / "fail.xlsx", fta_usd=40, other_usd=60)  # 40 % < 50 % in 2024


def audit_json(runner: CliRunner, *args: str) -> tuple[int, dict]:
    result = runner.invoke(main, ["audit", *args, "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def requirement(report: dict, rid: str) -> dict:
    (verdict,) = report["batteries"][0]["verdicts"]
    return next(r for r in verdict["requirements"] if r["id"] == rid)


# audit ------------------------------------------------------------------------------------------


def test_audit_passing_workbook_exits_0(runner: CliRunner, passing: Path) -> None:
    result = runner.invoke(main, ["audit", str(passing)])
    assert result.exit_code == 0, result.output
    assert "BAT-1" in result.stdout
    assert "PASS" in result.stdout


def test_audit_failing_workbook_exits_1(runner: CliRunner, failing: Path) -> None:
    result = runner.invoke(main, ["audit", str(failing)])
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.stdout
    assert "critical_minerals" in result.stdout


def test_audit_json_report(runner: CliRunner, passing: Path) -> None:
    code, report = audit_json(runner, str(passing))
    assert code == 0
    assert report["status"] == "pass"
    assert report["tool"] == {"name": "battery-compliance", "version": __version__}
    assert report["input"]["sha256"] == hashlib.sha256(passing.read_bytes()).hexdigest()
    assert report["input"]["size_bytes"] == passing.stat().st_size
    (ruleset,) = report["rulesets"]
    assert (ruleset["id"], ruleset["version"]) == ("us-ira-30d", "1.0.0")
    assert ruleset["sha256"] == hashlib.sha256(RULESET_30D.read_bytes()).hexdigest()

    minerals = requirement(report, "critical_minerals")
    assert minerals["status"] == "pass"
    # Decimal figures are strings, never floats, so no consumer reads 59.999999 as 60.
    assert minerals["actual_pct"] == "55.0000"
    for key in ("actual_pct", "required_pct", "total_usd", "qualifying_usd"):
        assert isinstance(minerals[key], str), key
    assert dt.date.fromisoformat(minerals["date"]) == dt.date(2024, 6, 30)
    assert minerals["required_pct"].startswith("50")
    credit = report["batteries"][0]["verdicts"][0]["credit_usd"]
    assert isinstance(credit, str)
    assert float(credit) == 7500


def test_audit_output_file(runner: CliRunner, passing: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(main, ["audit", str(passing), "--format", "json", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert str(out) in result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["status"] == "pass"
    assert out.read_text(encoding="utf-8").endswith("\n")


def test_audit_as_of_changes_verdict(runner: CliRunner, passing: Path) -> None:
    # 55 % meets the 50 % of 2024 but not the 60 % in force from 2025-01-01.
    code, report = audit_json(runner, str(passing))
    assert (code, requirement(report, "critical_minerals")["status"]) == (0, "pass")
    assert report["as_of"] is None

    code, report = audit_json(runner, str(passing), "--as-of", "2025-01-01")
    assert code == 1
    assert report["as_of"] == "2025-01-01"
    assert report["status"] == "fail"
    minerals = requirement(report, "critical_minerals")
    assert minerals["status"] == "fail"
    assert minerals["date"] == "2025-01-01"
    assert minerals["actual_pct"] == "55.0000"
    assert minerals["required_pct"].startswith("60")
    assert minerals["shortfall_pct"].startswith("5")


def test_audit_bad_as_of_is_usage_error(runner: CliRunner, passing: Path) -> None:
    result = runner.invoke(main, ["audit", str(passing), "--as-of", "notadate"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.stderr


def one_line_error(result: click.testing.Result) -> str:
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_unknown_ruleset_exits_3(runner: CliRunner, passing: Path) -> None:
    result = runner.invoke(main, ["audit", str(passing), "--ruleset", "nope"])
    assert result.exit_code == 3
    line = one_line_error(result)
    assert "nope" in line
    assert "us-ira-30d" in line  # names what is available


def test_missing_file_exits_3(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["audit", str(tmp_path / "absent.xlsx")])
    assert result.exit_code == 3
    assert "absent.xlsx" in one_line_error(result)


def test_csv_named_xlsx_exits_3(runner: CliRunner, tmp_path: Path) -> None:
    fake = tmp_path / "bom.xlsx"
    fake.write_text("battery_id,placed_in_service\nBAT-1,2024-06-30\n", encoding="utf-8")
    result = runner.invoke(main, ["audit", str(fake)])
    assert result.exit_code == 3
    line = one_line_error(result)
    assert "CSV" in line or "text" in line


def test_empty_file_exits_3(runner: CliRunner, tmp_path: Path) -> None:
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    result = runner.invoke(main, ["audit", str(empty)])
    assert result.exit_code == 3
    assert "empty" in one_line_error(result)


def run_entry_point(*args: str) -> subprocess.CompletedProcess[str]:
    assert ENTRY_POINT.is_file(), f"the compliance entry point is not installed at {ENTRY_POINT}"
    return subprocess.run([str(ENTRY_POINT), *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_entry_point_real_exit_codes(failing: Path, tmp_path: Path) -> None:
    done = run_entry_point("audit", str(failing), "--format", "json")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["status"] == "fail"
    assert "Traceback" not in done.stderr

    fake = tmp_path / "fake.xlsx"
    fake.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    done = run_entry_point("audit", str(fake))
    assert done.returncode == 3
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# validate ---------------------------------------------------------------------------------------


def test_validate_clean_workbook_exits_0(runner: CliRunner, passing: Path) -> None:
    result = runner.invoke(main, ["validate", str(passing), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert report["summary"]["errors"] == 0
    assert report["input"]["sha256"] == hashlib.sha256(passing.read_bytes()).hexdigest()


def test_validate_findings_exit_1(runner: CliRunner, tmp_path: Path) -> None:
    bad = write_bom(tmp_path / "bad.xlsx", mineral_value="abc")
    result = runner.invoke(main, ["validate", str(bad), "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["valid"] is False
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert len(errors) == 1
    (finding,) = errors
    assert finding["code"] == "invalid-number"
    assert (finding["sheet"], finding["row"], finding["column"]) == ("minerals", 2, "value_usd")
    assert finding["cell"] == "D2"

    text = runner.invoke(main, ["validate", str(bad)])
    assert text.exit_code == 1
    assert "invalid-number" in text.stdout


# rulesets and schema ----------------------------------------------------------------------------


def test_rulesets_list(runner: CliRunner) -> None:
    result = runner.invoke(main, ["rulesets", "list"])
    assert result.exit_code == 0, result.output
    assert "us-ira-30d@1.0.0" in result.stdout

    listed = json.loads(runner.invoke(main, ["rulesets", "list", "--format", "json"]).stdout)
    (entry,) = [r for r in listed if r["id"] == "us-ira-30d"]
    assert entry["sha256"] == hashlib.sha256(RULESET_30D.read_bytes()).hexdigest()


def test_rulesets_show_parameters_with_sources(runner: CliRunner) -> None:
    from compliance.rules.loader import load_ruleset

    result = runner.invoke(main, ["rulesets", "show", "us-ira-30d"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())  # the renderer may wrap long lines
    ruleset = load_ruleset("us-ira-30d").ruleset
    for name, param in ruleset.parameters.items():
        assert name in flat
        for item in param.values.values():
            for citation in item.source:
                assert " ".join(citation.title.split()) in flat, (name, citation.title)

    shown = json.loads(runner.invoke(main, ["rulesets", "show", "us-ira-30d", "--format",
                                            "json"]).stdout)
    minerals = shown["parameters"]["critical_minerals_pct"]["values"]
    assert minerals["2025-01-01"]["value"] == 60
    assert minerals["2025-01-01"]["source"][0]["title"]


def test_schema_command_prints_json_schema(runner: CliRunner) -> None:
    result = runner.invoke(main, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["title"] == "AuditReport"
    committed = REPO / "compliance" / "schemas" / "report.schema.json"
    assert schema == json.loads(committed.read_text(encoding="utf-8"))


def test_version_option(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.stdout


# help and documentation -------------------------------------------------------------------------


def all_commands(group: click.Group = main, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        yield path, command
        if isinstance(command, click.Group):
            yield from all_commands(command, path)


COMMAND_PATHS = [path for path, _ in all_commands()]


def test_command_walk_finds_every_command() -> None:
    assert {("audit",), ("validate",), ("template",), ("rulesets",), ("rulesets", "list"),
            ("rulesets", "show"), ("schema",)} <= set(COMMAND_PATHS)


@pytest.mark.parametrize(("path", "command"), list(all_commands()),
                         ids=[" ".join(p) for p in COMMAND_PATHS])
def test_every_command_has_help(runner: CliRunner, path: tuple[str, ...],
                                command: click.Command) -> None:
    assert command.help and command.help.strip(), path
    assert command.get_short_help_str().strip()
    result = runner.invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    first_line = command.help.strip().splitlines()[0]
    assert " ".join(first_line.split()) in " ".join(result.stdout.split())
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{' '.join(path)} {param.opts[0]} has no help"


def test_main_has_help() -> None:
    assert main.help and main.help.strip()


def test_every_command_is_in_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [" ".join(p) for p in COMMAND_PATHS if f"compliance {' '.join(p)}" not in readme]
    assert not missing, f"README.md does not mention: {', '.join(missing)}"

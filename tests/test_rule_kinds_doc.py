"""docs/rule-kinds.md is what scripts/write_rule_kinds_doc.py writes, and names every kind."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from compliance.cli import main as cli
from compliance.engine import entities
from compliance.report.model import Status as VerdictStatus
from compliance.rules import model

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "write_rule_kinds_doc.py"
DOC = ROOT / "docs" / "rule-kinds.md"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("write_rule_kinds_doc", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rendered() -> str:
    return load_script().render()


def test_committed_doc_is_up_to_date(rendered: str) -> None:
    assert DOC.read_text(encoding="utf-8") == rendered, (
        "docs/rule-kinds.md is stale: run python scripts/write_rule_kinds_doc.py")


def test_check_mode_exits_0_when_up_to_date() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                          text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr


def requirement_kinds() -> list[str]:
    union = typing.get_args(model.Requirement)[0]
    return [typing.get_args(cls.model_fields["kind"].annotation)[0]
            for cls in typing.get_args(union)]


def test_every_requirement_kind_has_a_section(rendered: str) -> None:
    kinds = requirement_kinds()
    assert set(kinds) >= {"in_force", "content_share", "prohibited_entity", "cost_ratio",
                          "recycled_content", "concentration_cap", "forbidden_rows"}
    for kind in kinds:
        assert f"\n### `{kind}`\n" in rendered, kind
    union = typing.get_args(typing.get_args(model.Requirement)[0])
    for cls in union:
        assert cls.__doc__.strip().splitlines()[0] in rendered, cls.__name__
        for name, field in cls.model_fields.items():
            assert f"| `{field.alias or name}` |" in rendered, (cls.__name__, name)


def test_every_entity_check_leaf_unit_and_status_appears(rendered: str) -> None:
    check_kinds = typing.get_args(model.EntityCheck.model_fields["kind"].annotation)
    for kind in check_kinds:
        assert f"``{kind}``" in rendered, kind
    for condition in ("in", "equals", "more_than"):
        assert f"| `{condition}` |" in rendered, condition
    for unit in model.Unit:
        assert f"| `{unit.value}` |" in rendered, unit
    for status in model.Status:
        assert f"- `{status.value}`: " in rendered, status
    for status in VerdictStatus:
        assert f"- `{status.value}`" in rendered, status
    for effect in model.Effect:
        assert f"- `{effect.value}`: " in rendered, effect


def test_indirect_holdings_section_is_the_engine_docstring(rendered: str) -> None:
    section = rendered.split("## How indirect holdings are combined\n", 1)[1].split("\n## ")[0]
    assert entities.__doc__ is not None
    assert "multiplying percentages along each" in entities.__doc__
    for line in entities.__doc__.strip().splitlines():
        assert line.strip() in section, line
    assert f"`MAX_DEPTH` = {entities.MAX_DEPTH}" in section


def test_readme_links_the_doc() -> None:
    assert "docs/rule-kinds.md" in (ROOT / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# docs/regimes.md: every sample output is what the command really prints.
# --------------------------------------------------------------------------------------------

REGIMES_DOC = ROOT / "docs" / "regimes.md"
SAMPLE = re.compile(r"```sh\n(compliance [^\n]+)\n```\n\n```text\n(.*?)```", re.S)


def samples() -> list[tuple[str, str]]:
    """Command and shown output pairs in docs/regimes.md and in the README (which repeats the
    storage and EU examples), so neither can show output the tool no longer prints."""
    found: list[tuple[str, str]] = []
    for doc in (REGIMES_DOC, ROOT / "README.md"):
        found += [s for s in SAMPLE.findall(doc.read_text(encoding="utf-8")) if s not in found]
    return found


def test_regimes_doc_has_samples() -> None:
    commands = [command for command, _ in samples()]
    assert any("--ruleset us-48e-storage-pfe" in c for c in commands)
    assert any("--ruleset eu-2023-1542-recycled-content" in c for c in commands)
    assert any("rulesets diff" in c for c in commands)


@pytest.mark.parametrize(("command", "text"), samples(), ids=[c for c, _ in samples()])
def test_regimes_doc_sample_is_real_output(command: str, text: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, shlex.split(command)[1:])
    flat = " ".join(result.output.split())  # the report wraps long lines at 110 columns
    for line in text.splitlines():
        if line.strip() and line.strip() != "...":
            assert " ".join(line.split()) in flat, line

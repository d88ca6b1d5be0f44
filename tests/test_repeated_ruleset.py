"""Two editions of one ruleset in one audit are refused: their verdicts would share a name.

(The service cannot be asked for one: it serves the current editions and merges repeats.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import compliance
from compliance.cli import main
from compliance.errors import RulesetError

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo.xlsx"
TWO_EDITIONS = ("two editions of ruleset us-ira-30d are given (1.0.0 and 0.9.0); audit one "
                "edition at a time, and compare editions with 'compliance rulesets diff'")


def test_the_library_refuses_two_editions_and_a_repeat() -> None:
    with pytest.raises(RulesetError) as raised:
        compliance.audit(DEMO, ["us-ira-30d", "us-ira-30d@0.9.0"])
    assert (raised.value.code, raised.value.message) == ("repeated-ruleset", TWO_EDITIONS)
    with pytest.raises(RulesetError, match=r"us-ira-30d@1.0.0 is given twice"):
        compliance.audit(DEMO, ["us-ira-30d", "us-ira-30d"])
    # each edition alone, and different rulesets together, are fine
    assert compliance.audit(DEMO, ["us-ira-30d@0.9.0"]).rulesets[0].version == "0.9.0"
    both = compliance.audit(DEMO, ["us-ira-30d", "us-45x-pfe"])
    assert [r.id for r in both.rulesets] == ["us-ira-30d", "us-45x-pfe"]


@pytest.mark.parametrize("command", ["audit", "explain", "plan", "horizon"])
def test_every_command_refuses_before_reading(command: str, tmp_path: Path) -> None:
    folder_or_file = str(DEMO) if command != "audit" else str(DEMO.parent)
    result = CliRunner().invoke(main, [command, folder_or_file, "-r", "us-ira-30d",
                                       "-r", "us-ira-30d@0.9.0"])
    assert result.exit_code == 3, result.output
    assert f"error [repeated-ruleset]: {TWO_EDITIONS}" in result.output
    assert "unusable" not in result.output  # said once, not once per workbook of the folder


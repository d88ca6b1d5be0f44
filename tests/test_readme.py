"""The README's generated workbook section is current and its commands exist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_contract_section_is_current() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "update_readme.py"),
                             "--check"], capture_output=True, check=False)
    assert result.returncode == 0, "README is stale: run python scripts/update_readme.py"


def test_every_contract_column_is_in_the_readme() -> None:
    from compliance.contract import SHEETS

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for sheet in SHEETS:
        for col in sheet.columns:
            assert f"`{col.name}`" in text, col.name


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = ("python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && "
               ".venv/bin/python -m pytest")
    assert command in readme
    assert command in ci

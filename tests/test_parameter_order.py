"""Every battery of an audit lists the ruleset values a requirement used in the same order.

The first battery of each group of batteries with the same values once listed them in the order
the entity tests read them, the others in the requirement's order: the same report, two orders.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import compliance
from compliance.errors import UnusableInputError

ROOT = Path(__file__).resolve().parents[1]
WORKBOOKS = sorted((ROOT / "fixtures").rglob("*.xlsx"))
ALL = ["us-ira-30d", "us-45x-pfe", "us-48e-storage-pfe", "eu-2023-1542-recycled-content"]


@pytest.mark.parametrize("path", WORKBOOKS, ids=lambda p: p.name)
def test_each_requirement_lists_its_parameters_in_one_order(path: Path) -> None:
    try:
        report = compliance.audit(path, rulesets=ALL)
    except UnusableInputError:
        pytest.skip("not a usable workbook")
    orders: dict[tuple[str, str, str], set[tuple[str, ...]]] = {}
    for battery in report.batteries:
        for verdict in battery.verdicts:
            for req in verdict.requirements:
                key = (verdict.ruleset, req.id, req.status.value)
                orders.setdefault(key, set()).add(tuple(p.name for p in req.parameters))
    assert {k: v for k, v in orders.items() if len(v) > 1} == {}

"""The horizon's audits skip listing rows; their verdicts and figures stay the full audits'.

``horizon`` audits a BOM on every date a ruleset changes with ``run_audit(list_lines=False)``,
all in one audit scope. These tests build the horizon the slow way too (full public audits,
one scope each) on the fixture workbooks under every ruleset, bundled and example, and require
the same bytes; and they require each audit without listed rows to be the full audit with its
``lines`` and ``relieved`` emptied, nothing else changed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import compliance
from compliance.engine.audit import run_audit
from compliance.engine.scope import audit_scope, shared
from compliance.explain.timeline import build, change_dates, horizon
from compliance.report.model import AuditReport
from compliance.rules.loader import LoadedRuleset

ROOT = Path(__file__).resolve().parent.parent
WORKBOOKS = sorted([*ROOT.glob("fixtures/*.xlsx"), *ROOT.glob("fixtures/regimes/*.xlsx")])
RULESETS = ("us-ira-30d", "us-45x-pfe", "us-48e-storage-pfe", "eu-2023-1542-recycled-content",
            str(ROOT / "rulesets/examples/concentration-cap.yaml"),
            str(ROOT / "rulesets/examples/banned-origin.yaml"))


@pytest.fixture(scope="module")
def rulesets() -> list[LoadedRuleset]:
    return [compliance.load_ruleset(r) for r in RULESETS]


def _without_rows(report: AuditReport) -> dict[str, Any]:
    doc = report.model_dump(mode="json")
    for battery in doc["batteries"]:
        for verdict in battery["verdicts"]:
            for result in verdict["requirements"]:
                result["lines"] = []
                result["relieved"] = []
    return doc


@pytest.mark.parametrize("path", WORKBOOKS, ids=lambda p: p.name)
def test_horizon_and_audits_without_rows_are_what_full_audits_give(
        path: Path, rulesets: list[LoadedRuleset]) -> None:
    bom = compliance.read_bom(path)
    full = [(day, compliance.audit(bom, rulesets, as_of=day)) for day in change_dates(rulesets)]
    slow = build(full, [r.id for r in rulesets])
    assert horizon(bom, rulesets).model_dump_json() == slow.model_dump_json()
    days: list[tuple[dt.date | None, AuditReport]] = [(None, compliance.audit(bom, rulesets)),
                                                      *full]
    for day, report in days:
        lean = run_audit(bom, rulesets, day, list_lines=False)
        assert lean.model_dump(mode="json") == _without_rows(report), day
    strict = run_audit(bom, rulesets, None, strict=True, list_lines=False)
    assert strict.model_dump(mode="json") == _without_rows(
        compliance.audit(bom, rulesets, strict=True))


def test_the_workbooks_have_rows_to_leave_out(rulesets: list[LoadedRuleset]) -> None:
    """The comparisons above are not vacuous: the full audits (on the workbooks' own dates)
    list lines of every kind of requirement that has them, and rows left out under relief."""
    seen: set[str] = set()
    for path in WORKBOOKS:
        results = [r for b in compliance.audit(path, rulesets).batteries
                   for v in b.verdicts for r in v.requirements]
        seen |= {r.kind for r in results if r.lines}
        seen |= {"relieved" for r in results if r.relieved}
    assert seen == {"content_share", "prohibited_entity", "cost_ratio", "forbidden_rows",
                    "recycled_content", "concentration_cap", "relieved"}


def test_audits_in_one_scope_share_its_work_and_it_ends_with_the_outer_scope() -> None:
    made: list[int] = []

    def make() -> int:
        made.append(1)
        return len(made)

    with audit_scope():
        assert shared("k", make) == 1
        with audit_scope():
            assert shared("k", make) == 1  # joined: made once for both
        assert shared("k", make) == 1
    with audit_scope():
        assert shared("k", make) == 2  # a new scope starts afresh

"""What-if: re-run the audit with some cells changed and report what moved.

Each scenario (one ``--set`` group, or the rows of the ``scenarios`` sheet sharing a name) is
applied to the BOM as read, audited with the same rulesets and date, and compared with the
unchanged audit requirement by requirement: status, actual share and shortfall before and after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

import compliance
from compliance.explain.changes import ChangeRequest, apply, resolve
from compliance.explain.model import BatteryDelta, RequirementDelta, ScenarioResult, WhatIf
from compliance.reader.bom import Bom
from compliance.report.model import AuditReport, BatteryReport
from compliance.rules.loader import LoadedRuleset


def what_if(
    bom: Bom, rulesets: Sequence[LoadedRuleset],
    scenarios: Mapping[str, Sequence[ChangeRequest]], *, as_of: dt.date | None = None,
    baseline: AuditReport | None = None,
) -> WhatIf:
    """Audit each scenario against ``baseline`` (the unchanged audit, computed if not given).

    Raises :class:`~compliance.explain.changes.ChangeError` when a change names no row, several
    rows, an unknown column or a value the reader would refuse.
    """
    before = baseline or compliance.audit(bom, rulesets, as_of=as_of)
    results = []
    for name, requests in scenarios.items():
        resolved = [resolve(bom, r) for r in requests]
        changed, records = apply(bom, resolved)
        after = compliance.audit(changed, rulesets, as_of=as_of)
        batteries, requirements = compare(before, after)
        results.append(ScenarioResult(
            name=name, changes=records, status_before=before.status, status_after=after.status,
            batteries=batteries, requirements=requirements))
    return WhatIf(input=before.input, as_of=as_of, scenarios=results)


def compare(before: AuditReport, after: AuditReport
            ) -> tuple[list[BatteryDelta], list[RequirementDelta]]:
    """Battery and requirement deltas, in the order of ``before`` (then batteries only after)."""
    old = {b.battery_id: b for b in before.batteries}
    new = {b.battery_id: b for b in after.batteries}
    ids = list(old) + [b for b in new if b not in old]
    batteries: list[BatteryDelta] = []
    requirements: list[RequirementDelta] = []
    for bid in ids:
        b0, b1 = old.get(bid), new.get(bid)
        credit0 = _credit(b0)
        credit1 = _credit(b1)
        s0 = b0.status if b0 else None
        s1 = b1.status if b1 else None
        batteries.append(BatteryDelta(battery_id=bid, status_before=s0, status_after=s1,
                                      credit_usd_before=credit0, credit_usd_after=credit1,
                                      changed=s0 != s1 or credit0 != credit1))
        reqs0 = {(v.ruleset, r.id): r for v in (b0.verdicts if b0 else []) for r in v.requirements}
        reqs1 = {(v.ruleset, r.id): r for v in (b1.verdicts if b1 else []) for r in v.requirements}
        for key in list(reqs0) + [k for k in reqs1 if k not in reqs0]:
            r0, r1 = reqs0.get(key), reqs1.get(key)
            fields = dict(
                status_before=r0.status if r0 else None, status_after=r1.status if r1 else None,
                actual_pct_before=r0.actual_pct if r0 else None,
                actual_pct_after=r1.actual_pct if r1 else None,
                shortfall_pct_before=r0.shortfall_pct if r0 else None,
                shortfall_pct_after=r1.shortfall_pct if r1 else None,
                shortfall_usd_before=r0.shortfall_usd if r0 else None,
                shortfall_usd_after=r1.shortfall_usd if r1 else None)
            pairs = list(fields.values())
            changed = any(pairs[i] != pairs[i + 1] for i in range(0, len(pairs), 2))
            requirements.append(RequirementDelta(battery_id=bid, ruleset=key[0],
                                                 requirement=key[1], changed=changed,
                                                 **fields))  # type: ignore[arg-type]
    return batteries, requirements


def _credit(battery: BatteryReport | None) -> Decimal | None:
    """The battery's credit over all rulesets; None when any verdict's credit is unknown."""
    if battery is None:
        return None
    total = Decimal(0)
    for verdict in battery.verdicts:
        if verdict.credit_usd is None:
            return None
        total += verdict.credit_usd
    return total

"""Rule kind ``in_force``: the regime must still apply on the battery's date."""

from __future__ import annotations

from compliance.engine.context import BatteryContext, date_gap, requirement_result, result_base
from compliance.engine.params import ParamLookup
from compliance.reader.bom import Bom
from compliance.report.model import DataGap, RequirementResult, Status
from compliance.rules.model import InForce, Ruleset


def evaluate_in_force(
    req: InForce, rs: Ruleset, bom: Bom, batteries: list[BatteryContext],
    *, list_lines: bool = True,
) -> dict[str, RequirementResult]:
    """Each battery's result. ``list_lines`` is taken as by every evaluator (see
    :func:`compliance.engine.audit.run_audit`); this kind lists no rows."""
    results: dict[str, RequirementResult] = {}
    basis = rs.date_bases[req.date_basis]
    base = result_base(req, None, None)  # the same for every battery but the date
    for ctx in batteries:
        day = ctx.dates.get(req.date_basis)
        lookup = ParamLookup(rs, day)
        value = lookup.get(req.parameter)
        gaps: list[DataGap] = []
        if day is None:
            status = Status.INSUFFICIENT_DATA
            explanation = f"no valid date the battery was {basis.label}"
            gaps.append(date_gap(ctx, rs, req.date_basis, bom))
        elif value is True:
            status = Status.PASS
            explanation = f"{basis.label} on {day}, while the credit is available"
        elif value is False:
            status = Status.FAIL
            explanation = req.fails_says.format(date=day)
        else:
            status = Status.NOT_APPLICABLE
            explanation = f"{basis.label} on {day}, before this ruleset's coverage begins"
        results[ctx.battery_id] = requirement_result(
            **{**base, "date": day}, status=status, explanation=explanation, gaps=gaps,
            parameters=lookup.uses(), provisional=lookup.provisional)
    return results

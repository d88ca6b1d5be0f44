"""Run rulesets over a BOM and assemble the report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from compliance import findings as F
from compliance.engine import predicate as P
from compliance.engine.concentration import evaluate_concentration
from compliance.engine.context import (
    BatteryContext,
    battery_contexts,
    battery_report,
    data_gap,
    money,
    verdict,
)
from compliance.engine.cost_ratio import evaluate_cost_ratio
from compliance.engine.forbidden import evaluate_forbidden
from compliance.engine.in_force import evaluate_in_force
from compliance.engine.params import ParamLookup
from compliance.engine.prohibited import evaluate_prohibited
from compliance.engine.recycled import evaluate_recycled
from compliance.engine.scope import audit_scope
from compliance.engine.share import evaluate_share
from compliance.findings import Finding, Severity
from compliance.reader.bom import Bom
from compliance.report.model import (
    AuditReport,
    BatteryReport,
    InputRef,
    RequirementResult,
    RulesetRef,
    SheetSummary,
    Status,
    Summary,
    Tool,
    Verdict,
)
from compliance.rules.loader import LoadedRuleset, check_distinct
from compliance.rules.model import (
    ConcentrationCap,
    ContentShare,
    CostRatio,
    Effect,
    ForbiddenRows,
    InForce,
    ProhibitedEntity,
    RecycledContent,
    Ruleset,
)
from compliance.version import __version__

_EVALUATORS = {
    InForce: evaluate_in_force,
    ContentShare: evaluate_share,
    ProhibitedEntity: evaluate_prohibited,
    CostRatio: evaluate_cost_ratio,
    RecycledContent: evaluate_recycled,
    ConcentrationCap: evaluate_concentration,
    ForbiddenRows: evaluate_forbidden,
}

_ORDER = {Status.FAIL: 4, Status.INSUFFICIENT_DATA: 3, Status.PROVISIONAL: 2, Status.PASS: 1,
          Status.NOT_APPLICABLE: 0}


def run_audit(bom: Bom, rulesets: Sequence[LoadedRuleset], as_of: dt.date | None,
              *, strict: bool = False, list_lines: bool = True) -> AuditReport:
    """Audit ``bom`` against ``rulesets`` (``as_of``: every battery date set to that day).

    ``list_lines=False`` is for callers that read only verdicts and figures, never the rows
    behind them (the horizon audits a BOM on every date a ruleset changes and keeps statuses,
    shares and shortfalls). Listing every non-qualifying or prohibited row (its reason, share
    and cells) is most of the work of a big audit; without it every result's ``lines`` and
    ``relieved`` are empty and everything else (statuses, figures, gaps, explanations) is what
    the full audit gives. The public :func:`compliance.audit` always lists them.
    """
    check_distinct(rulesets)
    with audit_scope():
        return _run_audit(bom, rulesets, as_of, strict, list_lines)


def _run_audit(bom: Bom, rulesets: Sequence[LoadedRuleset], as_of: dt.date | None,
               strict: bool, list_lines: bool = True) -> AuditReport:
    per_battery: dict[str, list[Verdict]] = {}
    rows: dict[str, tuple[int | None, str | None]] = {}
    for loaded in rulesets:
        rs = loaded.ruleset
        contexts = battery_contexts(bom, rs, as_of)
        by_requirement = [
            _scoped(req, rs, bom, contexts,
                    _EVALUATORS[type(req)](req, rs, bom, contexts, list_lines=list_lines))
            for req in rs.requirements]
        keyed = {r.date_basis for r in rs.requirements}  # the dates that select rule values
        for ctx in contexts:
            results = [_confirmation(r[ctx.battery_id], strict) for r in by_requirement]
            per_battery.setdefault(ctx.battery_id, []).append(_verdict(rs, ctx, results, keyed))
            rows.setdefault(ctx.battery_id, (ctx.row, ctx.description))
    batteries = [
        battery_report(battery_id=bid, row=rows[bid][0], description=rows[bid][1],
                       status=_battery_status(verdicts), verdicts=verdicts)
        for bid, verdicts in per_battery.items()
    ]
    findings = [*bom.findings, *_needed_but_absent(bom, rulesets)]
    summary = _summary(batteries, bom, findings)
    overall = _overall(batteries, findings)
    source = bom.source
    return AuditReport(
        tool=Tool(version=__version__),
        input=InputRef(name=source.name if source else "<in-memory BOM>",
                       sha256=source.sha256 if source else None,
                       size_bytes=source.size if source else None),
        rulesets=[RulesetRef(id=r.id, version=r.version, sha256=r.sha256,
                             title=r.ruleset.title, last_reviewed=r.ruleset.last_reviewed)
                  for r in rulesets],
        as_of=as_of, strict=strict, status=overall, summary=summary, batteries=batteries,
        findings=findings, sheets=sheet_summaries(bom))


def _needed_but_absent(bom: Bom, rulesets: Sequence[LoadedRuleset]) -> list[Finding]:
    """Sheets and date columns a selected ruleset needs that the workbook does not have.

    The contract makes them optional because each regime needs different ones; the audit says
    which ones this audit needed, once each, instead of only reporting every battery's gap."""
    if bom.source is None:
        return []
    out: list[Finding] = []
    seen: set[tuple[str, str | None]] = set()
    for loaded in rulesets:
        rs = loaded.ruleset
        for req in rs.requirements:
            sheet = getattr(req, "sheet", None)
            if sheet and sheet not in bom.sheet_names and (sheet, None) not in seen:
                seen.add((sheet, None))
                out.append(Finding.make(
                    F.MISSING_SHEET, f"the workbook has no '{sheet}' sheet, which {rs.id} needs "
                    f"for {req.id}", sheet=sheet))
            basis = rs.date_bases[req.date_basis]
            columns = [basis.column] + ([rs.date_bases[basis.fallback].column]
                                        if basis.fallback else [])
            if ("batteries" in bom.sheet_names
                    and not any(bom.has_column("batteries", c) for c in columns)
                    and ("batteries", basis.column) not in seen):
                seen.add(("batteries", basis.column))
                out.append(Finding.make(
                    F.MISSING_COLUMN, f"the batteries sheet has no '{basis.column}' column; "
                    f"{rs.id} needs the date each battery was {basis.label}",
                    sheet=bom.display_sheet("batteries"), column=basis.column))
    return out


def _scoped(req, rs: Ruleset, bom: Bom, contexts: list[BatteryContext],  # type: ignore[no-untyped-def]
            results: dict[str, RequirementResult]) -> dict[str, RequirementResult]:
    """Apply ``applies_if`` (tested on the battery's row): outside it, not_applicable; unknown
    (say, no category given), insufficient_data naming the empty cell."""
    if req.applies_if is None:
        return results
    rows = {r["battery_id"]: r for r in bom.batteries.iter_rows(named=True)}
    out: dict[str, RequirementResult] = {}
    for ctx in contexts:
        lookup = ParamLookup(rs, ctx.dates.get(req.date_basis))
        lists = {n: lookup.get(n) for n in P.params_in(req.applies_if)}
        row = rows.get(ctx.battery_id, {})
        inside = P.evaluate(req.applies_if, row, lists)
        result = results[ctx.battery_id]
        if inside is True:
            out[ctx.battery_id] = result
        elif inside is False:
            out[ctx.battery_id] = result.model_copy(update={
                "status": Status.NOT_APPLICABLE, "lines": [], "gaps": [], "credit_usd": None,
                "shortfall_pct": None, "shortfall_usd": None, "shortfall_kg": None,
                "actual_pct": None, "required_pct": None, "relieved": [],
                "explanation": "does not apply to this battery: "
                               + "; ".join(P.explain(req.applies_if, row, lists,
                                                     lambda n: rs.parameters[n].label or n)[0]
                                           or ["outside its scope"])})
        else:
            missing = P.explain(req.applies_if, row, lists, lambda n: n)[1]
            gaps = [data_gap(sheet=bom.display_sheet("batteries"), row=ctx.row, column=c,
                             cell=(f"{bom.letter('batteries', c)}{ctx.row}"
                                   if bom.letter("batteries", c) and ctx.row else None),
                             item_id=ctx.battery_id,
                             message=f"{c} is empty or invalid; it decides whether "
                                     f"{req.id} applies") for c in dict.fromkeys(missing)]
            out[ctx.battery_id] = result.model_copy(update={
                "status": Status.INSUFFICIENT_DATA, "gaps": [*gaps, *result.gaps],
                "credit_usd": None})
    return out


def _confirmation(result: RequirementResult, strict: bool) -> RequirementResult:
    """Mark a pass or fail resting on an unconfirmed ruleset value as provisional, or, under
    ``strict``, refuse it (insufficient_data, naming the unconfirmed values)."""
    if not result.provisional or result.status not in (Status.PASS, Status.FAIL):
        return result
    unconfirmed = [p for p in result.parameters if p.status == "unconfirmed"]
    if not strict:
        return result.model_copy(update={"status": Status.PROVISIONAL,
                                         "provisional_outcome": result.status})
    gaps = [*result.gaps, *(
        data_gap(sheet="ruleset", row=None, column=p.name, cell=None, item_id=None,
                 message=f"ruleset value {p.name} (from {p.in_force_from}) is unconfirmed; "
                         "--strict refuses verdicts that depend on it")
        for p in unconfirmed)]
    return result.model_copy(update={"status": Status.INSUFFICIENT_DATA, "gaps": gaps,
                                     "credit_usd": None,
                                     "explanation": result.explanation + " (refused under "
                                     "--strict: depends on unconfirmed ruleset values)"})


def outcome(result: RequirementResult | Verdict) -> Status:
    """The pass/fail a provisional result would have; other statuses unchanged."""
    return result.provisional_outcome or result.status


_CREDIT = Effect.CREDIT.value


def _verdict(rs: Ruleset, ctx: BatteryContext, results: list[RequirementResult],
             keyed: set[str]) -> Verdict:
    """One battery's verdict under a ruleset; ``keyed`` names the dates that select its values.

    Each result's outcome is worked out once: this runs for every battery and ruleset."""
    outcomes = [outcome(r) for r in results]
    gating = [o for r, o in zip(results, outcomes, strict=True) if r.effect != _CREDIT]
    credits = [(r, o) for r, o in zip(results, outcomes, strict=True) if r.effect == _CREDIT]
    if Status.FAIL in outcomes:
        status = Status.FAIL
    elif Status.INSUFFICIENT_DATA in outcomes:
        status = Status.INSUFFICIENT_DATA
    elif all(o is Status.NOT_APPLICABLE for o in ([o for _, o in credits] or outcomes)):
        # No amount-bearing requirement applies: the battery is outside the ruleset's dates.
        status = Status.NOT_APPLICABLE
    else:
        status = Status.PASS

    credit: Decimal | None
    if not credits:
        credit = None  # the ruleset grants no amount (a policy, a cost-ratio condition)
    elif any(o is Status.FAIL for o in gating):
        credit = Decimal(0)
    elif status is Status.NOT_APPLICABLE or Status.INSUFFICIENT_DATA in outcomes:
        credit = None
    else:
        credit = sum((r.credit_usd or Decimal(0) for r, o in credits if o is Status.PASS),
                     Decimal(0))
    # Provisional only when the outcome rests on a provisional result: a requirement that fails
    # on firm values already decides a fail, whatever the provisional ones say.
    firm_fail = any(r.status is Status.FAIL for r in results)
    provisional = (not firm_fail
                   and any(r.status is Status.PROVISIONAL for r in results))

    gaps = [g for r in results for g in r.gaps]
    if status is Status.PASS:
        summary = "meets every requirement" + (f"; credit {money(credit)}" if credit else "")
    elif status is Status.FAIL:
        parts = ", ".join(r.id for r, o in zip(results, outcomes, strict=True)
                          if o is Status.FAIL)
        summary = f"fails {parts}" + (f"; credit {money(credit)}" if credit is not None else "")
    elif status is Status.INSUFFICIENT_DATA:
        lacking = ", ".join(r.id for r, o in zip(results, outcomes, strict=True)
                            if o is Status.INSUFFICIENT_DATA)
        summary = (f"cannot decide {lacking}: {len(gaps)} data "
                   f"gap{'s' if len(gaps) != 1 else ''}")
    else:
        summary = "no requirement of this ruleset applies on the battery's dates"
    shown = status
    if provisional and status in (Status.PASS, Status.FAIL):
        shown = Status.PROVISIONAL
        summary = f"provisional ({status.value}): {summary}; rests on unconfirmed ruleset values"
    return verdict(
        ruleset=rs.id, status=shown, credit_usd=credit,
        dates={k: v for k, v in ctx.dates.items() if k in keyed},
        date_source=ctx.date_source, requirements=results, gaps=gaps,
        provisional=provisional, provisional_outcome=status if shown != status else None,
        summary=summary)


def _summary(batteries: list[BatteryReport], bom: Bom, findings: list[Finding]) -> Summary:
    count = {s: 0 for s in Status}
    for b in batteries:
        count[b.status] += 1
    return Summary(
        batteries=len(batteries), passed=count[Status.PASS], failed=count[Status.FAIL],
        insufficient_data=count[Status.INSUFFICIENT_DATA],
        not_applicable=count[Status.NOT_APPLICABLE], provisional=count[Status.PROVISIONAL],
        errors=sum(1 for f in findings if f.severity is Severity.ERROR),
        warnings=sum(1 for f in findings if f.severity is Severity.WARNING))


def _battery_status(verdicts: list[Verdict]) -> Status:
    """The least favourable verdict among the rulesets that apply to the battery."""
    applicable = [v.status for v in verdicts if v.status is not Status.NOT_APPLICABLE]
    if not applicable:
        return Status.NOT_APPLICABLE
    return max(applicable, key=_ORDER.__getitem__)


# For the whole audit a battery outside every ruleset's dates is not a pass.
_OVERALL_ORDER = {**_ORDER, Status.NOT_APPLICABLE: 1.5}


def _overall(batteries: list[BatteryReport], findings: list[Finding]) -> Status:
    if not batteries:
        return Status.INSUFFICIENT_DATA
    worst = max((b.status for b in batteries), key=_OVERALL_ORDER.__getitem__)
    if worst is Status.PASS and any(f.severity is Severity.ERROR for f in findings):
        # Every battery passes, but some input rows could not be read or attributed.
        return Status.INSUFFICIENT_DATA
    return worst


def sheet_summaries(bom: Bom) -> list[SheetSummary]:
    return [SheetSummary(sheet=s.sheet, found_as=s.found_as, header_row=s.header_row,
                         data_rows=s.data_rows, used_rows=s.used_rows,
                         excluded_rows=s.excluded_rows) for s in bom.stats]

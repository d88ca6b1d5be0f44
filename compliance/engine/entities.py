"""Entity tests: is an entity a foreign entity of concern, a prohibited foreign entity, ...?

A test is a list of checks from the ruleset. Checks are three-valued: an empty cell is unknown,
and an entity whose status rests on an unknown cannot be cleared. Tests may refer to other tests
(``passes``, ``held_by``, ``appointed_by``), which is how "foreign-influenced entity" is defined
on top of "specified foreign entity".

Indirect holdings through the ownership sheet are combined by multiplying percentages along each
chain of holdings and adding the chains (a holder with 60 % of A, which holds 50 % of B, holds
30 % of B through A). Chains are followed up to ``MAX_DEPTH`` links and never through the same
entity twice, so circular holdings end; a chain that goes on beyond the limit leaves the answer
unknown rather than cleared. For "held together" tests the stake of a caught holder counts once:
if a caught parent holds a caught subsidiary that holds 21 % of an entity, caught holders hold
21 % of it, not 42 %.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from compliance.engine.context import column_rows, num
from compliance.engine.params import ParamLookup
from compliance.rules.model import EntityCheck, Ruleset

MAX_DEPTH = 8
HUNDRED = Decimal(100)
_TOO_DEEP = "\x00too-deep"  # marker: the chain goes on beyond MAX_DEPTH

Result = tuple[bool | None, list[str], list[str]]  # caught, reasons, unknown columns


@dataclass(frozen=True, slots=True)
class EntitySheets:
    """The entities sheet by entity id and the ownership sheet by owned entity, as records.

    Built once and only read, so every evaluation of the entity tests (one per set of ruleset
    values in force) shares it."""

    rows: dict[str, dict[str, Any]]
    edges: dict[str, list[dict[str, Any]]]  # owned -> holdings

    @classmethod
    def of(cls, entities: pl.DataFrame, ownership: pl.DataFrame) -> EntitySheets:
        edges: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for edge in _records(ownership):
            edges[edge["owned_id"]].append(edge)
        return cls({r["entity_id"]: r for r in _records(entities)}, edges)


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    names = frame.columns
    return [dict(zip(names, values, strict=True)) for values in column_rows(frame, *names)]


class EntityTests:
    """All entity tests of a ruleset, evaluated lazily for one set of parameter values."""

    def __init__(self, rs: Ruleset, sheets: EntitySheets, lookup: ParamLookup):
        self.rs = rs
        self.lookup = lookup
        self.rows = sheets.rows
        self.edges = sheets.edges
        self._cache: dict[tuple[str, str], Result] = {}
        self._active: set[tuple[str, str]] = set()
        self._cuts = 0  # how often a circular reference was cut short
        self._activity: dict[str, list[str] | None] = {}
        self._frames: dict[str, pl.DataFrame] = {}

    def value(self, name: str | None) -> Any:
        return self.lookup.get(name) if name else None

    def judge(self, test: str, entity_id: str) -> Result:
        """(caught, reasons, unknown columns) for one entity; unknown entity -> (None, ...)."""
        key = (test, entity_id)
        if key in self._cache:
            return self._cache[key]
        if key in self._active:  # a test that refers back to itself through holdings
            self._cuts += 1
            return False, [], []
        self._active.add(key)
        cuts = self._cuts
        try:
            rec = self.rows.get(entity_id)
            result: Result = ((None, [], ["entity_id"]) if rec is None
                              else self._judge(test, entity_id, rec))
        finally:
            self._active.discard(key)
        # A result that leaned on a cut-short cycle holds only for this path through the
        # cycle; caching it would make answers depend on which entity was asked first.
        if self._cuts == cuts or not self._active:
            self._cache[key] = result
        return result

    def _judge(self, test: str, entity_id: str, rec: dict[str, Any]) -> Result:
        reasons: list[str] = []
        unknown: list[str] = []
        for check in self.rs.entity_tests[test].checks:
            if check.kind == "activity_in":
                continue
            hit, reason, missing = self._check(check, entity_id, rec)
            if hit:
                reasons.append(reason)
            elif hit is None:
                unknown.extend(missing)
        if reasons:
            return True, reasons, unknown
        return (None if unknown else False), reasons, unknown

    def _check(self, check: EntityCheck, entity_id: str,
               rec: dict[str, Any]) -> tuple[bool | None, str, list[str]]:
        param = self.value(check.parameter)
        if check.parameter and param is None:
            return False, "", []  # the check is not in force on this day
        if check.kind == "flag" and param is not True:
            return False, "", []
        if check.kind in ("country_in", "at_least", "more_than", "flag", "listed"):
            value = rec.get(check.column or "")
            if value is None:
                if check.when_empty == "no":
                    return False, "", []
                return None, "", [check.column or ""]
            # The reason is only read for a hit, so it is only written for one.
            if check.kind == "country_in":
                hit = value in param
                return hit, check.says.format(value=value) if hit else "", []
            if check.kind in ("at_least", "more_than"):
                number = Decimal(value)
                hit = number >= param if check.kind == "at_least" else number > param
                return hit, check.says.format(value=num(number)) if hit else "", []
            if check.kind == "flag":
                return value is True, check.says.format(value=value) if value is True else "", []
            named = sorted(set(value) & {n.upper() for n in param})
            return bool(named), check.says.format(value=", ".join(named)) if named else "", []
        if check.kind == "passes":
            caught, why, missing = self.judge(check.test or "", entity_id)
            title = self.rs.entity_tests[check.test or ""].title
            return caught, check.says.format(value="; ".join(why), test=title), missing
        if check.kind == "appointed_by":
            found: list[str] = []
            unknown = False
            for holder, _share in self._holders(entity_id, "board_pct", appoints=True):
                caught, _, _ = self.judge(check.test or "", holder)
                if caught:
                    found.append(holder)
                elif caught is None:
                    unknown = True
            if found:
                return True, check.says.format(value=", ".join(sorted(found))), []
            return (None if unknown else False), "", (["ownership"] if unknown else [])
        # held_by: holdings of entities caught by another test, direct and indirect.
        threshold = Decimal(param)
        measure = check.measure or "equity_pct"
        test_name = check.test or ""

        def reaches(x: Decimal) -> bool:
            return x >= threshold if check.compare == "at_least" else x > threshold

        if check.aggregate == "single":
            # One holder's stake counts through every chain that leads from it.
            known: dict[str, Decimal] = defaultdict(Decimal)
            maybe: dict[str, Decimal] = defaultdict(Decimal)
            deep = False
            for holder, share in self._holders(entity_id, measure):
                if holder == _TOO_DEEP:
                    deep = True
                    continue
                caught, _, _ = self.judge(test_name, holder)
                if caught:
                    known[holder] += share
                elif caught is None:
                    maybe[holder] += share
            best = max(known.values(), default=Decimal(0))
            if reaches(best):
                holder = max(known, key=known.__getitem__)
                return True, check.says.format(value=num(best), holder=holder), []
            best_maybe = max((known.get(h, Decimal(0)) + v for h, v in maybe.items()),
                             default=Decimal(0))
            if reaches(best_maybe) or deep:
                return None, "", self._unknown_holders(test_name, maybe, deep)
            return False, "", []
        # Together: the part of the entity held by caught holders. A stake held by a caught
        # holder counts once, not again through the caught holders above it.
        low, high, holders, unsure, deep = self._held_share(entity_id, measure, test_name)
        if reaches(low):
            return True, check.says.format(value=num(low), holder=", ".join(sorted(holders))), []
        if reaches(high):
            return None, "", self._unknown_holders(test_name, unsure, deep)
        return False, "", []

    def _held_share(self, entity_id: str, measure: str, test: str
                    ) -> tuple[Decimal, Decimal, set[str], dict[str, Decimal], bool]:
        """(share surely held by caught holders, share possibly held, the caught holders,
        holders of unknown status, whether the depth limit was reached), in percent."""
        holders: set[str] = set()
        unsure: dict[str, Decimal] = {}
        deep = False

        def flow(owned: str, seen: frozenset[str], depth: int) -> tuple[Decimal, Decimal]:
            nonlocal deep
            low = high = Decimal(0)
            for edge in self.edges.get(owned, ()):
                owner, pct = edge["owner_id"], edge.get(measure)
                if owner in seen or pct is None:
                    continue
                part = Decimal(pct) / HUNDRED
                caught, _, _ = self.judge(test, owner)
                if caught:
                    holders.add(owner)
                    low += part
                    high += part
                    continue
                if depth + 1 >= MAX_DEPTH:
                    deep = True
                    high += part
                    continue
                sub_low, sub_high = flow(owner, seen | {owner}, depth + 1)
                low += part * sub_low
                if caught is None:
                    unsure[owner] = part * HUNDRED
                    high += part
                else:
                    high += part * sub_high
            return min(low, Decimal(1)), min(high, Decimal(1))

        low, high = flow(entity_id, frozenset({entity_id}), 0)
        return low * HUNDRED, high * HUNDRED, holders, unsure, deep

    def _unknown_holders(self, test: str, unsure: dict[str, Decimal], deep: bool) -> list[str]:
        out = []
        for holder in sorted(unsure):
            _, _, missing = self.judge(test, holder)
            what = ("is not in the entities sheet" if missing == ["entity_id"]
                    else f"has {', '.join(missing) or 'unknown status'}")
            out.append(f"holder {holder} ({what})")
        if deep:
            out.append(f"holdings more than {MAX_DEPTH} links up")
        return out or ["ownership"]

    def _holders(self, entity_id: str, measure: str,
                 appoints: bool = False) -> list[tuple[str, Decimal]]:
        """Every direct and indirect holder of ``entity_id`` with its effective share (0-100)."""
        out: list[tuple[str, Decimal]] = []

        def walk(owned: str, factor: Decimal, seen: frozenset[str], depth: int) -> None:
            if depth >= MAX_DEPTH:
                if self.edges.get(owned):
                    out.append((_TOO_DEEP, Decimal(0)))  # unknown, not cleared
                return
            for edge in self.edges.get(owned, ()):
                owner = edge["owner_id"]
                if owner in seen:
                    continue
                if appoints:
                    if depth == 0 and edge.get("appoints_officer"):
                        out.append((owner, HUNDRED))
                    continue
                pct = edge.get(measure)
                if pct is None:
                    continue
                share = factor * Decimal(pct) / HUNDRED
                out.append((owner, share * HUNDRED))
                walk(owner, share, seen | {owner}, depth + 1)

        walk(entity_id, Decimal(1), frozenset({entity_id}), 0)
        return out

    def activity_countries(self, test: str) -> list[str] | None:
        if test not in self._activity:
            found = None
            for check in self.rs.entity_tests[test].checks:
                if check.kind == "activity_in":
                    found = list(self.value(check.parameter) or [])
                    break
            self._activity[test] = found
        return self._activity[test]

    def activity_reason(self, test: str, activity: str) -> str:
        for check in self.rs.entity_tests[test].checks:
            if check.kind == "activity_in":
                return check.says.format(activity=activity)
        return ""

    def frame(self, test: str) -> pl.DataFrame:
        """entity_id -> caught (three-valued) for every entity, judged in sheet order once."""
        if test not in self._frames:
            ids = list(self.rows)
            self._frames[test] = pl.DataFrame(
                {"__eid": ids, "__caught": [self.judge(test, e)[0] for e in ids]},
                schema={"__eid": pl.String, "__caught": pl.Boolean})
        return self._frames[test]


def parameters_of(rs: Ruleset, test: str, seen: set[str] | None = None) -> list[str]:
    """Every parameter a test reads, following references to other tests."""
    seen = seen if seen is not None else set()
    if test in seen:
        return []
    seen.add(test)
    out: list[str] = []
    for check in rs.entity_tests[test].checks:
        if check.parameter:
            out.append(check.parameter)
        if check.test:
            out.extend(parameters_of(rs, check.test, seen))
    return out


def describe_unknown(missing: list[str]) -> str:
    """Words for why an entity cannot be cleared: its empty cells and its unknown holders."""
    if missing == ["entity_id"]:
        return "it is not in the entities sheet"
    cells = [m for m in missing if not m.startswith(("holder ", "holdings ", "ownership"))]
    other = [m for m in missing if m not in cells]
    parts = []
    if cells:
        parts.append(f"{', '.join(dict.fromkeys(cells))} empty in the entities sheet")
    if other:
        parts.append("unknown status of " + ", ".join(dict.fromkeys(other)))
    return "; ".join(parts) or "its status is unknown"

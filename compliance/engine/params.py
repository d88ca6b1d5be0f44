"""Looking up ruleset values on a day, and remembering which were used and on whose authority."""

from __future__ import annotations

import datetime as dt
import weakref
from bisect import bisect_right
from decimal import Decimal
from typing import Any

from compliance.report.model import Citation, ParameterUse
from compliance.rules.model import DatedValue, Ruleset, Status, Unit

_UNCONFIRMED = Status.UNCONFIRMED.value
_LIMIT = 100_000  # entries kept per ruleset; a long-running service sees many different days
_MISSING = object()


class _Memo:
    """One ruleset's values by day. A ruleset is immutable, so each lookup is done once per
    audit rather than once per battery and requirement. It holds no reference to its ruleset,
    which would keep both alive for good."""

    def __init__(self) -> None:
        # (parameter, day) -> (start, dated value) in force, or None
        self.found: dict[tuple[str, dt.date | None], tuple[dt.date, DatedValue] | None] = {}
        # (parameter, start) -> (value, its ParameterUse), converted once per dated value
        self.converted: dict[tuple[str, dt.date | None], tuple[Any, ParameterUse]] = {}
        # (parameter, day) -> (value, its ParameterUse)
        self.resolved: dict[tuple[str, dt.date | None], tuple[Any, ParameterUse]] = {}

    def in_force(self, ruleset: Ruleset, name: str,
                 day: dt.date | None) -> tuple[dt.date, DatedValue] | None:
        """(start, dated value) of ``name`` in force on ``day``, or None."""
        key = (name, day)
        found = self.found.get(key, _MISSING)
        if found is _MISSING:
            if len(self.found) > _LIMIT:
                self.found.clear()
            found = self.found[key] = ruleset.parameter(name).at(day) if day else None
        return found  # type: ignore[return-value]

    def resolve(self, ruleset: Ruleset, name: str,
                day: dt.date | None) -> tuple[Any, ParameterUse]:
        result = self.resolved.get((name, day))
        if result is None:
            if len(self.resolved) > _LIMIT:
                self.resolved.clear()
            result = self.resolved[(name, day)] = self._convert(ruleset, name, day)
        return result

    def _convert(self, ruleset: Ruleset, name: str,
                 day: dt.date | None) -> tuple[Any, ParameterUse]:
        param = ruleset.parameter(name)  # an unknown name is an error, whatever the day
        found = self.in_force(ruleset, name, day)
        key = (name, found[0] if found else None)
        cached = self.converted.get(key)
        if cached is not None:
            return cached
        if found is None:
            result: tuple[Any, ParameterUse] = (None, ParameterUse(
                name=name, value=None, in_force_from=None, status=None))
        else:
            start, item = found
            value = item.value
            if param.unit in (Unit.PERCENT, Unit.USD, Unit.NUMBER):
                value = Decimal(str(value))
            shown: Any = str(value) if isinstance(value, Decimal) else value
            if isinstance(value, dict):
                shown = {str(k): str(v) for k, v in value.items()}
            result = (value, ParameterUse(
                name=name, value=shown, in_force_from=start, status=item.status.value,
                source=[Citation(title=c.title, href=c.href) for c in item.source]))
        self.converted[key] = result
        return result


# Memos by ruleset object, each dropped when its ruleset is collected (so an id is never
# mistaken for another ruleset's).
_MEMOS: dict[int, _Memo] = {}


def _memo(ruleset: Ruleset) -> _Memo:
    memo = _MEMOS.get(id(ruleset))
    if memo is None:
        memo = _MEMOS[id(ruleset)] = _Memo()
        weakref.finalize(ruleset, _MEMOS.pop, id(ruleset), None)
    return memo


class ParamLookup:
    """Values of one ruleset's parameters on one day, recording each one read."""

    def __init__(self, ruleset: Ruleset, day: dt.date | None):
        self.ruleset = ruleset
        self.day = day
        self.used: dict[str, ParameterUse] = {}
        self._values: dict[str, Any] = {}
        self._memo = _memo(ruleset)

    def get(self, name: str) -> Any:
        """The value in force (Decimal for numbers), or None when none is or the day is unknown."""
        if name in self._values:
            return self._values[name]
        value, use = self._memo.resolve(self.ruleset, name, self.day)
        self._values[name] = value
        self.used[name] = use
        return value

    def adopt(self, other: ParamLookup, names: list[str]) -> None:
        """Take ``names`` over from ``other``, which has read them, as if read here in that order.

        Only for a lookup whose day has the same values in force as ``other``'s (batteries of
        one group of :func:`group_by_values`): both would get the same converted value."""
        values, used = self._values, self.used
        for name in names:
            if name not in values:
                values[name] = other._values[name]
                used[name] = other.used[name]

    def start(self, name: str) -> dt.date | None:
        """The start date of the value in force (a cheap key for grouping batteries)."""
        found = self._memo.in_force(self.ruleset, name, self.day)
        return found[0] if found else None

    @property
    def provisional(self) -> bool:
        return any(u.status == _UNCONFIRMED for u in self.used.values())

    def uses(self) -> list[ParameterUse]:
        return list(self.used.values())


def group_by_values(
    rs: Ruleset, batteries: list[Any], basis: str, names: list[str]
) -> tuple[dict[str, ParamLookup], list[list[str]]]:
    """A lookup per battery, and the batteries grouped by which values of ``names`` are in
    force on their dates, so rows can be evaluated once per group instead of per battery."""
    lookups: dict[str, ParamLookup] = {}
    groups: dict[tuple[Any, ...], list[str]] = {}
    # Values change only on the parameters' change dates, so the days between two of them
    # (a stretch) all have the same values, worked out once.
    changes = sorted({d for n in names for d in rs.parameter(n).change_dates()})
    key_of_stretch: dict[int | None, tuple[Any, ...]] = {}
    for ctx in batteries:
        day = ctx.dates.get(basis)
        lookup = ParamLookup(rs, day)
        lookups[ctx.battery_id] = lookup
        stretch = None if day is None else bisect_right(changes, day)
        key = key_of_stretch.get(stretch)
        if key is None:
            key = key_of_stretch[stretch] = tuple(lookup.start(n) for n in names)
        groups.setdefault(key, []).append(ctx.battery_id)
    return lookups, list(groups.values())


def read_in_groups(lookups: dict[str, ParamLookup], groups: list[list[str]],
                   names: list[str]) -> None:
    """Read ``names`` for every battery, in that order, looking them up once per group."""
    for ids in groups:
        probe = lookups[ids[0]]
        for name in names:
            probe.get(name)
        for bid in ids[1:]:
            lookups[bid].adopt(probe, names)

"""Looking up ruleset values on a day, and remembering which were used and on whose authority."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from compliance.report.model import Citation, ParameterUse
from compliance.rules.model import Ruleset, Status, Unit

# (ruleset object id, parameter, start date) -> (value, its ParameterUse). Values are immutable
# and a ruleset object lives for the whole audit, so each dated value is converted once.
_RESOLVED: dict[tuple[int, str, dt.date | None], tuple[Any, ParameterUse]] = {}


def _resolve(ruleset: Ruleset, name: str, day: dt.date | None) -> tuple[Any, ParameterUse]:
    param = ruleset.parameter(name)
    found = param.at(day) if day else None
    key = (id(ruleset), name, found[0] if found else None)
    cached = _RESOLVED.get(key)
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
    if len(_RESOLVED) > 10_000:
        _RESOLVED.clear()
    _RESOLVED[key] = result
    return result


class ParamLookup:
    """Values of one ruleset's parameters on one day, recording each one read."""

    def __init__(self, ruleset: Ruleset, day: dt.date | None):
        self.ruleset = ruleset
        self.day = day
        self.used: dict[str, ParameterUse] = {}
        self._values: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        """The value in force (Decimal for numbers), or None when none is or the day is unknown."""
        if name in self._values:
            return self._values[name]
        value, use = _resolve(self.ruleset, name, self.day)
        self._values[name] = value
        self.used[name] = use
        return value

    def start(self, name: str) -> dt.date | None:
        """The start date of the value in force (a cheap key for grouping batteries)."""
        found = self.ruleset.parameter(name).at(self.day) if self.day else None
        return found[0] if found else None

    @property
    def provisional(self) -> bool:
        return any(u.status == Status.UNCONFIRMED.value for u in self.used.values())

    def uses(self) -> list[ParameterUse]:
        return list(self.used.values())


def group_by_values(
    rs: Ruleset, batteries: list[Any], basis: str, names: list[str]
) -> tuple[dict[str, ParamLookup], list[list[str]]]:
    """A lookup per battery, and the batteries grouped by which values of ``names`` are in
    force on their dates, so rows can be evaluated once per group instead of per battery."""
    lookups: dict[str, ParamLookup] = {}
    groups: dict[tuple[Any, ...], list[str]] = {}
    for ctx in batteries:
        lookup = ParamLookup(rs, ctx.dates.get(basis))
        lookups[ctx.battery_id] = lookup
        groups.setdefault(tuple(lookup.start(n) for n in names), []).append(ctx.battery_id)
    return lookups, list(groups.values())

"""Ruleset conditions and amounts in plain words, for buyers rather than lawyers.

The verdicts themselves always come from the engine; this module only phrases them. Parameter
values are read straight from the ruleset model (``Parameter.at``), the ruleset's own API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from compliance.engine.context import money as money  # re-exported: one money format
from compliance.engine.context import num, pct_down
from compliance.rules.model import AllOf, AnyOf, Leaf, Predicate, Ruleset, Unit


def pct(x: Decimal | None) -> str:
    """A percentage cut (never rounded up) to 4 places, without trailing zeros: 59.9999 %."""
    if x is None:
        return "-"
    text = num(pct_down(x))
    return f"{text} %"


def points(x: Decimal | None) -> str:
    if x is None:
        return "-"
    return format(x.normalize(), "f") + " points"


def value_at(rs: Ruleset, name: str, day: dt.date | None) -> Any:
    """A parameter's value in force on ``day`` (Decimal for numbers), or None."""
    if day is None or name not in rs.parameters:
        return None
    param = rs.parameters[name]
    found = param.at(day)
    if found is None:
        return None
    value = found[1].value
    if param.unit in (Unit.PERCENT, Unit.USD) and value is not None:
        return Decimal(str(value))
    return value


def list_names(pred: Predicate) -> list[str]:
    if isinstance(pred, AnyOf):
        return sorted({n for p in pred.any for n in list_names(p)})
    if isinstance(pred, AllOf):
        return sorted({n for p in pred.all for n in list_names(p)})
    return list(pred.in_ or ())


def lists_at(rs: Ruleset, pred: Predicate, day: dt.date | None) -> dict[str, list[str]]:
    return {n: list(value_at(rs, n, day) or []) for n in list_names(pred)}


def label(rs: Ruleset, name: str) -> str:
    param = rs.parameters.get(name)
    return (param.label if param and param.label else name)


def condition_words(pred: Predicate, rs: Ruleset) -> str:
    """What a line must be to qualify: "extracted in the US or an FTA country, or ..."."""
    if isinstance(pred, AnyOf):
        return ", or ".join(condition_words(p, rs) for p in pred.any)
    if isinstance(pred, AllOf):
        return " and ".join(_concise([condition_words(p, rs) for p in pred.all]))
    if pred.in_ is not None:
        return pred.says.format(value=" or ".join(label(rs, n) for n in pred.in_))
    if pred.equals is True:
        return pred.says.format(value="")
    if pred.equals is False:
        return "not " + pred.says.format(value="")
    return pred.says.format(value=pred.equals)


def why_qualifies(
    pred: Predicate, row: Mapping[str, Any], lists: Mapping[str, list[str]], rs: Ruleset
) -> str | None:
    """The condition a qualifying row meets, in words ("extracted in AU (an FTA country)");
    None when the row does not (provably) qualify."""
    if isinstance(pred, AnyOf):
        for p in pred.any:
            found = why_qualifies(p, row, lists, rs)
            if found is not None:
                return found
        return None
    if isinstance(pred, AllOf):
        found = [why_qualifies(p, row, lists, rs) for p in pred.all]
        if any(p is None for p in found):
            return None
        return " and ".join(_concise([p for p in found if p]))
    return _leaf(pred, row, lists, rs)


def _leaf(pred: Leaf, row: Mapping[str, Any], lists: Mapping[str, list[str]],
          rs: Ruleset) -> str | None:
    value = row.get(pred.column)
    if value is None:
        return None
    if pred.in_ is not None:
        hits = [n for n in pred.in_ if value in (lists.get(n) or ())]
        if not hits:
            return None
        return f"{pred.says.format(value=value)} ({' and '.join(label(rs, n) for n in hits)})"
    if value == pred.equals:
        return pred.says.format(value=value)
    return None


def _concise(parts: list[str]) -> list[str]:
    """Drop a part another one repeats: "recycled and recycled in CA" says "recycled in CA"."""
    return [p for p in parts if not any(q != p and q.startswith(p + " ") for q in parts)]

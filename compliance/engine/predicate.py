"""Qualifying conditions from a ruleset, as polars expressions and as plain-English reasons.

Conditions use three-valued (Kleene) logic: an empty cell makes a condition unknown, and an
unknown only matters when the other branches cannot settle the answer. A line extracted in the
US qualifies whatever its processing country; a line extracted in CN with an empty processing
country is unknown, and the report names that empty cell as a data gap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import polars as pl

from compliance.rules.model import AllOf, AnyOf, Predicate

Lists = Mapping[str, Any]  # parameter name -> list of names, or a number for more_than


def shown(value: Any) -> Any:
    """A cell value as a person writes it: Decimal('1.500000') -> 1.5."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def to_expr(pred: Predicate, lists: Lists) -> pl.Expr:
    """Compile ``pred``; ``lists`` maps parameter names to the values in force."""
    if isinstance(pred, AnyOf):
        exprs = [to_expr(p, lists) for p in pred.any]
        out = exprs[0]
        for e in exprs[1:]:
            out = out | e
        return out
    if isinstance(pred, AllOf):
        exprs = [to_expr(p, lists) for p in pred.all]
        out = exprs[0]
        for e in exprs[1:]:
            out = out & e
        return out
    col = pl.col(pred.column)
    if pred.in_ is not None:
        allowed = sorted({v for name in pred.in_ for v in lists.get(name) or ()})
        return col.is_in(allowed)  # null stays null: unknown
    if pred.more_than is not None:
        limit = lists.get(pred.more_than)
        return col > pl.lit(limit) if limit is not None else pl.lit(None, pl.Boolean)
    return col == pl.lit(pred.equals)


def columns(pred: Predicate) -> list[str]:
    if isinstance(pred, AnyOf):
        return sorted({c for p in pred.any for c in columns(p)})
    if isinstance(pred, AllOf):
        return sorted({c for p in pred.all for c in columns(p)})
    return [pred.column]


def evaluate(pred: Predicate, row: Mapping[str, Any], lists: Lists) -> bool | None:
    """Evaluate one row in Python (used for the few rows a report explains)."""
    if isinstance(pred, AnyOf):
        results = [evaluate(p, row, lists) for p in pred.any]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    if isinstance(pred, AllOf):
        results = [evaluate(p, row, lists) for p in pred.all]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    value = row.get(pred.column)
    if value is None:
        return None
    if pred.in_ is not None:
        return any(value in (lists.get(name) or ()) for name in pred.in_)
    if pred.more_than is not None:
        limit = lists.get(pred.more_than)
        return None if limit is None else value > limit
    return value == pred.equals


def explain(
    pred: Predicate, row: Mapping[str, Any], lists: Lists, label: Callable[[str], str]
) -> tuple[list[str], list[str]]:
    """Why ``row`` does not qualify: (phrases for failed conditions, columns that are unknown).

    ``label`` names a parameter in words ("an FTA country").
    """
    if isinstance(pred, AnyOf):
        phrases: list[str] = []
        unknown: list[str] = []
        for p in pred.any:
            ph, un = explain(p, row, lists, label)
            phrases += ph
            unknown += un
        return phrases, unknown
    if isinstance(pred, AllOf):
        for p in pred.all:
            result = evaluate(p, row, lists)
            if result is False:
                return explain(p, row, lists, label)
        unknown = []
        for p in pred.all:
            if evaluate(p, row, lists) is None:
                unknown += explain(p, row, lists, label)[1]
        return [], unknown
    value = row.get(pred.column)
    if value is None:
        return [], [pred.column]
    if pred.in_ is not None:
        if any(value in (lists.get(name) or ()) for name in pred.in_):
            return [], []
        names = " or ".join(label(n) for n in pred.in_)
        return [f"{pred.says.format(value=shown(value))} (not {names})"], []
    if evaluate(pred, row, lists):
        return [], []
    return [f"not {pred.says.format(value=shown(value))}"], []


def matching(pred: Predicate, row: Mapping[str, Any], lists: Lists) -> list[str]:
    """Phrases for the conditions ``row`` meets ("processed in CN"), for rows that match."""
    if isinstance(pred, AnyOf | AllOf):
        parts = pred.any if isinstance(pred, AnyOf) else pred.all
        return [ph for p in parts if evaluate(p, row, lists) for ph in matching(p, row, lists)]
    if evaluate(pred, row, lists):
        return [pred.says.format(value=shown(row.get(pred.column)))]
    return []


def params_in(pred: Predicate | None) -> list[str]:
    """Names of the list parameters a predicate reads."""
    if pred is None:
        return []
    if isinstance(pred, AnyOf | AllOf):
        parts = pred.any if isinstance(pred, AnyOf) else pred.all
        return sorted({n for p in parts for n in params_in(p)})
    return sorted([*(pred.in_ or []), *([pred.more_than] if pred.more_than else [])])

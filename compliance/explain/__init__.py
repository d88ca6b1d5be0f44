"""Explain and remediate audit verdicts: by how much, what to change, what-if, over time.

* :func:`explain` - every line's part in every requirement, and each data gap's effect.
* :func:`plan` - the fewest lines / least value to re-source, the suppliers to replace.
* :func:`what_if` - the audit re-run with cells changed, as deltas per requirement.
* :func:`horizon` - the verdicts on every date a ruleset changes.

These build on the public audit report and BOM; verdicts always come from the engine. Names
are imported on first use (polars is heavy), so ``compliance --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "ChangeError": "compliance.explain.changes",
    "ChangeRequest": "compliance.explain.changes",
    "parse_set": "compliance.explain.changes",
    "read_scenarios": "compliance.explain.changes",
    "change_dates": "compliance.explain.timeline",
    "horizon": "compliance.explain.timeline",
    "explain": "compliance.explain.lines",
    "plan": "compliance.explain.planning",
    "what_if": "compliance.explain.whatif",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'compliance.explain' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_LAZY)

"""What changed between two rulesets (or two editions of one), in plain words."""

from __future__ import annotations

from typing import Any

from compliance.rules.model import DatedValue, Parameter, Ruleset


def diff_rulesets(old: Ruleset, new: Ruleset) -> list[str]:
    """Sentences describing every change from ``old`` to ``new``; empty when identical."""
    out: list[str] = []
    if old.id != new.id:
        out.append(f"ruleset id changed from {old.id} to {new.id}")
    for field in ("title", "summary", "jurisdiction", "last_reviewed"):
        a, b = getattr(old, field), getattr(new, field)
        if a != b:
            out.append(f"{field.replace('_', ' ')} changed from {_show(a)} to {_show(b)}")
    for name in sorted(set(old.date_bases) | set(new.date_bases)):
        a, b = old.date_bases.get(name), new.date_bases.get(name)
        if a != b:
            out.append(_added_removed("date basis", name, a, b))
    for name in sorted(set(old.parameters) | set(new.parameters)):
        a, b = old.parameters.get(name), new.parameters.get(name)
        if a is None or b is None:
            out.append(f"parameter {name} {'added' if a is None else 'removed'}")
            continue
        out.extend(_parameter_changes(name, a, b))
    old_reqs = {r.id: r for r in old.requirements}
    new_reqs = {r.id: r for r in new.requirements}
    for rid in sorted(set(old_reqs) | set(new_reqs)):
        a, b = old_reqs.get(rid), new_reqs.get(rid)
        if a is None:
            out.append(f"requirement {rid} added: {b.title}")  # type: ignore[union-attr]
        elif b is None:
            out.append(f"requirement {rid} removed: {a.title}")
        else:
            da, db = a.model_dump(by_alias=True), b.model_dump(by_alias=True)
            for key in sorted(set(da) | set(db)):
                if da.get(key) != db.get(key):
                    out.append(f"requirement {rid}: {key.replace('_', ' ')} changed from "
                               f"{_show(da.get(key))} to {_show(db.get(key))}")
    for name in sorted(set(old.entity_tests) | set(new.entity_tests)):
        a, b = old.entity_tests.get(name), new.entity_tests.get(name)
        if a != b:
            out.append(_added_removed("entity test", name, a, b))
    return out


def _parameter_changes(name: str, a: Parameter, b: Parameter) -> list[str]:
    out: list[str] = []
    if a.unit != b.unit:
        out.append(f"parameter {name}: unit changed from {a.unit} to {b.unit}")
    if a.description != b.description:
        out.append(f"parameter {name}: description changed to \"{b.description}\"")
    for day in sorted(set(a.values) | set(b.values)):
        va, vb = a.values.get(day), b.values.get(day)
        when = day.isoformat()
        if va is None and vb is not None:
            out.append(f"parameter {name}: new value from {when}: {_value(vb)}")
        elif vb is None and va is not None:
            out.append(f"parameter {name}: value from {when} removed (was {_value(va)})")
        elif va is not None and vb is not None and va != vb:
            if va.value != vb.value:
                out.append(f"parameter {name} from {when}: {_list_change(va.value, vb.value)}")
            if va.status != vb.status:
                out.append(f"parameter {name} from {when}: status changed from "
                           f"{va.status.value} to {vb.status.value}")
            if va.source != vb.source:
                out.append(f"parameter {name} from {when}: sources changed")
    return out


def _list_change(a: Any, b: Any) -> str:
    if isinstance(a, list) and isinstance(b, list):
        added = [x for x in b if x not in a]
        removed = [x for x in a if x not in b]
        parts = []
        if added:
            parts.append("adds " + ", ".join(added))
        if removed:
            parts.append("removes " + ", ".join(removed))
        return "; ".join(parts) or "reordered"
    return f"{_show(a)} becomes {_show(b)}"


def _value(v: DatedValue) -> str:
    return f"{_show(v.value)} ({v.status.value})"


def _show(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, list):
        return "[" + ", ".join(_show(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict) and "title" in v:
        return str(v["title"])
    if isinstance(v, dict) and ("column" in v or "any" in v or "all" in v):
        return _condition(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_show(x)}" for k, x in v.items() if x is not None) + "}"
    return str(v)


def _condition(c: dict[str, Any]) -> str:
    """A condition in words: 'mineral in applicable_critical_minerals'."""
    if "any" in c:
        return "any of (" + "; ".join(_condition(x) for x in c["any"]) + ")"
    if "all" in c:
        return "all of (" + "; ".join(_condition(x) for x in c["all"]) + ")"
    if c.get("in") is not None:
        return f"{c['column']} in {' or '.join(c['in'])}"
    if c.get("more_than") is not None:
        return f"{c['column']} above {c['more_than']}"
    return f"{c['column']} is {_show(c.get('equals'))}"


def _added_removed(kind: str, name: str, a: Any, b: Any) -> str:
    if a is None:
        return f"{kind} {name} added"
    if b is None:
        return f"{kind} {name} removed"
    return f"{kind} {name} changed"

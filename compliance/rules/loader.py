"""Find, load and check rulesets; refuse a malformed one with the file, key and reason."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from compliance.contract import SHEETS_BY_NAME, Kind
from compliance.errors import RulesetError
from compliance.rules.model import (
    AllOf,
    AnyOf,
    ConcentrationCap,
    CostRatio,
    Leaf,
    Predicate,
    ProhibitedEntity,
    Ruleset,
    Unit,
)
from compliance.rules.yaml_strict import load_strict

RULESET_FILE = "ruleset.yaml"


@dataclass(frozen=True, slots=True)
class LoadedRuleset:
    """A checked ruleset with where it came from and the sha256 of its file's bytes."""

    ruleset: Ruleset
    path: Path
    sha256: str

    @property
    def id(self) -> str:
        return self.ruleset.id

    @property
    def version(self) -> str:
        return self.ruleset.version


def check_distinct(loaded: Sequence[LoadedRuleset]) -> None:
    """Refuse rulesets that cannot be audited together (``RulesetError``, repeated-ruleset).

    A report names each verdict by its ruleset's id, so two editions of one ruleset (or the same
    one twice) would give every battery two verdicts no one could tell apart.
    """
    seen: dict[str, str] = {}
    for r in loaded:
        if r.id not in seen:
            seen[r.id] = r.version
        elif seen[r.id] == r.version:
            raise RulesetError(f"ruleset {r.id}@{r.version} is given twice; give each ruleset "
                               "once", code="repeated-ruleset")
        else:
            raise RulesetError(f"two editions of ruleset {r.id} are given ({seen[r.id]} and "
                               f"{r.version}); audit one edition at a time, and compare "
                               "editions with 'compliance rulesets diff'",
                               code="repeated-ruleset")


def bundled_dir() -> Path:
    """The ``rulesets/`` folder: beside the package in a checkout, inside it when installed."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "rulesets", here / "_bundled_rulesets"):
        if candidate.is_dir():
            return candidate
    raise RulesetError("the bundled rulesets folder is missing from this installation")


EDITIONS_DIR = "editions"


def available() -> list[Path]:
    """Folders of the bundled rulesets (each holds its current edition as ruleset.yaml)."""
    base = bundled_dir()
    return sorted(p.parent for p in base.rglob(RULESET_FILE))


def editions(ruleset_id: str) -> list[LoadedRuleset]:
    """Every bundled edition of a ruleset, oldest first, the current one last."""
    folder = _bundled_folder(ruleset_id)
    older = [_load_file(p) for p in sorted((folder / EDITIONS_DIR).glob("*.yaml"))]
    older.sort(key=lambda r: _version_key(r.version))
    return [*older, _load_file(folder / RULESET_FILE)]


def load_ruleset(id_or_path: str | Path) -> LoadedRuleset:
    """Load a ruleset: a bundled id (``us-ira-30d``), a pinned edition (``us-ira-30d@1.0.0``),
    or a ruleset file or folder by path."""
    text = str(id_or_path)
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or path.is_dir() or path.is_file() or "/" in text:
        if path.is_dir():
            path = path / RULESET_FILE
        if not path.is_file():
            raise RulesetError(f"no ruleset file at {path}", code="ruleset-not-found")
        return _load_file(path)
    ruleset_id, _, version = text.partition("@")
    folder = _bundled_folder(ruleset_id)
    current = _load_file(folder / RULESET_FILE)
    if not version or version == current.version:
        return current
    candidate = folder / EDITIONS_DIR / f"{version}.yaml"
    if not candidate.is_file():
        known = ", ".join(r.version for r in editions(ruleset_id))
        raise RulesetError(f"ruleset '{ruleset_id}' has no edition {version} (bundled: {known})",
                           code="ruleset-not-found")
    loaded = _load_file(candidate)
    if loaded.version != version or loaded.id != ruleset_id:
        raise RulesetError(f"file says {loaded.id}@{loaded.version}, expected "
                           f"{ruleset_id}@{version}", where=str(candidate))
    return loaded


def _bundled_folder(ruleset_id: str) -> Path:
    base = bundled_dir()
    for folder in available():
        if folder.name == ruleset_id:
            return folder
    known = ", ".join(p.name for p in available()) or "none"
    raise RulesetError(f"unknown ruleset '{ruleset_id}' (bundled: {known})",
                       code="ruleset-not-found", where=str(base))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def _load_file(path: Path) -> LoadedRuleset:
    raw = path.read_bytes()
    where = str(path)
    try:
        data = load_strict(raw)
    except Exception as exc:
        raise RulesetError(f"not valid YAML: {exc}", where=where) from None
    if not isinstance(data, dict):
        raise RulesetError("the file must hold a mapping at the top level", where=where)
    try:
        ruleset = Ruleset.model_validate(data)
    except ValidationError as exc:
        raise RulesetError(_describe(exc), where=where) from None
    problems = check_references(ruleset)
    if problems:
        raise RulesetError("; ".join(problems), where=where)
    return LoadedRuleset(ruleset, path, hashlib.sha256(raw).hexdigest())


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        key = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{key}: {msg}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


# Which fields of each requirement kind name a parameter, and the units they accept.
_PARAM_FIELDS: dict[str, dict[str, tuple[Unit, ...]]] = {
    "in_force": {"parameter": (Unit.BOOLEAN,)},
    "content_share": {"threshold": (Unit.PERCENT,), "credit": (Unit.USD,)},
    "prohibited_entity": {"in_force": (Unit.BOOLEAN,)},
    "cost_ratio": {"threshold": (Unit.PERCENT,), "in_force": (Unit.BOOLEAN,)},
    "recycled_content": {"minimums": (Unit.PERCENT_TABLE,), "documentation": (Unit.BOOLEAN,)},
    "concentration_cap": {"cap": (Unit.PERCENT,), "exempt": (Unit.COUNTRIES,)},
    "forbidden_rows": {},
}
_AMOUNT = (Kind.MONEY, Kind.MASS, Kind.NUMBER)
# Which fields name a column of the requirement's sheet, and the kinds they accept.
_COLUMN_FIELDS: dict[str, dict[str, tuple[Kind, ...] | None]] = {
    "in_force": {},
    "content_share": {"item_id": None, "measure": _AMOUNT},
    "prohibited_entity": {"item_id": None, "measure": _AMOUNT},
    "cost_ratio": {"item_id": None, "cost": _AMOUNT, "certified_cost": _AMOUNT,
                   "supplier": (Kind.ID,)},
    "recycled_content": {"item_id": None, "material": (Kind.MINERAL,), "mass": _AMOUNT,
                         "recovered": (Kind.BOOL,)},
    "concentration_cap": {"item_id": None, "group_by": None, "measure": _AMOUNT},
    "forbidden_rows": {"item_id": None, "measure": _AMOUNT},
}
_PREDICATE_FIELDS = ("qualifies", "scope", "when", "forbidden")
_CHECK_UNITS: dict[str, tuple[Unit, ...]] = {
    "activity_in": (Unit.COUNTRIES,), "country_in": (Unit.COUNTRIES,),
    "at_least": (Unit.PERCENT,), "more_than": (Unit.PERCENT,), "held_by": (Unit.PERCENT,),
    "listed": (Unit.NAMES,), "flag": (Unit.BOOLEAN,),
}


def check_references(rs: Ruleset) -> list[str]:
    """Every name a requirement uses must exist, with the right unit or column kind."""
    problems: list[str] = []
    used: set[str] = set()

    def param(name: str, units: tuple[Unit, ...], where: str) -> None:
        used.add(name)
        p = rs.parameters.get(name)
        if p is None:
            problems.append(f"{where}: parameter '{name}' is not defined")
        elif p.unit not in units:
            problems.append(f"{where}: parameter '{name}' has unit {p.unit}, expected "
                            + " or ".join(u.value for u in units))

    def column(sheet: str, name: str, where: str, kinds: tuple[Kind, ...] | None = None) -> None:
        spec = SHEETS_BY_NAME[sheet]
        try:
            col = spec.column(name)
        except KeyError:
            problems.append(f"{where}: sheet '{sheet}' has no column '{name}'")
            return
        if kinds and col.kind not in kinds:
            problems.append(f"{where}: column '{name}' is {col.kind}, expected "
                            + " or ".join(k.value for k in kinds))

    def predicate(p: Predicate, sheet: str, where: str) -> None:
        if isinstance(p, AnyOf | AllOf):
            for i, sub in enumerate(p.any if isinstance(p, AnyOf) else p.all):
                predicate(sub, sheet, f"{where}[{i}]")
        elif isinstance(p, Leaf):
            column(sheet, p.column, where)
            for ref in p.in_ or ():
                param(ref, (Unit.COUNTRIES, Unit.NAMES), where)
            if p.more_than:
                param(p.more_than, (Unit.PERCENT, Unit.USD, Unit.NUMBER), where)

    for name, basis in rs.date_bases.items():
        column("batteries", basis.column, f"date_bases.{name}", (Kind.DATE,))
        if basis.fallback and basis.fallback not in rs.date_bases:
            problems.append(f"date_bases.{name}.fallback: '{basis.fallback}' is not defined")

    seen: set[str] = set()
    for i, req in enumerate(rs.requirements):
        where = f"requirements[{i}] ({req.id})"
        if req.id in seen:
            problems.append(f"{where}: requirement id used twice")
        seen.add(req.id)
        if req.date_basis not in rs.date_bases:
            problems.append(f"{where}: date_basis '{req.date_basis}' is not defined")
        for field, units in _PARAM_FIELDS[req.kind].items():
            name = getattr(req, field)
            if name:
                param(name, units, f"{where}.{field}")
        sheet = getattr(req, "sheet", None)
        for field, kinds in _COLUMN_FIELDS[req.kind].items():
            name = getattr(req, field)
            if name and sheet:
                column(sheet, name, f"{where}.{field}", kinds)
        for field in _PREDICATE_FIELDS:
            pred = getattr(req, field, None)
            if pred is not None and sheet:
                predicate(pred, sheet, f"{where}.{field}")
        if req.applies_if is not None:
            predicate(req.applies_if, "batteries", f"{where}.applies_if")
        traced = getattr(req, "traced", None)
        if traced is not None:
            for stage in traced.stages:
                for ref in stage.countries:
                    param(ref, (Unit.COUNTRIES,), f"{where}.traced")
            if traced.safe_harbour_share:
                param(traced.safe_harbour_share, (Unit.PERCENT,), f"{where}.traced")
            if traced.safe_harbour_available:
                param(traced.safe_harbour_available, (Unit.BOOLEAN,), f"{where}.traced")
            if (traced.safe_harbour_date_basis
                    and traced.safe_harbour_date_basis not in rs.date_bases):
                problems.append(f"{where}.traced: date basis "
                                f"'{traced.safe_harbour_date_basis}' is not defined")
            column("batteries", traced.election_column, f"{where}.traced", (Kind.METHOD,))
        if isinstance(req, ProhibitedEntity | ConcentrationCap):
            steps = req.activities if isinstance(req, ProhibitedEntity) else req.stages
            for act in steps:
                if act.country:
                    column(req.sheet, act.country, where, (Kind.COUNTRY,))
                if isinstance(req, ProhibitedEntity):
                    column(req.sheet, act.entity, where, (Kind.ID,))
                if act.when:
                    column(req.sheet, act.when, where, (Kind.BOOL,))
        if isinstance(req, ProhibitedEntity | CostRatio) and req.entity_test not in rs.entity_tests:
            problems.append(f"{where}: entity_test '{req.entity_test}' is not defined")
        if isinstance(req, ProhibitedEntity) and req.relief:
            column(req.sheet, req.relief.flag, where, (Kind.BOOL,))
            param(req.relief.in_force, (Unit.BOOLEAN,), where)
    reachable: set[str] = set()
    pending = [r.entity_test for r in rs.requirements
               if isinstance(r, ProhibitedEntity | CostRatio) and r.entity_test in rs.entity_tests]
    while pending:
        name = pending.pop()
        if name not in reachable:
            reachable.add(name)
            pending.extend(c.test for c in rs.entity_tests[name].checks
                           if c.test and c.test in rs.entity_tests)
    for name in rs.entity_tests:
        if name not in reachable:
            problems.append(f"entity_tests.{name}: defined but no requirement uses it")
    for name, test in rs.entity_tests.items():
        if name not in reachable:
            continue
        for j, check in enumerate(test.checks):
            where = f"entity_tests.{name}.checks[{j}]"
            if check.parameter:
                param(check.parameter, _CHECK_UNITS.get(check.kind, tuple(Unit)), where)
            if check.column:
                column("entities", check.column, where)
            if check.test and check.test not in rs.entity_tests:
                problems.append(f"{where}: test '{check.test}' is not defined")
    for name in rs.parameters:
        if name not in used:
            problems.append(f"parameters.{name}: defined but no requirement uses it")
    return problems

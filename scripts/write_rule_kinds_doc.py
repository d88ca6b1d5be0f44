"""Generate ``docs/rule-kinds.md``, the reference of what a ruleset can say, from the code.

Everything on the page is read from the code that implements it: the requirement kinds are the
members of the ``Requirement`` union in ``compliance/rules/model.py`` (docstring, fields with
their type as written, default and the comment beside or above them), how each is evaluated is
the docstring of its evaluator's module in ``compliance/engine/``, which fields name a parameter
or a column comes from the loader's reference checks, and units, statuses, effects, entity
checks and conditions come from their enums and docstrings. ``tests/test_rule_kinds_doc.py``
checks that the committed page equals what this script writes.

    python scripts/write_rule_kinds_doc.py          # rewrite docs/rule-kinds.md
    python scripts/write_rule_kinds_doc.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import ast
import inspect
import io
import sys
import textwrap
import tokenize
import typing
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "rule-kinds.md"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


# --------------------------------------------------------------------------------------------
# Reading the source
# --------------------------------------------------------------------------------------------


def _doc(obj: Any) -> str:
    """An object's own docstring, cleaned; classes do not inherit one here."""
    raw = obj.__dict__.get("__doc__") if isinstance(obj, type) else obj.__doc__
    return inspect.cleandoc(raw) if raw else ""


def _class_source(cls: type) -> tuple[ast.ClassDef, dict[int, str], list[str]]:
    """The class's syntax tree, its comments by line, and its source lines."""
    source = textwrap.dedent(inspect.getsource(cls))
    tree = ast.parse(source)
    node = tree.body[0]
    assert isinstance(node, ast.ClassDef)
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and "noqa" not in tok.string:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    return node, comments, source.splitlines()


def _comment_for(node: ast.stmt, comments: dict[int, str], lines: list[str]) -> str:
    """Comment lines directly above a statement, then comments on its own lines."""
    above: list[str] = []
    line = node.lineno - 1
    while line >= 1 and lines[line - 1].strip().startswith("#"):
        above.insert(0, comments.get(line, ""))
        line -= 1
    beside = [comments[n] for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)
              if n in comments]
    return " ".join(part for part in [*above, *beside] if part)


class FieldInfo(typing.NamedTuple):
    name: str
    type: str
    default: str
    constraints: str
    comment: str


def _own_fields(cls: type) -> list[FieldInfo]:
    """The fields a pydantic model class declares itself, in source order."""
    node, comments, lines = _class_source(cls)
    model_fields = cls.model_fields  # type: ignore[attr-defined]
    out: list[FieldInfo] = []
    for stmt in node.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        name = stmt.target.id
        if name not in model_fields:
            continue
        info = model_fields[name]
        constraints = ""
        if isinstance(stmt.value, ast.Call) and getattr(stmt.value.func, "id", "") == "Field":
            constraints = ", ".join(
                f"{kw.arg}={ast.unparse(kw.value)}" for kw in stmt.value.keywords
                if kw.arg not in ("default", "default_factory", "alias", "description",
                                  "discriminator"))
        if info.is_required():
            default = "required"
        elif info.default_factory is not None:
            default = f"`{_value(info.default_factory())}`"  # type: ignore[call-arg]
        else:
            default = f"`{_value(info.default)}`"
        comment = _comment_for(stmt, comments, lines)
        if info.description:
            comment = f"{info.description} {comment}".strip()
        out.append(FieldInfo(info.alias or name, ast.unparse(stmt.annotation), default,
                             constraints, comment))
    return out


def _value(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Enum):
        return str(v.value)
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, dict):
        return "{}" if not v else str(v)
    if isinstance(v, list):
        return "[]" if not v else str(v)
    return str(v)


def _enum_members(cls: type[Enum]) -> list[tuple[str, str]]:
    """(value, comment) for each member of an enum, in source order."""
    node, comments, lines = _class_source(cls)
    out: list[tuple[str, str]] = []
    for stmt in node.body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            member = cls[stmt.targets[0].id]
            out.append((str(member.value), _comment_for(stmt, comments, lines)))
    return out


def _sentence(text: str) -> str:
    """A comment as a sentence: capitalised, ending with a full stop."""
    text = text.strip()
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!", ")")) else text + "."


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fields_table(fields: list[FieldInfo], notes: dict[str, str] | None = None) -> list[str]:
    notes = notes or {}
    rows = ["| field | type | default | meaning |", "|---|---|---|---|"]
    for f in fields:
        meaning = " ".join(_sentence(part) for part in (
            f.comment, notes.get(f.name, ""), f"Constraint: {f.constraints}." if f.constraints
            else "") if part)
        rows.append(f"| `{f.name}` | `{_cell(f.type)}` | {f.default} | {_cell(meaning)} |")
    return rows


def _join(words: list[str], last: str = "or") -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {last} " + words[-1]


def _reference_notes(kind: str) -> dict[str, str]:
    """What the loader requires of each field that names a parameter or a column."""
    from compliance.rules import loader

    notes: dict[str, str] = {"entity_test": "Names an entity test of the ruleset's `entity_tests`."}
    for field, units in getattr(loader, "_PARAM_FIELDS", {}).get(kind, {}).items():
        notes[field] = f"Names a parameter of unit {_join([f'`{u.value}`' for u in units])}."
    for field, kinds in getattr(loader, "_COLUMN_FIELDS", {}).get(kind, {}).items():
        what = f" of kind {_join([f'`{k.value}`' for k in kinds])}" if kinds else ""
        notes[field] = f"Names a column{what} of the requirement's `sheet`."
    return notes


def _unit_users(unit: str) -> list[str]:
    """Which requirement fields and entity checks take a parameter of this unit."""
    from compliance.rules import loader

    users = [f"`{kind}.{field}`"
             for kind, fields in getattr(loader, "_PARAM_FIELDS", {}).items()
             for field, units in fields.items() if unit in {u.value for u in units}]
    users += [f"entity check `{kind}`"
              for kind, units in getattr(loader, "_CHECK_UNITS", {}).items()
              if unit in {u.value for u in units}]
    return users


def _module_doc(module: ModuleType) -> str:
    return inspect.cleandoc(module.__doc__ or "")


def _requirement_kinds() -> list[type]:
    from compliance.rules.model import Requirement

    union = typing.get_args(Requirement)[0]
    return list(typing.get_args(union))


def _kind_of(cls: type) -> str:
    (literal,) = typing.get_args(cls.model_fields["kind"].annotation)  # type: ignore[attr-defined]
    return str(literal)


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def render() -> str:
    import compliance.engine.entities as entities
    import compliance.engine.predicate as predicate
    import compliance.rules.model as model
    from compliance.contract import BATTERIES, Kind
    from compliance.engine.audit import _EVALUATORS
    from compliance.report.model import Status as VerdictStatus
    from compliance.rules import loader

    kinds = _requirement_kinds()
    out: list[str] = [
        "# Rule kinds",
        "",
        "<!-- Generated by scripts/write_rule_kinds_doc.py from compliance/rules/model.py and "
        "compliance/engine/; do not edit by hand. -->",
        "",
        "What a ruleset file can say, read from the code that implements it. A new regime is a "
        "new YAML file that instantiates these kinds with dated, cited parameters; see the "
        "bundled `rulesets/` and `rulesets/examples/` for complete files.",
        "",
        _module_doc(model),
        "",
        "Contents: "
        + ", ".join(f"[`{_kind_of(c)}`](#{_kind_of(c)})" for c in kinds)
        + "; [fields every requirement has](#fields-every-requirement-has), "
        "[conditions](#conditions), [entity tests](#entity-tests), "
        "[how indirect holdings are combined](#how-indirect-holdings-are-combined), "
        "[parameters and units](#parameters-and-units), [date bases](#date-bases), "
        "[verdict statuses](#verdict-statuses).",
        "",
        "## Fields every requirement has",
        "",
        *_fields_table(_own_fields(model.RequirementBase)),
        "",
        "`effect` is one of:",
        "",
        *[f"- `{value}`: {comment}" for value, comment in _enum_members(model.Effect)],
        "",
        "## Requirement kinds",
        "",
    ]
    for cls in kinds:
        kind = _kind_of(cls)
        evaluator = _EVALUATORS[cls]
        module = sys.modules[evaluator.__module__]
        fields = [f for f in _own_fields(cls) if f.name != "kind"]
        out += [
            f"### `{kind}`",
            "",
            _doc(cls),
            "",
            f"How it is evaluated (`{module.__name__.replace('.', '/')}.py`):",
            "",
            *[f"> {line}".rstrip() for line in _module_doc(module).splitlines()],
            "",
            f"Fields, besides the common ones and `kind: {kind}`:",
            "",
            *_fields_table(fields, _reference_notes(kind)),
            "",
        ]
    out += [
        "### Stages, activities and relief",
        "",
        "`activities` (of `prohibited_entity`) and `stages` (of `concentration_cap`) are lists "
        "of:",
        "",
        *_fields_table(_own_fields(model.Activity)),
        "",
        "`relief` (of `prohibited_entity`) leaves rows out of the test while a switch is on:",
        "",
        *_fields_table(_own_fields(model.Relief)),
        "",
        "## Conditions",
        "",
        "`applies_if`, `scope`, `qualifies`, `when` and `forbidden` are conditions: a leaf, or "
        "`any:` / `all:` of a list of conditions.",
        "",
        _module_doc(predicate),
        "",
        "A leaf tests one column with exactly one of `in`, `equals` or `more_than`:",
        "",
        *_fields_table(_own_fields(model.Leaf)),
        "",
        "| combinator | field | meaning |",
        "|---|---|---|",
        "| `any` | `any: [condition, ...]` | true when one is true; unknown when none is true "
        "and one is unknown |",
        "| `all` | `all: [condition, ...]` | false when one is false; unknown when none is "
        "false and one is unknown |",
        "",
        "## Entity tests",
        "",
        "`entity_tests` names tests that `prohibited_entity` and `cost_ratio` requirements (and "
        "other tests) refer to. A test catches an entity when any of its checks does.",
        "",
        *_fields_table(_own_fields(model.EntityTest)),
        "",
        _doc(model.EntityCheck),
        "",
        *_fields_table(_own_fields(model.EntityCheck)),
        "",
        "Parameter units each check kind accepts: "
        + "; ".join(f"`{k}`: {_join([f'`{u.value}`' for u in units])}"
                    for k, units in getattr(loader, "_CHECK_UNITS", {}).items()) + ".",
        "",
        "## How indirect holdings are combined",
        "",
        f"From `compliance/engine/entities.py` (`MAX_DEPTH` = {entities.MAX_DEPTH}):",
        "",
        _module_doc(entities),
        "",
        "## Parameters and units",
        "",
        *_fields_table(_own_fields(model.Parameter)),
        "",
        "Each dated value:",
        "",
        *_fields_table(_own_fields(model.DatedValue)),
        "",
        "A citation:",
        "",
        *_fields_table(_own_fields(model.Citation)),
        "",
        "| unit | meaning | named by |",
        "|---|---|---|",
        *[f"| `{value}` | {_cell(_sentence(comment)) if comment else ''} | "
          f"{_cell(', '.join(_unit_users(value)))} |"
          for value, comment in _enum_members(model.Unit)],
        "",
        "Conditions name parameters too: `in` names lists (`countries` or `names`), "
        "`more_than` a number (see [conditions](#conditions)).",
        "",
        "Status of a dated value:",
        "",
        *[f"- `{value}`: {comment}" for value, comment in _enum_members(model.Status)],
        "",
        "## Date bases",
        "",
        "`date_bases` names the batteries-sheet dates that select the values in force; each "
        "requirement picks one with `date_basis`.",
        "",
        *_fields_table(_own_fields(model.DateBasis)),
        "",
        "Date columns of the batteries sheet:",
        "",
        *[f"- `{c.name}`: {c.description}" for c in BATTERIES.columns if c.kind is Kind.DATE],
        "",
        "## Verdict statuses",
        "",
        "Each requirement, and each battery under each ruleset, gets one of:",
        "",
        *[f"- `{value}`" + (f": {comment}" if comment else "")
          for value, comment in _enum_members(VerdictStatus)],
    ]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    current = OUT.read_text(encoding="utf-8") if OUT.is_file() else None
    if "--check" in argv:
        if current != text:
            print(f"out of date: {OUT} (run python scripts/write_rule_kinds_doc.py)",
                  file=sys.stderr)
            return 1
        return 0
    if current != text:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

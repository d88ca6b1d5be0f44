"""Regenerate the README's workbook-contract section from compliance/contract.py.

The README documents the input format; the contract module defines it. This script writes the
section between the ``<!-- contract:start -->`` and ``<!-- contract:end -->`` markers so the two
cannot drift (tests/test_readme.py fails when the README is stale). ``--check`` exits 1 instead
of writing when the section is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compliance.contract import SHEETS  # noqa: E402

START, END = "<!-- contract:start -->", "<!-- contract:end -->"


def contract_markdown() -> str:
    parts = [START, ""]
    for sheet in SHEETS:
        need = "required" if sheet.required else "optional"
        key = f"; unique key: {', '.join(sheet.key)}" if sheet.key else ""
        parts.append(f"**`{sheet.name}`** ({need}{key}): {sheet.description}")
        parts.append("")
        parts.append("| column | kind | header | description |")
        parts.append("|---|---|---|---|")
        for col in sheet.columns:
            header = "required" if col.required else "optional"
            notes = []
            if col.nonblank:
                notes.append("a row without it is left out and reported")
            if col.default is not None:
                notes.append(f"empty means {col.default or 'none'}")
            extra = f" ({'; '.join(notes)})" if notes else ""
            parts.append(f"| `{col.name}` | {col.kind.value} | {header} | "
                         f"{col.description.replace('|', '/')}{extra} |")
        parts.append("")
    parts.append(END)
    return "\n".join(parts)


def render(readme: str) -> str:
    start, end = readme.index(START), readme.index(END) + len(END)
    return readme[:start] + contract_markdown() + readme[end:]


def main() -> int:
    path = ROOT / "README.md"
    current = path.read_text(encoding="utf-8")
    updated = render(current)
    if "--check" in sys.argv:
        return 0 if updated == current else 1
    path.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

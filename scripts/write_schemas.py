"""Regenerate the JSON Schemas of the report models into ``compliance/schemas/``.

The schemas are generated from the pydantic models (serialization mode, so decimals appear as
strings), written with sorted keys and a trailing newline. ``tests/test_report_schema.py``
checks that the committed files equal what this script writes, so they cannot drift.

    python scripts/write_schemas.py          # rewrite the files
    python scripts/write_schemas.py --check  # exit 1 if a file is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "compliance" / "schemas"


def render() -> dict[Path, str]:
    """Each schema file's path and the exact text it should hold."""
    from compliance.report.model import AuditReport, ValidationReport

    models = {"report.schema.json": AuditReport, "validation.schema.json": ValidationReport}
    return {
        SCHEMA_DIR / name: json.dumps(model.model_json_schema(mode="serialization"), indent=2,
                                      sort_keys=True, ensure_ascii=False) + "\n"
        for name, model in models.items()
    }


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, text in render().items():
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(path)
        if not check:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)
    if check and stale:
        for path in stale:
            print(f"out of date: {path} (run python scripts/write_schemas.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

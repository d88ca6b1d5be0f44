"""`compliance rulesets diff`, `compliance rulesets editions` and pinned editions."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import compliance
from compliance.cli import main as cli
from compliance.report.model import Status
from compliance.rules.diff import diff_rulesets

ROOT = Path(__file__).resolve().parents[1]
RULESETS = ROOT / "rulesets"
EXAMPLES = RULESETS / "examples"


def run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output.splitlines()


# --------------------------------------------------------------------------------------------
# Bundled editions of us-ira-30d
# --------------------------------------------------------------------------------------------

SCOPE_LINE = "- requirement critical_minerals: scope changed from none to "
TRACED_LINE = "- requirement critical_minerals: traced changed from none to {stages: "
IRA_DIFF = [
    "us-ira-30d@0.9.0 -> us-ira-30d@1.0.0: 14 changes",
    "- last reviewed changed from 2024-07-05 to 2026-11-21",
    "- date basis reported added",
    "- parameter applicable_critical_minerals added",
    '- parameter credit_available: description changed to "The 30D credit may be allowed for a '
    'vehicle acquired on this day."',
    "- parameter credit_available: new value from 2025-10-01: false (secondary)",
    "- parameter credit_available: value from 2033-01-01 removed (was false (secondary))",
    "- parameter value_added_safe_harbour_available added",
    "- parameter value_added_safe_harbour_pct added",
    SCOPE_LINE,
    TRACED_LINE,
    "- requirement in_effect: citation changed from [26 U.S.C. 30D(h) as amended by P.L. "
    "117-169] to [26 U.S.C. 30D(h) as amended by P.L. 119-21 sec. 70502]",
    "- requirement in_effect: date basis changed from placed_in_service to acquired",
    "- requirement in_effect: fails says changed from placed in service on {date}, after the "
    "credit ended (no credit after 2032-12-31) to acquired on {date}, after the credit ended (no "
    "credit for vehicles acquired after 2025-09-30)",
    "- requirement in_effect: title changed from Credit in effect on the placed-in-service date "
    "to Credit in effect on the acquisition date",
]


def test_diff_of_the_bundled_30d_editions() -> None:
    code, lines = run("rulesets", "diff", "us-ira-30d@0.9.0", "us-ira-30d@1.0.0")
    assert code == 0
    assert len(lines) == len(IRA_DIFF)
    for got, want in zip(lines, IRA_DIFF, strict=True):
        if want == SCOPE_LINE:
            assert got.startswith(want) and "applicable_critical_minerals" in got
        elif want == TRACED_LINE:
            assert got.startswith(want)
            assert "safe_harbour_share: value_added_safe_harbour_pct" in got
        else:
            assert got == want


def test_diff_shows_a_changed_condition_in_words() -> None:
    _, lines = run("rulesets", "diff", "us-ira-30d@0.9.0", "us-ira-30d@1.0.0")
    (scope,) = [line for line in lines if line.startswith(SCOPE_LINE)]
    assert "None" not in scope and "{'" not in scope


def test_current_edition_by_id_and_by_pinned_version_are_the_same() -> None:
    code, lines = run("rulesets", "diff", "us-ira-30d", "us-ira-30d@1.0.0")
    assert (code, lines) == (0, ["us-ira-30d@1.0.0 -> us-ira-30d@1.0.0: 0 changes"])


# --------------------------------------------------------------------------------------------
# Two user files
# --------------------------------------------------------------------------------------------


def write(path: Path, data: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return str(path)


def policy_editions(tmp_path: Path) -> tuple[str, str]:
    """banned-origin.yaml as shipped, and a 1.1.0 that adds JP to the banned list, a dated value
    for 2027 (unconfirmed), downgrades a status and adds a requirement."""
    old = yaml.safe_load((EXAMPLES / "banned-origin.yaml").read_text(encoding="utf-8"))
    new = copy.deepcopy(old)
    new["version"] = "1.1.0"
    banned = new["parameters"]["banned_graphite_processing"]["values"]
    banned["2025-01-01"]["value"] = ["CN", "JP"]
    banned["2027-01-01"] = {"value": ["CN", "JP", "RU"], "status": "unconfirmed",
                            "source": [{"title": "Draft policy revision 2027"}]}
    new["parameters"]["graphite"]["values"]["2025-01-01"]["status"] = "secondary"
    extra = copy.deepcopy(new["requirements"][0])
    extra.update(id="no_banned_graphite_extraction",
                 title="No graphite extracted in a banned country")
    extra["forbidden"] = {**extra["forbidden"], "column": "extraction_country",
                          "says": "extracted in {value}"}
    new["requirements"].append(extra)
    return write(tmp_path / "policy-1.0.0.yaml", old), write(tmp_path / "policy-1.1.0.yaml", new)


def test_diff_of_two_user_files(tmp_path: Path) -> None:
    old, new = policy_editions(tmp_path)
    code, lines = run("rulesets", "diff", old, new)
    assert code == 0
    assert lines == [
        "example-banned-origin@1.0.0 -> example-banned-origin@1.1.0: 4 changes",
        "- parameter banned_graphite_processing from 2025-01-01: adds JP",
        "- parameter banned_graphite_processing: new value from 2027-01-01: [CN, JP, RU] "
        "(unconfirmed)",
        "- parameter graphite from 2025-01-01: status changed from confirmed to secondary",
        "- requirement no_banned_graphite_extraction added: No graphite extracted in a banned "
        "country",
    ]


def test_diff_the_other_way_round(tmp_path: Path) -> None:
    old, new = policy_editions(tmp_path)
    a, b = compliance.load_ruleset(new), compliance.load_ruleset(old)
    assert diff_rulesets(a.ruleset, b.ruleset) == [
        "parameter banned_graphite_processing from 2025-01-01: removes JP",
        "parameter banned_graphite_processing: value from 2027-01-01 removed (was [CN, JP, RU] "
        "(unconfirmed))",
        "parameter graphite from 2025-01-01: status changed from secondary to confirmed",
        "requirement no_banned_graphite_extraction removed: No graphite extracted in a banned "
        "country",
    ]


def test_diff_of_a_number_and_a_requirement_field(tmp_path: Path) -> None:
    old = yaml.safe_load((EXAMPLES / "concentration-cap.yaml").read_text(encoding="utf-8"))
    new = copy.deepcopy(old)
    new["version"] = "2.0.0"
    new["last_reviewed"] = "2027-01-15"
    new["parameters"]["single_country_cap_pct"]["values"]["2024-05-23"]["value"] = 60
    members = new["parameters"]["eu_member_states"]["values"]["2024-05-23"]
    members["value"] = [c for c in members["value"] if c not in ("HU", "SK")] + ["NO"]
    new["requirements"][0]["title"] = "No third country supplies more than 60 % of a mineral"
    code, lines = run("rulesets", "diff", write(tmp_path / "a.yaml", old),
                      write(tmp_path / "b.yaml", new))
    assert code == 0
    assert lines == [
        "example-concentration-cap@1.0.0 -> example-concentration-cap@2.0.0: 4 changes",
        "- last reviewed changed from 2026-11-21 to 2027-01-15",
        "- parameter eu_member_states from 2024-05-23: adds NO; removes HU, SK",
        "- parameter single_country_cap_pct from 2024-05-23: 65 becomes 60",
        "- requirement single_country_cap: title changed from No third country supplies more "
        "than 65 % of a mineral at any stage to No third country supplies more than 60 % of a "
        "mineral",
    ]


def test_diff_of_identical_files_and_of_a_broken_file(tmp_path: Path) -> None:
    path = str(EXAMPLES / "banned-origin.yaml")
    assert run("rulesets", "diff", path, path) == (
        0, ["example-banned-origin@1.0.0 -> example-banned-origin@1.0.0: 0 changes"])
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["rulesets", "diff", path, str(broken)])
    assert result.exit_code == 3
    assert result.output.startswith("error [")


# --------------------------------------------------------------------------------------------
# Editions and pinning
# --------------------------------------------------------------------------------------------


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_rulesets_editions() -> None:
    code, lines = run("rulesets", "editions", "us-ira-30d")
    assert code == 0
    assert lines == [
        "us-ira-30d@0.9.0  (reviewed 2024-07-05)  sha256 "
        + sha(RULESETS / "us-ira-30d" / "editions" / "0.9.0.yaml"),
        "us-ira-30d@1.0.0  (reviewed 2026-11-21)  sha256 "
        + sha(RULESETS / "us-ira-30d" / "ruleset.yaml"),
    ]


@pytest.mark.parametrize("rid", ["us-45x-pfe", "us-48e-storage-pfe",
                                 "eu-2023-1542-recycled-content"])
def test_new_rulesets_have_one_edition(rid: str) -> None:
    code, lines = run("rulesets", "editions", rid)
    assert code == 0
    (line,) = lines
    assert line == (f"{rid}@1.0.0  (reviewed 2026-11-21)  sha256 "
                    + sha(RULESETS / rid / "ruleset.yaml"))


def test_unknown_ruleset_or_edition_exits_3() -> None:
    result = CliRunner().invoke(cli, ["rulesets", "editions", "us-ira-31d"])
    assert result.exit_code == 3
    assert "unknown ruleset 'us-ira-31d'" in result.output
    result = CliRunner().invoke(cli, ["rulesets", "diff", "us-ira-30d@0.8.0", "us-ira-30d"])
    assert result.exit_code == 3
    assert ("error [ruleset-not-found]: ruleset 'us-ira-30d' has no edition 0.8.0 (bundled: "
            "0.9.0, 1.0.0)") in result.output


def test_audit_under_a_pinned_edition() -> None:
    # ACQ-1001 was acquired 2025-10-01 and placed in service 2025-10-15. Edition 0.9.0 keys the
    # end of the credit on the placed-in-service date (credit until 2032-12-31): it passes.
    # Edition 1.0.0 keys it on the acquisition date (no credit after 2025-09-30): it fails.
    workbook = ROOT / "fixtures" / "acquired-2025-10-01.xlsx"
    old = compliance.audit(workbook, rulesets=["us-ira-30d@0.9.0"])
    new = compliance.audit(workbook, rulesets=["us-ira-30d@1.0.0"])
    assert (old.rulesets[0].version, old.rulesets[0].sha256) == (
        "0.9.0", sha(RULESETS / "us-ira-30d" / "editions" / "0.9.0.yaml"))
    assert new.rulesets[0].version == "1.0.0"

    def in_effect(report):  # type: ignore[no-untyped-def]
        (b,) = [b for b in report.batteries if b.battery_id == "ACQ-1001"]
        return next(r for r in b.verdicts[0].requirements if r.id == "in_effect").status

    assert (in_effect(old), in_effect(new)) == (Status.PASS, Status.FAIL)


def test_rulesets_show_tells_the_status_of_each_value() -> None:
    code, lines = run("rulesets", "show", "eu-2023-1542-recycled-content")
    assert code == 0
    (first,) = [line for line in lines if "from 2028-08-18: {" in line]
    assert "unconfirmed" in first

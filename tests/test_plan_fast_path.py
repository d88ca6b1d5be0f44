"""The fast paths of `compliance plan` give exactly what the plain algorithms give.

``least_value`` keeps only a window of each subset-sum row and stops once the answer cannot
improve; ``fewest_lines`` finds swap candidates by binary search. Both are compared here with
straightforward versions (the full table, the linear scan) on random cases and on the share
requirements of the real fixture workbooks, down to which lines are picked.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Sequence
from decimal import Decimal as D
from pathlib import Path

import pytest

import compliance
from compliance.explain import optimize
from compliance.explain.planning import needed_usd, plan
from compliance.report.model import Status

ROOT = Path(__file__).resolve().parent.parent
WORKBOOKS = sorted((ROOT / "fixtures").glob("*.xlsx")) + sorted(
    (ROOT / "fixtures" / "regimes").glob("*.xlsx"))
RULESETS = ("eu-2023-1542-recycled-content", "us-45x-pfe", "us-48e-storage-pfe", "us-ira-30d")


def plain_dp(ints: Sequence[int], need: int) -> tuple[int, tuple[int, ...]]:
    """The full-table dynamic programme, as it was before the window (no budget)."""
    total, n = sum(ints), len(ints)
    direct_cap, complement_cap = need + max(ints) - 1, total - need

    def rows(vals: list[int], cap: int) -> list[int]:
        mask, reach, out = (1 << (cap + 1)) - 1, 1, [1]
        for v in vals:
            reach = (reach | (reach << v)) & mask
            out.append(reach)
        return out

    def walk(prefixes: list[int], vals: list[int], target: int) -> list[int]:
        picks, s = [], target
        for i in range(len(vals), 0, -1):
            if not (prefixes[i - 1] >> s) & 1:
                picks.append(i - 1)
                s -= vals[i - 1]
        assert s == 0
        return picks

    if direct_cap <= complement_cap:
        order = sorted(range(n), key=lambda i: (-ints[i], i))
        vals = [ints[i] for i in order]
        prefixes = rows(vals, direct_cap)
        above = prefixes[-1] >> need
        target = need + (above & -above).bit_length() - 1
        return target, tuple(order[p] for p in walk(prefixes, vals, target))
    order = sorted(range(n), key=lambda i: (ints[i], i))
    vals = [ints[i] for i in order]
    prefixes = rows(vals, complement_cap)
    kept = prefixes[-1].bit_length() - 1
    left = set(walk(prefixes, vals, kept))
    return total - kept, tuple(order[p] for p in range(n) if p not in left)


def plain_fewest(values: Sequence[D], needed: D) -> tuple[tuple[int, ...], D] | None:
    """Largest first, then the linear scan for the smallest line to swap in."""
    if needed <= 0:
        return (), D(0)
    if sum(values, D(0)) < needed:
        return None
    chosen: list[int] = []
    total = D(0)
    for i in sorted(range(len(values)), key=lambda i: (-values[i], i)):
        if total >= needed:
            break
        chosen.append(i)
        total += values[i]
    improved = True
    while improved:
        improved = False
        for pos in sorted(range(len(chosen)), key=lambda p: (values[chosen[p]], chosen[p])):
            current = chosen[pos]
            rest = total - values[current]
            spare = [i for i in range(len(values)) if i not in chosen
                     and values[i] < values[current] and rest + values[i] >= needed]
            if spare:
                best = min(spare, key=lambda i: (values[i], i))
                chosen[pos] = best
                total = rest + values[best]
                improved = True
    return tuple(sorted(chosen, key=lambda i: (-values[i], i))), total


def check_dp(ints: list[int], need: int) -> None:
    assert optimize._dp_min_cover(ints, need, 10**12) == plain_dp(ints, need)


def check_fewest(values: list[D], needed: D) -> None:
    got = optimize.fewest_lines(values, needed)
    want = plain_fewest(values, needed)
    assert (None if got is None else (got.indices, got.total)) == want


def test_windowed_table_matches_the_full_table_on_random_cases() -> None:
    rng = random.Random(20261121)
    for _ in range(4000):
        n = rng.randint(1, 14)
        ints = [rng.randint(1, rng.choice([4, 20, 100, 1000])) for _ in range(n)]
        if rng.random() < 0.3:
            ints += ints[: rng.randint(0, n)]  # ties between equal lines
        need = rng.randint(1, sum(ints))
        check_dp(ints, need)


@pytest.mark.parametrize("need", [1, 2, 99, 100, 101, 150, 249, 250])
def test_windowed_table_at_the_edges(need: int) -> None:
    # Exactly reachable, one above, the whole sum, and a single line that covers it alone.
    for ints in ([100, 100, 50], [1, 2, 3, 4, 240], [50] * 5, [250], [7, 11, 13, 200, 19]):
        if need <= sum(ints):
            check_dp(ints, need)


def test_fewest_lines_matches_the_linear_scan_on_random_cases() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        n = rng.randint(1, 12)
        values = [D(rng.randint(1, rng.choice([5, 30, 1000]))) / D(rng.choice([1, 100]))
                  for _ in range(n)]
        total = sum(values, D(0))
        needed = total if rng.random() < 0.1 else (total * D(rng.random())).quantize(D("0.001"))
        check_fewest(values, needed)


def share_cases() -> list[tuple[list[D], D]]:
    """The candidate values and amount needed of every failing share in the fixtures."""
    rulesets = [compliance.load_ruleset(x) for x in RULESETS]
    cases = []
    for path in WORKBOOKS:
        report = compliance.audit(compliance.read_bom(path), rulesets)
        for battery in report.batteries:
            for verdict in battery.verdicts:
                for req in verdict.requirements:
                    needed = needed_usd(req)
                    if (req.kind != "content_share" or req.status is not Status.FAIL
                            or needed is None):
                        continue
                    values = [D(x.value_usd) for x in req.lines
                              if x.value_usd is not None and x.value_usd > 0]
                    if values and sum(values, D(0)) >= needed:
                        cases.append((values, needed))
    return cases


def test_fixture_shares_match_the_plain_algorithms() -> None:
    cases = share_cases()
    assert cases  # the fixtures do have failing shares to plan for
    for values, needed in cases:
        check_fewest(values, needed)
        ints, need, _ = optimize._to_units(values, needed)
        small = [v for v in ints if 0 < v < need]
        if small and sum(small) >= need:
            check_dp(small, need)
        # The same lines with every amount needed up to their sum: many more shapes.
        for k in range(1, 6):
            part = needed * k / 3
            if part <= sum(values, D(0)):
                check_fewest(values, part)
                ints, need, _ = optimize._to_units(values, part)
                small = [v for v in ints if 0 < v < need]
                if small and sum(small) >= need:
                    check_dp(small, need)


def test_plan_leaves_the_collector_as_it_found_it() -> None:
    bom = compliance.read_bom(ROOT / "fixtures" / "demo.xlsx")
    rulesets = [compliance.load_ruleset("us-ira-30d")]
    report = compliance.audit(bom, rulesets)
    assert gc.isenabled()
    plan(report, rulesets, bom)
    assert gc.isenabled()
    gc.disable()
    try:
        plan(report, rulesets, bom)
        assert not gc.isenabled()  # paused by the host: stays paused
    finally:
        gc.enable()

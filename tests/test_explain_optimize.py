"""The covering problems behind `compliance plan`, on hand-made cases worked out in comments."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal as D

from compliance.explain.optimize import fewest_lines, least_value


def picked(values: list[D], indices: tuple[int, ...]) -> list[D]:
    return sorted((values[i] for i in indices), reverse=True)


def test_largest_first_is_not_the_least_value_moved() -> None:
    # Needed $100 with lines $90, $60, $50. Largest first takes 90 + 60 = 150 (2 lines).
    # Every pair reaches 100: 90+60=150, 90+50=140, 60+50=110; no single line does.
    # The least value moved is therefore 60 + 50 = 110.
    values = [D(90), D(60), D(50)]
    least = least_value(values, D(100))
    assert least is not None and least.exact
    assert picked(values, least.indices) == [D(60), D(50)]
    assert least.total == D(110)
    plain_largest_first = values[0] + values[1]
    assert plain_largest_first == D(150) > least.total


def test_fewest_lines_has_the_optimal_count_and_then_swaps_down() -> None:
    # Same lines: one line cannot reach 100 (largest is 90), so 2 is the fewest. Largest first
    # picks {90, 60}; swapping 60 for 50 keeps 140 >= 100, then 90 for 60 keeps 110 >= 100.
    values = [D(90), D(60), D(50)]
    few = fewest_lines(values, D(100))
    assert few is not None
    assert len(few.indices) == 2
    assert picked(values, few.indices) == [D(60), D(50)]


def test_fewest_lines_and_least_value_can_differ() -> None:
    # Needed $50 from lines 200, 100, 70, 30, 25, 25.
    # Fewest: one line is enough; the smallest single line >= 50 is 70 (swapped down from 200).
    # Least value: two lines do better than 70: 30 + 25 = 55, and 25 + 25 = 50 is exactly
    # what is needed, so the least value moved is $50 with the two $25 lines.
    values = [D(200), D(100), D(70), D(30), D(25), D(25)]
    few = fewest_lines(values, D(50))
    least = least_value(values, D(50))
    assert few is not None and least is not None
    assert picked(values, few.indices) == [D(70)]
    assert picked(values, least.indices) == [D(25), D(25)]
    assert least.total == D(50)


def test_cents_are_exact() -> None:
    # Needed $100.01: 60.00 + 40.00 = 100.00 falls one cent short; 60.00 + 40.01 = 100.01
    # reaches it exactly; 70.00 + 40.00 = 110 also reaches but moves more.
    values = [D("70.00"), D("60.00"), D("40.00"), D("40.01")]
    least = least_value(values, D("100.01"))
    assert least is not None
    assert picked(values, least.indices) == [D("60.00"), D("40.01")]
    assert least.total == D("100.01")


def test_sub_cent_amounts_and_the_complement_table() -> None:
    # Needed 140 of lines 50, 40, 30, 20, 10.000001 (total 150.000001): leaving out the
    # largest set worth <= 10.000001 - the single 10.000001 line - moves exactly 140.
    values = [D(50), D(40), D(30), D(20), D("10.000001")]
    least = least_value(values, D(140))
    assert least is not None and least.exact
    assert least.total == D(140)
    assert picked(values, least.indices) == [D(50), D(40), D(30), D(20)]


def test_branch_and_bound_agrees_and_a_node_limit_is_said() -> None:
    values = [D(90), D(60), D(50)]
    bnb = least_value(values, D(100), budget_bits=0)  # no room for the table: branch and bound
    assert bnb is not None and bnb.exact and "branch and bound" in bnb.method
    assert bnb.total == D(110)
    capped = least_value(values, D(100), budget_bits=0, node_limit=1)
    assert capped is not None
    assert not capped.exact
    assert "approximate" in capped.method
    assert capped.lower_bound == D(100)  # no plan can move less than what is needed
    assert capped.total >= D(100)


def test_unreachable_and_nothing_needed() -> None:
    assert least_value([D(10), D(20)], D(31)) is None
    assert fewest_lines([D(10), D(20)], D(31)) is None
    nothing = least_value([D(10)], D(0))
    assert nothing is not None and nothing.indices == () and nothing.total == 0


def test_least_value_matches_brute_force_on_small_random_cases() -> None:
    rng = random.Random(20261121)
    for _ in range(250):
        values = [D(rng.randint(1, 30000)) / 100 for _ in range(rng.randint(1, 8))]
        needed = D(rng.randint(1, 60000)) / 100
        best = None
        for r in range(1, len(values) + 1):
            for combo in itertools.combinations(values, r):
                s = sum(combo, D(0))
                if s >= needed and (best is None or s < best):
                    best = s
        for budget in (400_000_000, 0):
            got = least_value(values, needed, budget_bits=budget)
            if best is None:
                assert got is None
                continue
            assert got is not None and got.exact
            assert got.total == best, (values, needed)
            assert sum((values[i] for i in got.indices), D(0)) == got.total
        few = fewest_lines(values, needed)
        if best is not None:
            assert few is not None and few.total >= needed
            # no smaller set reaches: the (k-1) largest fall short
            k = len(few.indices)
            assert sum(sorted(values, reverse=True)[: k - 1], D(0)) < needed

"""Which lines to re-source: the two covering problems behind ``compliance plan``.

A failing share requirement needs ``needed`` dollars more of qualifying value. Re-sourcing a
non-qualifying line moves its whole value to qualifying (the total is unchanged), so a plan is a
subset of the non-qualifying lines whose values add up to at least ``needed``:

* **fewest lines**: take the largest lines first. The k largest values have the largest sum of
  any k lines, so no smaller set can reach ``needed`` (the count is optimal). Among sets of that
  size we then swap in smaller lines while the sum still reaches ``needed`` - a cheap improvement
  that keeps the count; the value moved is not guaranteed minimal for that count.
* **least value moved**: the subset with the smallest sum that is still >= ``needed``. This is a
  covering form of subset-sum (NP-hard in general) and largest-first is not optimal: with needed
  100 and lines 90, 60, 50, largest-first moves 90 + 60 = 150, the optimum is 60 + 50 = 110.
  It is solved exactly with a bitset dynamic programme over integer amounts (cents, or the finest
  unit the values use, divided by their common divisor) when the table fits in memory, otherwise
  by branch and bound with a node limit. If that limit is hit the result says so
  (``exact=False``) with the best plan found and a lower bound; it is never silently approximate.

Amounts are handled as exact integers in a unit of ``10**-scale`` dollars, so no float rounding
can turn a plan that falls one cent short into one that "reaches" the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

# Bits of dynamic-programming table kept for reconstructing the chosen lines (one bitset per
# line): 400 million bits is 50 MB, e.g. 400 lines with $10,000 needed in cents.
DP_BUDGET_BITS = 400_000_000
# Branch-and-bound nodes explored before giving up on proving optimality.
BNB_NODE_LIMIT = 2_000_000


@dataclass(frozen=True, slots=True)
class Selection:
    """A chosen set of lines (indices into the caller's sequence) and how it was found."""

    indices: tuple[int, ...]
    total: Decimal
    exact: bool
    method: str
    lower_bound: Decimal | None = None  # for an approximate result: no plan can move less


def _scale(values: Sequence[Decimal]) -> int:
    """Decimal places needed to write every value as an integer (at least 0)."""
    places = 0
    for v in values:
        exponent = v.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < 0:
            places = max(places, -exponent)
    return places


def _to_units(values: Sequence[Decimal], needed: Decimal) -> tuple[list[int], int, Decimal]:
    """Integer amounts in a common unit, the needed amount rounded up in that unit, the unit."""
    places = _scale(values)
    factor = Decimal(10) ** places
    ints = [int(v * factor) for v in values]
    divisor = 0
    for x in ints:
        divisor = math.gcd(divisor, x)
    divisor = divisor or 1
    ints = [x // divisor for x in ints]
    unit = Decimal(divisor) / factor
    # Every sum of chosen values is a whole number of units, so "sum >= needed" is the same as
    # "sum >= ceil(needed / unit)"; this keeps the comparison exact.
    need = math.ceil(needed / unit) if needed > 0 else 0
    return ints, need, unit


def fewest_lines(values: Sequence[Decimal], needed: Decimal) -> Selection | None:
    """Fewest lines whose values reach ``needed`` (None when even all of them do not).

    Largest first gives the optimal count; then each chosen line is swapped, smallest chosen
    first, for the smallest unchosen line that keeps the sum at or above ``needed``.
    """
    if needed <= 0:
        return Selection((), Decimal(0), True, "nothing to move")
    if sum(values, Decimal(0)) < needed:
        return None
    order = sorted(range(len(values)), key=lambda i: (-values[i], i))
    chosen: list[int] = []
    total = Decimal(0)
    for i in order:
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
    return Selection(tuple(sorted(chosen, key=lambda i: (-values[i], i))), total, True,
                     "largest lines first, then swapped for smaller ones; the count is optimal")


def least_value(
    values: Sequence[Decimal], needed: Decimal, *, budget_bits: int = DP_BUDGET_BITS,
    node_limit: int = BNB_NODE_LIMIT,
) -> Selection | None:
    """The subset with the least total value that still reaches ``needed``.

    None when all the values together fall short. Exact unless ``Selection.exact`` is False.
    """
    if needed <= 0:
        return Selection((), Decimal(0), True, "nothing to move")
    if sum(values, Decimal(0)) < needed:
        return None
    ints, need, unit = _to_units(values, needed)

    # Any line worth at least `need` reaches the target alone; only the cheapest of those can be
    # part of an optimum, and an optimum using it uses nothing else.
    big = [i for i, v in enumerate(ints) if v >= need]
    single = min(big, key=lambda i: (ints[i], i)) if big else None
    small = [i for i, v in enumerate(ints) if 0 < v < need]
    small_sum = sum(ints[i] for i in small)

    best: tuple[int, tuple[int, ...]] | None = (
        (ints[single], (single,)) if single is not None else None)
    method = "exact: a single line"
    exact = True
    lower: int | None = None
    if small_sum >= need:
        found = _dp_min_cover([ints[i] for i in small], need, budget_bits)
        if found is not None:
            total, picks = found
            method = f"exact: dynamic programming in steps of ${_plain(unit)}"
            candidate = (total, tuple(small[p] for p in picks))
        else:
            incumbent = best[0] if best else None
            total, picks, complete = _branch_and_bound(
                [ints[i] for i in small], need, incumbent, node_limit)
            candidate = None if picks is None else (total, tuple(small[p] for p in picks))
            if complete:
                method = "exact: branch and bound"
            else:
                exact = False
                lower = need
                method = (f"approximate: branch and bound stopped after {node_limit:,} nodes; "
                          "best plan found, not proven least")
        if candidate is not None and (best is None or candidate[0] < best[0]
                                      or (candidate[0] == best[0]
                                          and len(candidate[1]) < len(best[1]))):
            best = candidate
    assert best is not None  # the sum of all values reaches `needed`
    _, picks = best
    chosen = tuple(sorted(picks, key=lambda i: (-values[i], i)))
    return Selection(chosen, sum((values[i] for i in chosen), Decimal(0)), exact, method,
                     lower_bound=(lower * unit if lower is not None else None))


def _plain(unit: Decimal) -> str:
    return format(unit.normalize(), "f")


def _dp_min_cover(
    ints: Sequence[int], need: int, budget_bits: int
) -> tuple[int, tuple[int, ...]] | None:
    """Exact least sum >= need by a bitset subset-sum table; None if the table is too big.

    Two equivalent tables, whichever is smaller: the sums reachable up to ``need + max - 1``
    (an optimum never exceeds that: dropping its smallest line would otherwise still reach
    ``need``), or the complement's sums up to ``total - need`` (lines left where they are).
    """
    total = sum(ints)
    direct_cap = need + max(ints) - 1
    complement_cap = total - need
    n = len(ints)
    if min(direct_cap, complement_cap) * n > budget_bits:
        return None
    if direct_cap <= complement_cap:
        # Items in descending order; reconstruction walks from the smallest and leaves a line
        # out whenever the sum is reachable without it, which favours fewer, larger lines.
        order = sorted(range(n), key=lambda i: (-ints[i], i))
        prefixes = _prefix_bitsets([ints[i] for i in order], direct_cap)
        reach = prefixes[-1]
        above = reach >> need
        if not above:
            return None  # cannot happen when total >= need, kept for safety
        target = need + ((above & -above).bit_length() - 1)
        picks = _reconstruct(prefixes, [ints[i] for i in order], target)
        return target, tuple(order[p] for p in picks)
    # Complement: the lines *not* re-sourced should carry as much value as possible up to
    # total - need. Ascending order, so reconstruction keeps large lines out of the complement
    # (that is, in the plan) when there is a choice.
    order = sorted(range(n), key=lambda i: (ints[i], i))
    prefixes = _prefix_bitsets([ints[i] for i in order], complement_cap)
    reach = prefixes[-1]
    kept = reach.bit_length() - 1  # highest reachable sum <= complement_cap (0 always is)
    left = set(_reconstruct(prefixes, [ints[i] for i in order], kept))
    picks = tuple(order[p] for p in range(n) if p not in left)
    return total - kept, picks


def _prefix_bitsets(ints: Sequence[int], cap: int) -> list[int]:
    """prefixes[i] has bit s set when some subset of the first i items sums to s (s <= cap)."""
    mask = (1 << (cap + 1)) - 1
    reach = 1
    prefixes = [reach]
    for v in ints:
        reach = (reach | (reach << v)) & mask
        prefixes.append(reach)
    return prefixes


def _reconstruct(prefixes: Sequence[int], ints: Sequence[int], target: int) -> list[int]:
    picks: list[int] = []
    s = target
    for i in range(len(ints), 0, -1):
        if (prefixes[i - 1] >> s) & 1:
            continue  # reachable without item i-1
        picks.append(i - 1)
        s -= ints[i - 1]
    assert s == 0
    return picks


def _branch_and_bound(
    ints: Sequence[int], need: int, incumbent: int | None, node_limit: int
) -> tuple[int, tuple[int, ...] | None, bool]:
    """Least sum >= need by depth-first search; (sum, picks or None, search complete)."""
    order = sorted(range(len(ints)), key=lambda i: (-ints[i], i))
    vals = [ints[i] for i in order]
    suffix = [0] * (len(vals) + 1)
    for i in range(len(vals) - 1, -1, -1):
        suffix[i] = suffix[i + 1] + vals[i]
    best = incumbent if incumbent is not None else suffix[0] + 1
    best_picks: list[int] | None = None
    # Greedy incumbent: largest first, so pruning starts with a real bound.
    s, picks = 0, []
    for i, v in enumerate(vals):
        if s >= need:
            break
        s += v
        picks.append(i)
    if need <= s < best:
        best, best_picks = s, picks
    nodes = 0
    complete = True
    stack: list[tuple[int, int, tuple[int, ...]]] = [(0, 0, ())]
    while stack:
        i, cur, chosen = stack.pop()
        nodes += 1
        if nodes > node_limit:
            complete = False
            break
        if cur >= need:
            if cur < best:
                best, best_picks = cur, list(chosen)
            continue
        if best == need:
            break  # cannot do better than exactly the amount needed
        if i == len(vals) or cur + suffix[i] < need:
            continue
        # Push "skip" first so "take" is explored first (depth-first, largest lines first).
        stack.append((i + 1, cur, chosen))
        if cur + vals[i] < best:
            stack.append((i + 1, cur + vals[i], (*chosen, i)))
    if best_picks is None:
        return best, None, complete
    return best, tuple(order[p] for p in best_picks), complete

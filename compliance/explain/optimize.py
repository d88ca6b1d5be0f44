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
from bisect import bisect_left
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
    # The swap takes the first unchosen line, in ascending (value, index) order, that is
    # smaller than the current one and keeps the sum at or above ``needed``. "rest + value >=
    # needed" only becomes true as the value grows, so a binary search finds where to start.
    ascending = sorted(range(len(values)), key=lambda i: (values[i], i))
    taken = set(chosen)
    improved = True
    while improved:
        improved = False
        for pos in sorted(range(len(chosen)), key=lambda p: (values[chosen[p]], chosen[p])):
            current = chosen[pos]
            rest = total - values[current]
            start = bisect_left(ascending, True, key=lambda i: rest + values[i] >= needed)
            for k in range(start, len(ascending)):
                best = ascending[k]
                if values[best] >= values[current]:
                    break
                if best not in taken:
                    chosen[pos] = best
                    taken.discard(current)
                    taken.add(best)
                    total = rest + values[best]
                    improved = True
                    break
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
    The budget and the choice of table are decided on those full sizes; :func:`_windowed_rows`
    then keeps only the part of each row that the answer can depend on.
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
        vals = [ints[i] for i in order]
        rows = _windowed_rows(vals, direct_cap, cover=need)
        lo, bits = rows[-1]
        above = bits >> (need - lo)
        if not above:
            return None  # cannot happen when total >= need, kept for safety
        target = need + ((above & -above).bit_length() - 1)
        picks = _reconstruct(rows, vals, target)
        return target, tuple(order[p] for p in picks)
    # Complement: the lines *not* re-sourced should carry as much value as possible up to
    # total - need. Ascending order, so reconstruction keeps large lines out of the complement
    # (that is, in the plan) when there is a choice.
    order = sorted(range(n), key=lambda i: (ints[i], i))
    vals = [ints[i] for i in order]
    rows = _windowed_rows(vals, complement_cap, cover=None)
    lo, bits = rows[-1]
    kept = lo + bits.bit_length() - 1  # highest reachable sum <= complement_cap (0 always is)
    left = set(_reconstruct(rows, vals, kept))
    picks = tuple(order[p] for p in range(n) if p not in left)
    return total - kept, picks


# One row of a subset-sum table: (lo, bits), bit b of ``bits`` set when some subset of the
# row's items sums to lo + b. Sums below lo (and above the table's cap) are not kept.
_Row = tuple[int, int]


def _windowed_rows(vals: Sequence[int], cap: int, cover: int | None) -> list[_Row]:
    """rows[i]: the sums reachable with the first i items, restricted to a window.

    This is the plain table ``reach = (reach | reach << v) & mask`` cut down to the bits that
    :func:`_reconstruct` can read, so its answer is the same as with the full table:

    * The answer is a sum ``t`` no less than a known ``floor``: ``cover`` (the least cover is
      >= need), or, without ``cover``, the best sum <= cap found so far (the largest sum kept
      only grows). Reconstruction reads row i at sums ``s >= t - suffix[i]`` (the rest of
      ``t`` comes from later items), so bits below ``floor - suffix[i]`` are dropped; a bit at
      or above it only ever comes from bits at or above the previous row's window.
    * With ``cover``, once a sum >= cover is reachable the answer is at most that sum, so the
      cap comes down to it (reconstruction never reads above the answer).
    * Once the answer's best possible value is reachable (exactly ``cover``, or exactly
      ``cap``), later rows all contain it and reconstruction would skip their items, so the
      table stops there.
    """
    suffix = sum(vals)
    lo, bits = 0, 1
    floor = cover if cover is not None else 0
    rows: list[_Row] = [(lo, bits)]
    # Rows are large ints (millions of bits): masks are made only when the window moves,
    # by shifting one full mask, rather than rebuilt for every item.
    full = mask = (1 << (cap + 1)) - 1
    for v in vals:
        suffix -= v
        grown = bits | (bits << v)
        new_lo = max(0, floor - suffix, lo)
        if new_lo > lo:
            grown >>= new_lo - lo
            lo = new_lo
            mask = full >> lo
        if grown.bit_length() > cap - lo + 1:
            grown &= mask
        bits = grown
        rows.append((lo, bits))
        if cover is not None:
            above = bits >> (cover - lo)
            if above:
                least = cover + (above & -above).bit_length() - 1
                if least == cover:
                    break
                if least < cap:
                    full >>= cap - least
                    cap = least
                    mask = full >> lo
        else:
            floor = lo + bits.bit_length() - 1
            if floor == cap:
                break
    return rows


def _reconstruct(rows: Sequence[_Row], vals: Sequence[int], target: int) -> list[int]:
    """Items of one subset summing to ``target``, walking the rows from the last item."""
    picks: list[int] = []
    s = target
    for i in range(len(rows) - 1, 0, -1):
        lo, bits = rows[i - 1]
        assert s >= lo  # the window keeps every sum reconstruction reads
        if (bits >> (s - lo)) & 1:
            continue  # reachable without item i-1
        picks.append(i - 1)
        s -= vals[i - 1]
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

"""What lasts for one audit: work its requirements share, and a pause of the garbage collector.

Several requirements of an audit can need the same costly evaluation (the 30D prohibitions on
foreign entities of concern in minerals and in components judge the same entities with the same
ruleset values).
Inside :func:`audit_scope`, :func:`shared` makes each such evaluation once. Everything it keeps
is keyed by objects the audit holds until it ends, and is dropped when it ends.

Audits of one BOM on several dates (the horizon) can share more: the entity tests for the values
in force on one date are those of every date with the same values. An audit run inside an open
scope joins it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_SHARED: ContextVar[dict[Hashable, Any] | None] = ContextVar("compliance_audit_shared",
                                                             default=None)


@contextmanager
def audit_scope() -> Iterator[None]:
    """Run one audit: shared work is kept until it ends, and the collector is paused.

    Inside another scope, it joins that one: the caller that opened it must hold what the
    audits are keyed by (the BOM, the rulesets) until it ends."""
    memo = _SHARED.get()
    token = _SHARED.set({} if memo is None else memo)
    try:
        with _collector_paused():
            yield
    finally:
        _SHARED.reset(token)


def shared(key: Hashable, make: Callable[[], T]) -> T:
    """``make()``, made once per audit for ``key`` (every time outside an audit)."""
    memo = _SHARED.get()
    if memo is None:
        return make()
    if key not in memo:
        memo[key] = make()
    return memo[key]  # type: ignore[no-any-return]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a report is built.

    The report of a big workbook is hundreds of thousands of small objects, none of them
    garbage, and every automatic collection walks them again: a fifth of the engine's time.
    Only the audit that paused the collector resumes it, so with audits running side by side
    it is never off for longer than one audit (or the audits of one scope, see above), and
    one paused by the host stays paused."""
    with _PAUSE:
        paused = gc.isenabled()
        if paused:
            gc.disable()
    try:
        yield
    finally:
        if paused:
            if gc.get_freeze_count() == 0:
                # What the audit made is all still "young", so the next collection would walk
                # all of it. Freezing and unfreezing moves it to the oldest generation without
                # a walk (as documented for gc.unfreeze); only a full collection looks at it.
                gc.freeze()
                gc.unfreeze()
            gc.enable()


_PAUSE = threading.Lock()

"""compliance.reader.prefetch: items in order, the producer's exception in the consumer, and a
consumer that stops early stops the producer (no thread left behind)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from compliance.reader.prefetch import prefetched


def test_items_arrive_in_order() -> None:
    assert list(prefetched(iter(range(100)), depth=2)) == list(range(100))


def test_the_producers_exception_is_raised_where_its_item_would_arrive() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("damaged")

    got: list[int] = []
    with pytest.raises(ValueError, match="damaged"):
        for item in prefetched(source()):
            got.append(item)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_stops_the_producer() -> None:
    produced: list[int] = []

    def endless() -> Iterator[int]:
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    before = threading.active_count()
    items = prefetched(endless(), depth=2)
    assert next(items) == 0
    items.close()  # what a for loop's break does to the generator
    assert threading.active_count() == before
    assert len(produced) <= 4  # the producer never ran more than the queue's depth ahead

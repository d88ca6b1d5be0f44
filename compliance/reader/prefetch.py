"""Run a producer of byte blocks on its own thread, a few blocks ahead of the consumer.

Inflating a sheet (isal and zlib release the GIL) then overlaps the consumer's byte scanning,
which holds it: on two cores the scan no longer waits for the inflate.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def prefetched(source: Iterable[T], depth: int = 4) -> Iterator[T]:
    """Yield ``source``'s items, produced on a worker thread at most ``depth`` items ahead.

    An exception in the producer is raised here, in the consumer, at the point the failing item
    would have arrived. A consumer that stops early stops the producer too.
    """
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        """Hand ``item`` over; False once the consumer has stopped."""
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(exc)

    worker = threading.Thread(target=produce, name="compliance-inflate", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()

"""Parsing and rule evaluation off the event loop, bounded in number and in time.

A :class:`ParseGate` owns a small thread pool (one thread per parse slot) and counts the uploads
that are running or waiting. Past ``max_parses + max_queue`` an upload is refused at once (429);
one that waits longer than ``queue_timeout`` for a slot is taken out of the queue (503); one whose
request runs past its deadline is answered with 504 while its thread finishes in the background.
A thread cannot be killed, so that thread keeps its slot until it ends: the service never starts
more parses than it has slots, and the event loop, which answers everyone else, is never blocked.

Before the reader inflates a sheet, :func:`check_workbook` counts the rows and cells in every
worksheet's XML as it streams out of the zip, so a workbook over the row or cell limit is refused
without building its tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from compliance.errors import UnusableInputError
from compliance.service.problems import ProblemError
from compliance.service.settings import Settings

T = TypeVar("T")

_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")


class DeadlineExceeded(Exception):
    """Raised inside a job that notices its request has already been answered with 504."""


def timeout_problem(seconds: float) -> ProblemError:
    return ProblemError(504, "timeout", f"the upload was not processed within {seconds:g} "
                        "seconds; split the workbook or try again later")


class ParseGate:
    """At most ``max_parses`` jobs run at once; at most ``max_queue`` more wait."""

    def __init__(self, max_parses: int, max_queue: int):
        self.max_parses = max_parses
        self.capacity = max_parses + max_queue
        self._executor = self._new_executor()
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def _release(self, _: Future[object]) -> None:
        with self._lock:
            self._in_flight -= 1

    async def run(self, fn: Callable[[], T], *, queue_timeout: float, deadline: float,
                  request_timeout: float) -> T:
        """Run ``fn`` in a parse thread; ``deadline`` is a ``time.monotonic()`` instant."""
        with self._lock:
            if self._in_flight >= self.capacity:
                raise ProblemError(429, "too-many-requests",
                                   f"{self._in_flight} uploads are being processed or waiting; "
                                   "try again shortly", headers={"Retry-After": "5"})
            self._in_flight += 1
        loop = asyncio.get_running_loop()
        started = asyncio.Event()

        def job() -> T:
            # RuntimeError: the loop has closed, so nobody waits for this result.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(started.set)
            return fn()

        try:
            future = self._executor.submit(job)
        except RuntimeError:  # the executor has shut down
            with self._lock:
                self._in_flight -= 1
            raise ProblemError(503, "busy", "the service is shutting down",
                               headers={"Retry-After": "5"}) from None
        future.add_done_callback(self._release)
        waiting = asyncio.wrap_future(future)
        # Retrieve a late result or exception so asyncio never logs it (it may name the file).
        waiting.add_done_callback(lambda f: f.cancelled() or f.exception())
        queue_wait = min(queue_timeout, max(0.0, deadline - time.monotonic()))
        try:
            await asyncio.wait_for(started.wait(), timeout=queue_wait)
        except TimeoutError:
            if future.cancel():
                raise ProblemError(503, "busy", "all parse slots stayed busy for "
                                   f"{round(queue_wait, 1):g} seconds; try again shortly",
                                   headers={"Retry-After": "10"}) from None
        remaining = max(0.0, deadline - time.monotonic())
        try:
            return await asyncio.wait_for(asyncio.shield(waiting), timeout=remaining)
        except TimeoutError:
            raise timeout_problem(request_timeout) from None

    def _new_executor(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self.max_parses,
                                  thread_name_prefix="compliance-parse")

    def shutdown(self) -> None:
        """Drop queued parses (running ones finish); a restarted app gets fresh threads."""
        old, self._executor = self._executor, self._new_executor()
        old.shutdown(wait=False, cancel_futures=True)


def check_workbook(data: bytes, name: str, settings: Settings, deadline: float) -> None:
    """Refuse, before parsing, a workbook over the row or cell limit or not a workbook at all."""
    from compliance.reader.package import open_package
    from compliance.reader.sniff import ensure_xlsx

    ensure_xlsx(data, name)
    package = open_package(data, name, settings.limits())
    rows = cells = 0
    try:
        for part in package.sheets:
            if part.path not in package.zf.NameToInfo:
                continue
            # The reader's own inflate (isal where available, every check of the first
            # reading; damaged data raises UnusableInputError itself), in blocks cut before
            # a "<", so no tag straddles two blocks.
            for block in package.iter_member(part.path, b"<"):
                if time.monotonic() > deadline:
                    raise DeadlineExceeded
                rows += len(_ROW.findall(block))
                cells += len(_CELL.findall(block))
                if rows > settings.max_rows:
                    raise UnusableInputError(
                        f"the workbook has more than {settings.max_rows} rows, the limit "
                        "of this service", code="unsafe-workbook", where=name)
                if cells > settings.max_cells:
                    raise UnusableInputError(
                        f"the workbook has more than {settings.max_cells} cells, the limit "
                        "of this service", code="unsafe-workbook", where=name)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, OSError) as exc:
        raise UnusableInputError(f"a sheet cannot be decompressed ({type(exc).__name__})",
                                 code="unreadable-workbook", where=name) from None
    finally:
        package.zf.close()

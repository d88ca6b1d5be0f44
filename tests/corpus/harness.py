"""Run the reader on untrusted files in worker processes with a memory cap and a timeout.

A worker is ``python harness.py`` with RLIMIT_AS set to the cap before anything is imported; it
reads one JSON request per line (a path or base64 bytes) and answers one JSON line: the BOM's
findings (and, when asked, typed values and the audit status), the UnusableInputError's code and
message, or, for any other exception, its type and traceback, which the tests count as a
failure. The parent kills a worker that overruns the timeout and starts a fresh one.

glibc reserves 64 MiB of address space per thread arena; ``MALLOC_ARENA_MAX=2`` keeps that
reservation from being counted against the cap as if it were memory in use.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import resource
import select
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MEMORY_CAP = 1 << 30  # bytes of address space per worker
TIMEOUT = 10.0  # seconds per file
ROOT = Path(__file__).resolve().parents[2]


class Worker:
    def __init__(self) -> None:
        env = dict(os.environ, MALLOC_ARENA_MAX="2", POLARS_MAX_THREADS="2",
                   PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            [sys.executable, __file__, str(MEMORY_CAP)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(ROOT))
        self._buffer = b""
        ready = self._read_line(60.0)
        if ready is None or json.loads(ready).get("ready") is not True:
            self.close()
            raise RuntimeError(f"worker did not start: {ready!r} {self._stderr()}")

    def _stderr(self) -> str:
        try:
            return (self.proc.stderr.read() or b"").decode("utf-8", "replace")[-2000:]  # type: ignore[union-attr]
        except Exception:
            return ""

    def _read_line(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        out = self.proc.stdout
        assert out is not None
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([out], [], [], left)
            if not ready:
                return None
            chunk = os.read(out.fileno(), 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def run(self, request: dict[str, Any], timeout: float = TIMEOUT) -> dict[str, Any]:
        assert self.proc.stdin is not None
        started = time.monotonic()
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return {"kind": "crash", "message": "worker gone before the request"}
        # The worker times itself and answers "timeout" only if it can; the margin covers the
        # pipe, and a worker stuck in native code is killed.
        line = self._read_line(timeout + 2.0)
        elapsed = time.monotonic() - started
        if line is None:
            alive = self.proc.poll() is None
            self.close()
            if alive:
                return {"kind": "timeout", "elapsed": elapsed}
            return {"kind": "crash", "elapsed": elapsed, "message": self._stderr()}
        answer = json.loads(line)
        answer.setdefault("elapsed", elapsed)
        if answer["elapsed"] > timeout:
            answer = {"kind": "timeout", "elapsed": answer["elapsed"]}
        return answer

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)


class Pool:
    """A few workers; requests are run in parallel, one per worker at a time."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self.workers: list[Worker] = []

    def run_all(self, requests: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        from concurrent.futures import ThreadPoolExecutor

        items = list(requests)
        results: list[dict[str, Any]] = [{} for _ in items]
        while len(self.workers) < self.size:
            self.workers.append(Worker())
        slots = list(range(self.size))

        def job(index: int, slot: int) -> None:
            worker = self.workers[slot]
            if not worker.alive:
                worker = self.workers[slot] = Worker()
            results[index] = worker.run(items[index])

        with ThreadPoolExecutor(self.size) as executor:
            pending = list(enumerate(items))
            # Each slot works through its share sequentially so one worker is never shared.
            shares = [pending[s::self.size] for s in slots]

            def run_share(slot: int) -> None:
                for index, _ in shares[slot]:
                    job(index, slot)

            list(executor.map(run_share, slots))
        return results

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
        self.workers = []


# --------------------------------------------------------------------------------------------
# Worker side


def _serve(cap: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    import traceback

    import compliance
    from compliance.errors import UnusableInputError
    from compliance.reader.bom import read_bom
    from compliance.reader.limits import Limits

    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        started = time.monotonic()
        answer: dict[str, Any]
        try:
            limits = Limits(**request.get("limits", {}))
            if "data" in request:
                source: Any = base64.b64decode(request["data"])
            else:
                source = request["path"]
            bom = read_bom(source, name=request.get("name"), limits=limits)
            answer = {"kind": "bom", "findings": [
                {k: getattr(fi, k) for k in ("code", "sheet", "row", "column", "cell")}
                | {"severity": str(fi.severity)} for fi in bom.findings]}
            values = []
            for want in request.get("values", []):
                frame = bom.frame(want["sheet"])
                hit = frame.filter(frame["_row"] == want["row"])
                value = hit[want["column"]][0] if hit.height else "<no such row>"
                values.append(None if value is None else str(value))
            answer["values"] = values
            if request.get("audit"):
                answer["status"] = str(compliance.audit(bom).status)
        except UnusableInputError as exc:
            answer = {"kind": "unusable", "code": exc.code, "message": exc.message,
                      "where": exc.where}
        except BaseException as exc:  # anything else is a failure the test shows
            if isinstance(exc, KeyboardInterrupt):
                raise
            answer = {"kind": "exception", "type": type(exc).__name__,
                      "message": str(exc)[:500], "traceback": traceback.format_exc()[-4000:]}
        answer["elapsed"] = time.monotonic() - started
        out.write(json.dumps(answer, default=str) + "\n")
        out.flush()


if __name__ == "__main__":
    _serve(int(sys.argv[1]) if len(sys.argv) > 1 else MEMORY_CAP)

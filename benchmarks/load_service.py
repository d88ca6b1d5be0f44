"""Bounded load test of ``compliance serve`` on loopback: concurrent uploads, no server errors.

    python benchmarks/load_service.py                 # 8 clients, 60 s, 5,000-line workbook
    python benchmarks/load_service.py --clients 4 --duration 20 --lines 2000

Starts the real server (``python -m compliance.cli serve``) on a free 127.0.0.1 port, writes a
workbook with openpyxl (``--lines`` mineral lines, 100 per battery, with components and
entities), then has ``--clients`` threads upload it to ``POST /v1/audits`` back to back for
``--duration`` seconds. Prints throughput, status counts, latency percentiles and the server's
peak resident memory (VmHWM), and exits 1 if any answer was a 5xx or a request failed.

Traffic goes to 127.0.0.1 only, the loop is bounded in time, and the server is stopped at the
end. This is a benchmark, not a unit test: run it by hand, not in CI.
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HOST = "127.0.0.1"  # loopback only, whatever the options say


def make_workbook(lines: int, seed: int = 20_261_121) -> bytes:
    """``lines`` mineral lines (100 per battery), 8 components per battery, 40 entities."""
    rng = random.Random(seed)
    batteries = max(1, lines // 100)
    countries = ["US", "CA", "AU", "CL", "KR", "JP", "ID", "CN", "MX", "AR"]
    entities = [f"E{i:03d}" for i in range(40)]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("batteries")
    ws.append(["battery_id", "placed_in_service", "acquired_on", "description"])
    for b in range(batteries):
        ws.append([f"BAT-{b:05d}", "2025-03-01", "2025-02-15", f"Pack {b}"])
    ws = wb.create_sheet("components")
    ws.append(["battery_id", "component_id", "component_type", "country", "manufacturer",
               "incremental_value_usd"])
    kinds = ["cathode electrode", "anode electrode", "separator", "liquid electrolyte",
             "battery cell", "battery module"]
    for b in range(batteries):
        for c in range(8):
            ws.append([f"BAT-{b:05d}", f"C{c}", kinds[c % len(kinds)], rng.choice(countries[:6]),
                       rng.choice(entities), round(rng.uniform(50, 2500), 2)])
    ws = wb.create_sheet("minerals")
    ws.append(["battery_id", "line_id", "mineral", "value_usd", "mass_kg",
               "extraction_country", "extraction_entity", "processing_country",
               "processing_entity", "recycled"])
    minerals = ["lithium", "nickel", "cobalt", "manganese", "graphite", "aluminum"]
    for i in range(lines):
        ws.append([f"BAT-{i // 100 % batteries:05d}", f"M{i:06d}", rng.choice(minerals),
                   round(rng.uniform(5, 900), 2), round(rng.uniform(0.1, 20), 3),
                   rng.choice(countries), rng.choice(entities), rng.choice(countries),
                   rng.choice(entities), "false"])
    ws = wb.create_sheet("entities")
    ws.append(["entity_id", "name", "incorporated_in", "headquartered_in",
               "covered_government_voting_pct", "covered_government_board_pct",
               "covered_government_equity_pct", "effective_control"])
    for e in entities:
        home = rng.choice(countries)
        ws.append([e, f"{e} Ltd", home, home, 0, 0, 0, "false"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def memory_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    ap.add_argument("--lines", type=int, default=5_000, help="mineral lines in the workbook")
    ap.add_argument("--format", default="json", help="report format to ask for")
    args = ap.parse_args(argv)
    if not (1 <= args.clients <= 64 and 0 < args.duration <= 600):
        ap.error("use 1-64 clients and at most 600 seconds")

    t0 = time.perf_counter()
    data = make_workbook(args.lines)
    print(f"workbook: {args.lines} mineral lines, {len(data) / 1024:.0f} KiB "
          f"(built in {time.perf_counter() - t0:.1f} s)")

    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("COMPLIANCE_API_TOKEN", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "compliance.cli", "serve", "--host", HOST, "--port", str(port),
         "--no-access-log"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    base = f"http://{HOST}:{port}"
    log_lines: list[str] = []
    threading.Thread(target=lambda: log_lines.extend(server.stdout or []), daemon=True).start()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("the server did not start:\n" + "".join(log_lines), file=sys.stderr)
                return 2
            time.sleep(0.2)
        # One warm-up request (imports, ruleset cache), not counted.
        warm = httpx.post(base + "/v1/audits", files={"file": ("bom.xlsx", data, XLSX)},
                          data={"format": args.format}, timeout=120)
        print(f"warm-up: {warm.status_code}, {len(warm.content) / 1024:.0f} KiB report")
        idle_rss = memory_kib(server.pid, "VmRSS")

        latencies: list[float] = []
        statuses: collections.Counter[str] = collections.Counter()
        lock = threading.Lock()
        stop_at = time.monotonic() + args.duration
        peak_rss = [idle_rss]

        def client() -> None:
            with httpx.Client(base_url=base, timeout=120) as http:
                while time.monotonic() < stop_at:
                    started = time.perf_counter()
                    try:
                        r = http.post("/v1/audits", files={"file": ("bom.xlsx", data, XLSX)},
                                      data={"format": args.format})
                        key = str(r.status_code)
                    except httpx.HTTPError as exc:
                        key = type(exc).__name__
                    elapsed = time.perf_counter() - started
                    with lock:
                        statuses[key] += 1
                        if key == "200":
                            latencies.append(elapsed)

        def sample() -> None:
            while time.monotonic() < stop_at + 5:
                peak_rss[0] = max(peak_rss[0], memory_kib(server.pid, "VmRSS"))
                time.sleep(0.2)

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        sampler = threading.Thread(target=sample, daemon=True)
        started = time.perf_counter()
        sampler.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        hwm = memory_kib(server.pid, "VmHWM")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    total = sum(statuses.values())
    errors = sum(n for k, n in statuses.items() if not k.isdigit() or k.startswith("5"))
    print(f"\n{args.clients} clients x {args.duration:g} s against {base}, "
          f"format {args.format}")
    print(f"requests: {total} in {wall:.1f} s = {total / wall:.2f}/s; "
          f"statuses: {dict(sorted(statuses.items()))}")
    if latencies:
        print(f"latency (200s): p50 {percentile(latencies, 50):.2f} s, "
              f"p95 {percentile(latencies, 95):.2f} s, p99 {percentile(latencies, 99):.2f} s, "
              f"max {max(latencies):.2f} s, mean {statistics.fmean(latencies):.2f} s")
    print(f"server memory: idle {idle_rss / 1024:.0f} MiB after warm-up, peak RSS sampled "
          f"{peak_rss[0] / 1024:.0f} MiB, VmHWM {hwm / 1024:.0f} MiB")
    print(f"5xx or failed requests: {errors}")
    return 1 if errors or not latencies else 0


if __name__ == "__main__":
    sys.exit(main())

"""What a suspended request costs under Granian: a bare app answering at once, against the same
app suspending once before it answers (see bench/baselines/wakeup.py for the kinds), in one run.

Run from the repository root (wrk from Debian):

    python bench/granian_wakeup.py --duration 5

PulseGate's every write suspends its request until the writer thread has committed it; this
says how much of a tracking request's latency that suspension alone can explain.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import free_port, run_wrk, start_granian, stop, worker_pid

MODES = ("sync", "yield", "thread", "sleep")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 64])
    args = parser.parse_args()
    print("| suspension | connections | requests/s | p50 ms | p99 ms | server CPU µs/request |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode in MODES:
        os.environ["WAKEUP_MODE"] = mode
        port = free_port()
        server = start_granian("bench.baselines.wakeup:app", port)
        try:
            pid = worker_pid(server.pid)
            for connections in args.connections:
                result = run_wrk(
                    f"http://127.0.0.1:{port}/",
                    b"{}",
                    duration=args.duration,
                    connections=connections,
                    pid=pid,
                )
                cpu_us = result.cpu_seconds / max(result.requests, 1) * 1e6
                print(
                    f"| {mode} | {connections} | {result.requests_per_second:,.0f} | {result.p50_ms:.2f} "
                    f"| {result.p99_ms:.2f} | {cpu_us:,.0f} |"
                )
        finally:
            stop(server)


if __name__ == "__main__":
    main()

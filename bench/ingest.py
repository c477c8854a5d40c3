"""Ingest benchmark: wrk against `pulsegate serve` and two bare baselines, in one run.

Run from the repository root (wrk from Debian: `apt-get install -y wrk`):

    python bench/ingest.py --duration 10 --connections 64

Each target runs under the same Granian setup (ASGI, 1 worker, uvloop) and the same wrk load,
one after another:
  - bare ASGI: decodes the body with msgspec and answers (the ceiling);
  - bare Litestar: one POST handler taking a msgspec Struct (the target's yardstick);
  - PulseGate: the real server, every request committed to DuckDB first.

`--clients new` (the default, and the headline figure) is real traffic: every request carries
an `X-Forwarded-For` address of its own (one in four IPv6; wrk's peer, 127.0.0.1, is a trusted
proxy by default) and PulseGate runs with the rate limits as shipped, so whatever a new client
costs (its limiter entry, parsing its address) is paid on every request. `--clients one` is the
earlier mode: no forwarded address and rate limits off (one client would hit them at once).

`--compare CHECKOUT...` measures PulseGate alone from several checkouts in one run, rounds in
turn (what each change bought; `git worktree add /tmp/before COMMIT` makes a checkout):

    python bench/ingest.py --compare /tmp/before . --duration 8 --rounds 3
It prints a Markdown table of requests/s, events/s, p50/p99 latency, errors and the server
worker's RSS, plus PulseGate's ratios to the bare Litestar app and the stored-row check.

`--prefill-events N` first fills PulseGate's database with N generated events (the analytics
benchmark's generator: 30 days of sessions, events and leads), to see whether ingestion slows
as the file grows: run it at 1M, 10M and 50M and compare each run's ratio to its own bare app.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx
import msgspec

ROOT = Path(__file__).resolve().parent.parent
PULSEGATE = Path(sys.executable).with_name("pulsegate")


@dataclass
class WrkResult:
    """What one wrk run measured."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    rss_mb_start: float = 0.0
    rss_mb_max: float = 0.0
    rss_mb_end: float = 0.0
    rss_samples: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0  # the server worker's user + system CPU during the run, all threads

    @property
    def cpu_us_per_request(self) -> float:
        """CPU the server spent per answered request: unlike requests/s, it hardly moves when other
        work on this shared machine takes cores away (it measures work done, not time waited)."""
        return self.cpu_seconds / max(1, self.requests) * 1e6


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s")


def worker_pid(main_pid: int) -> int:
    """Granian serves from a child process; its RSS is the one that matters."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{main_pid}/task/{main_pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("no Granian worker process found")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _to_ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk_counts(output: str) -> tuple[int, int, int]:
    """(requests, non-2xx answers, socket errors) from wrk's report."""
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return (
        int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        int(non_2xx.group(1)) if non_2xx else 0,
        sum(int(n) for n in errors.groups()) if errors else 0,
    )


# Every request from an address of its own: random IPv4 (from 11.0.0.0, never loopback, so never
# a trusted proxy), one in four a random IPv6 address instead. Random rather than counted: a
# counter would hand the limiter's dict keys in order.
NEW_CLIENT_PER_REQUEST = """
request = function()
  local address
  if math.random(4) == 1 then
    address = string.format("2001:db8:%x:%x::%x", math.random(0, 65535), math.random(0, 65535),
                            math.random(1, 65535))
  else
    address = string.format("%d.%d.%d.%d", math.random(11, 223), math.random(0, 255),
                            math.random(0, 255), math.random(1, 254))
  end
  wrk.headers["X-Forwarded-For"] = address
  return wrk.format()
end
"""


def run_wrk(
    url: str, body: bytes, *, duration: int, connections: int, pid: int, new_clients: bool = False
) -> WrkResult:
    """Run wrk with `body` POSTed as JSON (from a new client address per request when
    `new_clients`), sampling the server's RSS twice a second."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        script.write(f"wrk.body = [==[{body.decode()}]==]\n")
        if new_clients:
            script.write(NEW_CLIENT_PER_REQUEST)
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(rss_mb(pid))
            stop.wait(0.5)

    sampler = threading.Thread(target=sample)
    sampler.start()
    cpu_before = cpu_seconds(pid)
    try:
        output = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script.name, url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        stop.set()
        sampler.join()
        cpu_used = cpu_seconds(pid) - cpu_before
        os.unlink(script.name)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE))
    requests, non_2xx, socket_errors = wrk_counts(output)
    return WrkResult(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50_ms=_to_ms(latency["50"]),
        p99_ms=_to_ms(latency["99"]),
        requests=requests,
        non_2xx=non_2xx,
        socket_errors=socket_errors,
        cpu_seconds=cpu_used,
        rss_mb_start=samples[0] if samples else 0.0,
        rss_mb_max=max(samples, default=0.0),
        rss_mb_end=samples[-1] if samples else 0.0,
        rss_samples=samples,
    )


def start_granian(target: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--workers", "1", "--loop", "uvloop",
         "--port", str(port), "--log-level", "warning", target],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    wait_listening(port)
    return process


def start_pulsegate(
    database: Path,
    port: int,
    checkout: Path = ROOT,
    *,
    rate_limits: bool = False,
    extra_env: dict[str, str] | None = None,
    healthy_within: float = 30,
) -> subprocess.Popen[bytes]:
    """`pulsegate serve`, by default with rate limits off (a load test from one address needs it),
    from this checkout or another one (its code first on the path: bench/attribution.py compares
    two versions), with `extra_env` besides this process's environment; stopped, and an error,
    when it does not answer /health within `healthy_within` seconds."""
    env = {**os.environ, **(extra_env or {}), "PULSEGATE_RATE_LIMITS__ENABLED": str(rate_limits).lower()}
    env["PULSEGATE_SERVER__LOG_LEVEL"] = "warning"
    if checkout == ROOT and PULSEGATE.exists():
        command = [str(PULSEGATE)]
    else:
        command = [sys.executable, "-m", "cli"]
        env["PYTHONPATH"] = str(checkout)
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--database", str(database)],
        cwd=checkout, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + healthy_within
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    if process.poll() is None:
        stop(process)
    raise RuntimeError(f"pulsegate serve from {checkout} on {database} did not become healthy")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)


def prefill(database: Path, events: int) -> None:
    """Generate `events` events (and their sessions and leads) into a new database file."""
    sys.path.insert(0, str(ROOT / "bench"))
    from analytics import generate  # the analytics benchmark's data, so the two describe one file

    began = time.perf_counter()
    generate(database, events, int(time.time() * 1000))
    size_mb = database.stat().st_size / 1e6
    print(f"Prefilled {events:,} events ({size_mb:,.0f} MB) in {time.perf_counter() - began:.0f} s")


def bodies(session_id: str) -> tuple[bytes, bytes]:
    """A realistic single event (~300 bytes) and a batch of 100 such events."""
    event = {
        "type": "click",
        "name": "cta-start-trial",
        "url": "https://www.example.com/pricing?plan=pro&utm_source=newsletter",
        "title": "Pricing - Example",
        "props": {"plan": "pro", "position": 3, "variant": "b"},
        "timestamp": 1_790_000_000_000,
    }
    single = msgspec.json.encode({"session_id": session_id, **event})
    batch = msgspec.json.encode({"session_id": session_id, "events": [event] * 100})
    return single, batch


def load_both_routes(port: int, pid: int, session_id: str, args: argparse.Namespace) -> dict[str, WrkResult]:
    """wrk on /track/event, then on /track/events/batch, of the server on `port`."""
    single, batch = bodies(session_id)
    base = f"http://127.0.0.1:{port}"
    load = {
        "duration": args.duration,
        "connections": args.connections,
        "pid": pid,
        "new_clients": args.clients == "new",
    }
    return {
        "event": run_wrk(f"{base}/track/event", single, **load),
        "batch": run_wrk(f"{base}/track/events/batch", batch, **load),
    }


def measure(args: argparse.Namespace) -> dict[str, dict[str, WrkResult]]:
    results: dict[str, dict[str, WrkResult]] = {}
    for name, target in (("bare ASGI + msgspec", "bench.baselines.bare_asgi:app"),
                         ("bare Litestar handler", "bench.baselines.bare_litestar:app")):  # fmt: skip
        port = free_port()
        process = start_granian(target, port)
        try:
            pid = worker_pid(process.pid)
            results[name] = load_both_routes(port, pid, "00000000-0000-4000-8000-000000000000", args)
        finally:
            stop(process)
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.duckdb"
        if args.prefill_events:
            prefill(database, args.prefill_events)
        port = free_port()
        process = start_pulsegate(database, port, rate_limits=args.clients == "new")
        try:
            pid = worker_pid(process.pid)
            session = httpx.post(
                f"http://127.0.0.1:{port}/track/session/start", json={"url": "https://www.example.com/"}
            )
            results["PulseGate"] = load_both_routes(port, pid, session.json()["session_id"], args)
        finally:
            stop(process)
        con = duckdb.connect(str(database), read_only=True)
        stored = con.execute(
            "SELECT count(*) FROM events WHERE type = 'click' AND session_id NOT LIKE 's%'"
        ).fetchone()[0]  # type: ignore[index]
        con.close()
    pulsegate = results["PulseGate"]
    acknowledged_floor = pulsegate["event"].requests - pulsegate["event"].non_2xx
    acknowledged_floor += 100 * (pulsegate["batch"].requests - pulsegate["batch"].non_2xx)
    print(f"\nStored click events: {stored:,}; wrk counted {acknowledged_floor:,} answered 2xx "
          "(wrk stops mid-flight, so stored may exceed it by the requests still open; never fall short)")  # fmt: skip
    return results


def report(results: dict[str, dict[str, WrkResult]], args: argparse.Namespace) -> None:
    prefilled = (
        f", PulseGate's database prefilled with {args.prefill_events:,} events" if args.prefill_events else ""
    )
    clients = (
        "a new client address per request, rate limits as shipped"
        if args.clients == "new"
        else "one client address, rate limits off"
    )
    print(
        f"\nwrk -t1 -c{args.connections} -d{args.duration}s, Granian 1 worker, uvloop, {clients}{prefilled}\n"
    )
    print(
        "| target | route | requests/s | events/s | p50 ms | p99 ms | errors | server CPU µs/request "
        "| RSS MB start / max / end |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for name, routes in results.items():
        for route, result in routes.items():
            events = result.requests_per_second * (100 if route == "batch" else 1)
            print(
                f"| {name} | {'/track/events/batch' if route == 'batch' else '/track/event'} "
                f"| {result.requests_per_second:,.0f} | {events:,.0f} | {result.p50_ms:.2f} | {result.p99_ms:.2f} "
                f"| {result.non_2xx + result.socket_errors} | {result.cpu_us_per_request:,.0f} "
                f"| {result.rss_mb_start:.0f} / {result.rss_mb_max:.0f} / {result.rss_mb_end:.0f} |"
            )
    ours, yardstick, echo = (
        results["PulseGate"],
        results["bare Litestar handler"],
        results["bare ASGI + msgspec"],
    )
    print(
        f"\nPulseGate over the bare Granian + msgspec echo: /track/event "
        f"{ours['event'].requests_per_second / echo['event'].requests_per_second:.1%}, batches "
        f"{ours['batch'].requests_per_second / echo['batch'].requests_per_second:.1%} of its requests/s."
    )
    print(
        f"\nPulseGate /track/event: {ours['event'].requests_per_second / yardstick['event'].requests_per_second:.0%} "
        f"of the bare Litestar handler (target >= 80%), p99 {ours['event'].p99_ms:.1f} ms (target <= 20 ms)."
    )
    print(
        f"Server CPU per request, bare Litestar handler over PulseGate (the same ratio, measured as work "
        f"rather than time): /track/event {yardstick['event'].cpu_us_per_request / ours['event'].cpu_us_per_request:.0%}, "
        f"batches {yardstick['batch'].cpu_us_per_request / ours['batch'].cpu_us_per_request:.0%}."
    )
    print(
        f"PulseGate batches: {ours['batch'].requests_per_second * 100:,.0f} events/s (target >= 200,000, "
        f"p99 {ours['batch'].p99_ms:.0f} ms, target <= 100 ms); "
        f"{ours['batch'].requests_per_second / yardstick['batch'].requests_per_second:.0%} of the bare Litestar handler."
    )
    print(
        f"PulseGate worker RSS max {max(r.rss_mb_max for r in ours.values()):.0f} MB (target <= 250 MB, flat)."
    )
    for route, result in ours.items():
        series = ", ".join(f"{mb:.0f}" for mb in result.rss_samples[::4])
        print(f"PulseGate RSS during the {route} run, MB every 2 s: {series}")


def compare_checkouts(args: argparse.Namespace) -> None:
    """PulseGate from each of `args.compare` (git worktrees of earlier commits, say), all serving at
    once and loaded in turn for `args.rounds` rounds, so each change is measured in the same run:
    the medians of requests/s, p99 and server CPU per request, on both routes."""
    with tempfile.TemporaryDirectory() as folder:
        servers = {}
        try:
            for number, entry in enumerate(args.compare):
                # NAME=VALUE@CHECKOUT: that checkout with an environment variable set (an allocator
                # through LD_PRELOAD, say), beside the same checkout without it.
                assignment, _, checkout = entry.rpartition("@") if "@" in entry else ("", "", entry)
                name, _, value = assignment.partition("=")
                port = free_port()
                process = start_pulsegate(
                    Path(folder) / f"{number}.duckdb", port, Path(checkout), rate_limits=args.clients == "new",
                    extra_env={name: value} if name else None,
                )  # fmt: skip
                servers[entry] = (process, port)
            runs: dict[tuple[str, str], list[WrkResult]] = {}
            for _ in range(args.rounds):
                for checkout, (process, port) in servers.items():
                    session = httpx.post(
                        f"http://127.0.0.1:{port}/track/session/start",
                        json={"url": "https://www.example.com/"},
                    )
                    routes = load_both_routes(
                        port, worker_pid(process.pid), session.json()["session_id"], args
                    )
                    for route, result in routes.items():
                        runs.setdefault((checkout, route), []).append(result)
        finally:
            for process, _ in servers.values():
                stop(process)
    print(
        f"\n{args.rounds} rounds of wrk -t1 -c{args.connections} -d{args.duration}s per checkout and route; medians\n"
    )
    print("| checkout | route | requests/s | p99 ms | server CPU µs/request |")
    print("|---|---|---:|---:|---:|")
    for (checkout, route), results in runs.items():
        print(
            f"| {checkout} | {'/track/events/batch' if route == 'batch' else '/track/event'} "
            f"| {statistics.median(r.requests_per_second for r in results):,.0f} "
            f"| {statistics.median(r.p99_ms for r in results):.1f} "
            f"| {statistics.median(r.cpu_us_per_request for r in results):,.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="Ingest benchmark against bare baselines")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--clients", choices=("new", "one"), default="new",
        help="new: a new client address per request, rate limits on (real traffic); one: the earlier mode",
    )  # fmt: skip
    parser.add_argument(
        "--prefill-events", type=int, default=0,
        help="generate this many events into PulseGate's database before loading it",
    )  # fmt: skip
    parser.add_argument(
        "--compare", nargs="+", metavar="CHECKOUT",
        help="instead: PulseGate from each checkout (e.g. git worktrees of earlier commits), in turn; "
        "NAME=VALUE@CHECKOUT sets an environment variable for that one",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3, help="with --compare: rounds over the checkouts")
    args = parser.parse_args()
    if args.compare:
        compare_checkouts(args)
    else:
        report(measure(args), args)


if __name__ == "__main__":
    main()

"""Sustained ingestion with a realistic mix, while the analytics API is polled.

Run from the repository root (wrk from Debian: `apt-get install -y wrk`):

    python bench/sustained.py --duration 60 --connections 32

One wrk load against `pulsegate serve` (rate limits on, as in production) sends, from a fresh
client address per request (X-Forwarded-For through the trusted loopback proxy): 10% session
starts, 50% single events, 29% batches of 10, 10% session ends with their last events and 1%
leads (so about 3.6 events per request). A thread polls four analytics endpoints once a second meanwhile. It reports events/s,
p50/p99/p99.9 latency, errors, the worker's RSS over time and its CPU time per 1,000 events.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import httpx

from pulsegate.config import load_settings
from pulsegate.ops.context import NoArguments
from pulsegate.ops.runner import run_operation
from pulsegate.ops.status import STATUS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import PULSEGATE, ROOT, free_port, rss_mb, stop, worker_pid, wrk_counts

MIX_LUA = r"""
local sessions = {}
local serial = 0
local thread_tag = tostring(math.random(1, 1e9))
local start_body = '{"url":"https://shop.example/?utm_source=news","referrer":"https://www.google.com/","title":"Shop","project":"acme","screen_width":1440,"screen_height":900,"language":"en-US","timezone":"Europe/Berlin"}'

local function event(kind, name)
  return '{"type":"' .. kind .. '","name":"' .. name .. '","url":"https://shop.example/p/' .. math.random(1, 300) .. '","props":{"plan":"pro","depth":' .. math.random(1, 100) .. '}}'
end

function request()
  serial = serial + 1
  wrk.headers["Content-Type"] = "application/json"
  -- A new client address per request (11.0.0.1 upwards), so no per-address limit is ever reached.
  wrk.headers["X-Forwarded-For"] = string.format("11.%d.%d.%d", math.floor(serial / 65536) % 256, math.floor(serial / 256) % 256, serial % 256)
  wrk.headers["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
  local n = #sessions
  local roll = math.random(1000)
  if n < 20 or roll <= 100 then
    return wrk.format("POST", "/track/session/start", nil, start_body)
  end
  local sid = sessions[math.random(n)]
  if roll <= 600 then
    local body = event("click", "buy") ; body = body:sub(1, -2) .. ',"session_id":"' .. sid .. '"}'
    return wrk.format("POST", "/track/event", nil, body)
  elseif roll <= 890 then
    local events = {}
    for i = 1, 10 do events[i] = event("click", "b" .. i) end
    return wrk.format("POST", "/track/events/batch", nil, '{"session_id":"' .. sid .. '","events":[' .. table.concat(events, ",") .. ']}')
  elseif roll <= 990 then
    return wrk.format("POST", "/track/session/end", nil, '{"session_id":"' .. sid .. '","engaged_ms":12000,"max_scroll":70,"events":[' .. event("click", "last") .. ']}')
  else
    return wrk.format("POST", "/lead.capture", nil, '{"submission_id":"bench-' .. thread_tag .. '-' .. serial .. '","email":"lead' .. serial .. '@example.com","session_id":"' .. sid .. '","elapsed_ms":9000}')
  end
end

function response(status, headers, body)
  -- A session start's receipt is the one with a session id and nothing else of note.
  if status == 200 and not body:find('"accepted"') and not body:find('"lead_id"') and not body:find('engagement_score') then
    local sid = body:match('"session_id":"([^"]+)"')
    if sid then
      if #sessions >= 5000 then table.remove(sessions, 1) end
      table.insert(sessions, sid)
    end
  end
end

function done(summary, latency, requests)
  io.write(string.format("P50_US %f\nP99_US %f\nP999_US %f\n", latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = {"PULSEGATE_SERVER__LOG_LEVEL": "warning"}
    if args.idle_minutes is not None:
        env["PULSEGATE_SESSIONS__IDLE_TIMEOUT_MINUTES"] = str(args.idle_minutes)
        env["PULSEGATE_SESSIONS__SWEEP_INTERVAL_SECONDS"] = "10"
    return env


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--idle-minutes", type=int, default=None,
        help="sessions.idle_timeout_minutes for the server (a short one reaches a steady state sooner)",
    )  # fmt: skip
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="pulsegate-sustained-"))
    database = folder / "bench.duckdb"
    command = [str(PULSEGATE)] if PULSEGATE.exists() else [sys.executable, "-m", "cli"]
    key = subprocess.run([*command, "keys", "create", "bench", "--quiet", "--database", str(database)],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--database", str(database)],
        cwd=ROOT, env={**os.environ, **server_env(args)}, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    pid = worker_pid(server.pid)

    stopping = threading.Event()
    rss: list[tuple[float, float]] = []
    memory: list[tuple[float, float, float, int, int]] = []  # s, RSS, DuckDB MB, open, remembered
    settings = load_settings(None, overrides={"storage": {"database": str(database)}})
    polls: list[tuple[str, int, float]] = []
    began = time.monotonic()

    def sample_rss() -> None:
        ticks = 0
        while not stopping.is_set():
            at = time.monotonic() - began
            rss.append((at, rss_mb(pid)))
            if ticks % 6 == 0:  # every 30 s, what the server says holds its memory
                facts = run_operation(settings, STATUS, NoArguments())
                memory.append((at, facts.server.rss_mb, facts.duckdb_memory.used_mb,
                               facts.server.open_sessions, facts.server.remembered_sessions))  # fmt: skip
            ticks += 1
            stopping.wait(5)

    def poll_analytics() -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=10) as http:
            while not stopping.is_set():
                for route in ("overview", "pages/top", "realtime", "sources"):
                    t0 = time.perf_counter()
                    status = http.get(f"/analytics/{route}").status_code
                    polls.append((route, status, (time.perf_counter() - t0) * 1000))
                stopping.wait(1)

    threads = [threading.Thread(target=sample_rss), threading.Thread(target=poll_analytics)]
    for thread in threads:
        thread.start()
    cpu_before = cpu_seconds(pid)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(MIX_LUA)
    try:
        output = subprocess.run(
            ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", script.name, base],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(script.name)
    cpu_used = cpu_seconds(pid) - cpu_before
    stopping.set()
    for thread in threads:
        thread.join()
    rss.append((time.monotonic() - began, rss_mb(pid)))
    stop(server)

    with duckdb.connect(str(database), read_only=True) as connection:
        events = connection.execute("SELECT count(*) FROM events").fetchone()[0]
        sessions = connection.execute("SELECT count(*) FROM sessions").fetchone()[0]
        leads = connection.execute("SELECT count(*) FROM leads").fetchone()[0]
    requests, non_2xx, socket_errors = wrk_counts(output)
    p = {
        name: float(value) / 1000 for name, value in re.findall(r"^(P\d+)_US ([\d.]+)", output, re.MULTILINE)
    }
    warm = [mb for at, mb in rss if at >= 10]
    print(
        f"## Sustained mix, {args.duration} s, {args.connections} connections"
        + (f", idle timeout {args.idle_minutes} min" if args.idle_minutes is not None else "")
        + " (`python bench/sustained.py`)\n"
    )
    print("| measure | value |\n|---|---|")
    print(f"| requests | {requests:,} ({requests / args.duration:,.0f}/s) |")
    print(f"| events stored | {events:,} ({events / args.duration:,.0f}/s) |")
    print(f"| sessions / leads stored | {sessions:,} / {leads:,} |")
    print(f"| latency p50 / p99 / p99.9 | {p['P50']:.1f} / {p['P99']:.1f} / {p['P999']:.1f} ms |")
    print(f"| non-2xx answers | {non_2xx} |")
    print(f"| socket errors | {socket_errors} |")
    print(f"| worker CPU per 1,000 events | {cpu_used / max(events, 1) * 1000 * 1000:.1f} ms |")
    print(
        f"| worker RSS after warm-up (10 s): first / max / last | {warm[0]:.0f} / {max(warm):.0f} / {warm[-1]:.0f} MB |"
    )
    by_route: dict[str, list[float]] = {}
    for route, status, ms in polls:
        by_route.setdefault(route, []).append(ms if status == 200 else float("inf"))
    for route, times in sorted(by_route.items()):
        times.sort()
        print(
            f"| /analytics/{route} while loaded: polls, median, max | {len(times)}, {times[len(times) // 2]:.0f} ms, {times[-1]:.0f} ms |"
        )
    print("\nRSS over time (s: MB): " + ", ".join(f"{at:.0f}: {mb:.0f}" for at, mb in rss))
    print("\n| s | worker RSS MB | DuckDB buffers MB | open sessions | ended sessions kept |")
    print("|---:|---:|---:|---:|---:|")
    for at, resident, duckdb_mb, open_sessions, remembered in memory:
        print(f"| {at:.0f} | {resident:.0f} | {duckdb_mb:.0f} | {open_sessions:,} | {remembered:,} |")


if __name__ == "__main__":
    main()

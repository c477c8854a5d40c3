"""The benchmarks still run (their numbers are judged in BENCHMARKS.md, never here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_writer_paths_benchmark_runs() -> None:
    result = subprocess.run(
        [sys.executable, "bench/writer_paths.py", "--rows", "2000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "| appender, 1000-row groups" in result.stdout and "| Writer: 64 callers" in result.stdout


def test_script_sizes_benchmark_runs() -> None:
    result = subprocess.run(
        [sys.executable, "bench/script_sizes.py"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "| tracker.js |" in result.stdout and "| pulse.js |" in result.stdout


def test_session_table_benchmark_runs() -> None:
    result = subprocess.run(
        [sys.executable, "bench/session_table.py", "--sessions", "4000", "--leads", "4000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "| without (now) | time-ordered (v7) | 4,000 sessions written" in result.stdout
    assert "| time-ordered (v7) | 4,000 leads written" in result.stdout


def test_reports_benchmark_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "bench/reports.py", "--events", "20000", "--repeats", "1", "--only", "source,page,timeseries",
         "--database", str(tmp_path / "reports.duckdb")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "| breakdown by page | two |" in result.stdout and "| timeseries (day) | none |" in result.stdout


def test_conversions_benchmark_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "bench/conversions.py", "--events", "20000", "--repeats", "1",
         "--database", str(tmp_path / "reports.duckdb")],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "| 4-step funnel within a session |" in result.stdout and "| goals (4:" in result.stdout


def test_attribution_benchmark_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "bench/attribution.py", "--events", "20000", "--repeats", "1", "--leads", "300",
         "--captures", "20", "--before", str(ROOT), "--database", str(tmp_path / "reports.duckdb"),
         "--folder", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "| linear | landing_page |" in result.stdout and "p50 after / before" in result.stdout


def test_startup_benchmark_runs() -> None:
    result = subprocess.run(
        [sys.executable, "bench/startup.py", "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "| `pulsegate --help` |" in result.stdout and "| `pulsegate keys list` (offline) |" in result.stdout
    )


def test_analytics_benchmark_runs(tmp_path: Path) -> None:
    database = tmp_path / "analytics.duckdb"
    result = subprocess.run(
        [sys.executable, "bench/analytics.py", "--events", "20000", "--repeats", "1", "--database", str(database)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for route in ("| overview |", "| breakdown prop:plan |", "| funnel (saved, dashboard) |", "| attribution |",
                  "| forms |", "| leads/{id} |", "| storage |"):  # fmt: skip
        assert route in result.stdout, route
    # The file is kept and reused; --against serves a second checkout on a copy, asked in turn.
    again = subprocess.run(
        [sys.executable, "bench/analytics.py", "--events", "20000", "--repeats", "1", "--database", str(database),
         "--against", str(ROOT), "--no-bare", "--only", "overview,geo"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "Generated" not in again.stdout and "| geo | /analytics/geo |" in again.stdout
    assert "now / before" in again.stdout

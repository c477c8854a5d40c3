"""`pulsegate leads export/list/show`: formats, filters, CSV injection, and streaming memory."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from cli.main import app
from pulsegate.domain.ids import new_id
from pulsegate.store.database import Database
from tests.cli.lead_rows import NASTY
from tests.cli.lead_rows import seed_leads as seed
from tests.helpers import invoke

runner = CliRunner()


def test_csv_export_neutralises_formulas(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    seed(database, len(NASTY), nasty=True)
    out = tmp_path / "leads.csv"
    result = invoke(database, "leads", "export", "--csv", "-o", str(out))
    assert result.exit_code == 0, result.output
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = [row["name"] for row in rows]
    assert names == ["'=SUM(A1:A9)", "'+1 555", "'-cmd", "'@import", "'\tdata", "'\rline", "plain"]


def test_json_lines_and_filters(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    seed(database, 40)
    out = tmp_path / "leads.jsonl"
    result = invoke(database, "leads", "export", "--json", "-o", str(out), "--project", "acme", "--status", "new",
                    "--since", "2026-01-01T00:10", "--until", "2026-01-01T00:30")  # fmt: skip
    assert result.exit_code == 0, result.output
    leads = [json.loads(line) for line in out.read_text().splitlines()]
    expected = [n for n in range(40) if n % 2 == 0 and n % 10 != 9 and 10 <= n < 30]
    assert [lead["lead_id"] for lead in leads] == [f"lead-{n:07d}" for n in expected]
    assert leads[0]["email"] == "p10@example.com" and isinstance(leads[0]["created_at"], int)


def test_parquet_export(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    seed(database, 25)
    out = tmp_path / "leads.parquet"
    result = invoke(database, "leads", "export", "--parquet", "-o", str(out), "--project", "globex")
    assert result.exit_code == 0, result.output
    rows = duckdb.connect().execute(f"SELECT count(*), min(lead_id) FROM read_parquet('{out}')").fetchall()
    assert rows == [(12, "lead-0000001")]
    assert invoke(database, "leads", "export", "--parquet").exit_code == 2  # needs --output


def test_bad_options_are_one_line_errors(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    seed(database, 1)
    both = invoke(database, "leads", "export", "--csv", "--json")
    assert both.exit_code == 2 and "choose one" in both.output
    since = invoke(database, "leads", "export", "--since", "yesterday")
    assert since.exit_code == 2 and "--since:" in since.output
    status = invoke(database, "leads", "list", "--status", "won")
    assert status.exit_code == 2 and "status" in status.output


def test_list_and_show(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    seed(database, 5)
    listed = invoke(database, "leads", "list", "-n", "3")
    assert (
        listed.exit_code == 0
        and "p4@example.com" in listed.output
        and "3 of 5 matching leads" in listed.output
    )
    shown = invoke(database, "leads", "show", "lead-0000002")
    assert shown.exit_code == 0 and "p2@example.com" in shown.output and "No tracked sessions" in shown.output
    missing = invoke(database, "leads", "show", "lead-nope")
    assert missing.exit_code == 2 and "No lead with an id starting 'lead-nope'" in missing.output


def peak_rss_mb_of_export(database: Path, out: Path) -> float:
    probe = (
        "import resource, sys\n"
        f"sys.argv = ['pulsegate', 'leads', 'export', '--csv', '-o', {str(out)!r}, '--database', {str(database)!r}]\n"
        "from cli.main import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    return float(result.stdout.strip().splitlines()[-1])


def test_export_of_100k_leads_streams_in_bounded_memory(tmp_path: Path) -> None:
    small, large = tmp_path / "small.duckdb", tmp_path / "large.duckdb"
    seed(small, 10_000)
    seed(large, 100_000)
    small_rss = peak_rss_mb_of_export(small, tmp_path / "small.csv")
    large_rss = peak_rss_mb_of_export(large, tmp_path / "large.csv")
    with (tmp_path / "large.csv").open() as handle:
        assert sum(1 for _ in handle) == 100_001  # header + every lead
    # Ten times the leads, about the same memory: pages are written and dropped as they come.
    assert large_rss - small_rss < 25, (small_rss, large_rss)


def seed_real_ids(database: Path, created_ms: list[int]) -> list[str]:
    """Leads with ids as capture makes them (UUIDv7: leads of the same moment share a long start)."""
    ids = [new_id(ms) for ms in created_ms]
    db = Database.open(database)
    try:
        db.connection.executemany(
            "INSERT INTO leads (lead_id, submission_id, created_at, email) VALUES (?, ?, make_timestamp(? * 1000), ?)",
            [
                (lead_id, f"sub-{n:04d}", ms, f"p{n}@example.com")
                for n, (lead_id, ms) in enumerate(zip(ids, created_ms, strict=True))
            ],
        )
    finally:
        db.close()
    return ids


def shortest_unique(lead_id: str, others: list[str]) -> str:
    """Plain reference: the shortest start (8 at least) of `lead_id` that no other id has."""
    for length in range(8, len(lead_id) + 1):
        if not any(other.startswith(lead_id[:length]) for other in others if other != lead_id):
            return lead_id[:length]
    return lead_id


def test_list_shows_short_ids_that_fit_and_show_takes_any_unique_start(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    now = 1_790_000_000_000
    ids = seed_real_ids(database, [now] * 6 + [now + 1, now + 86_400_000])  # six in the same millisecond
    narrow = runner.invoke(app, ["leads", "list", "--database", str(database)], env={"COLUMNS": "80"})
    assert narrow.exit_code == 0, narrow.output
    for lead_id in ids:
        short = shortest_unique(lead_id, ids)
        assert short in narrow.output and len(short) < len(lead_id)
        shown = invoke(database, "leads", "show", short)
        assert shown.exit_code == 0 and lead_id in shown.output, shown.output
    shared = ids[0][:12]  # the time part: every lead of that millisecond starts so
    ambiguous = invoke(database, "leads", "show", shared)
    assert ambiguous.exit_code == 2 and "starts several lead ids" in ambiguous.stderr
    assert "Traceback" not in ambiguous.output


def test_list_as_json_has_whole_ids(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    ids = seed_real_ids(database, [1_790_000_000_000 + n for n in range(3)])
    listed = json.loads(invoke(database, "leads", "list", "--json").stdout)
    assert [lead["lead_id"] for lead in listed["leads"]] == list(reversed(ids)) and listed["total"] == 3
    limit = invoke(database, "leads", "list", "--limit", "0")
    assert limit.exit_code == 2 and "--limit: from 1 to 1000" in limit.stderr


def test_csv_times_are_iso_8601_in_utc_and_json_lines_keep_epoch_ms(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    created = [1_767_225_600_123, 1_767_312_000_000]  # 2026-01-01T00:00:00.123Z, 2026-01-02T00:00:00Z
    seed_real_ids(database, created)
    out = tmp_path / "leads.csv"
    assert invoke(database, "leads", "export", "--csv", "-o", str(out)).exit_code == 0
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = [
        datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" for ms in created
    ]
    assert (
        [row["created_at"] for row in rows]
        == expected
        == ["2026-01-01T00:00:00.123Z", "2026-01-02T00:00:00.000Z"]
    )
    assert [row["crm_synced_at"] for row in rows] == ["", ""]
    lines = invoke(database, "leads", "export", "--json").stdout.splitlines()
    assert [json.loads(line)["created_at"] for line in lines] == created

"""Output paths and options are checked before any work: one line, exit code 2, nothing written."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.cli.lead_rows import seed_leads
from tests.helpers import invoke


def files_in(folder: Path) -> dict[str, int]:
    return {str(path.relative_to(folder)): path.stat().st_mtime_ns for path in folder.rglob("*")}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["leads", "export", "-o", "missing/out.csv"], "--output: the folder"),
        (["leads", "export", "--json", "-o", "missing/out.jsonl"], "--output: the folder"),
        (["leads", "export", "-o", "a-folder"], "is a folder; name a file in it, such as"),
        (["leads", "export", "--parquet", "-o", "missing/out.parquet"], "--output: the folder"),
        (["leads", "export", "--parquet", "-o", "a-folder"], "leads.parquet"),
        (["leads", "export", "--since", "notadate", "-o", "out.csv"], "--since: expected an ISO date"),
        (["leads", "export", "--since", "2026-02-01", "--until", "2026-01-01", "-o", "out.csv"],
         "--since: must be before --until"),
        (["leads", "export", "--status", "bogus", "-o", "out.csv"], "--status: one of new, forwarded"),
        (["leads", "list", "--status", "bogus"], "--status: one of new, forwarded"),
        (["leads", "list", "--project", "a b"], "--project: 1 to 64 letters"),
        (["backup", "a-folder", "--force"], "FILE: "),
        (["backup", "a-folder"], "FILE: "),
    ],
)  # fmt: skip
def test_bad_output_or_option_is_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    database = tmp_path / "p.duckdb"
    seed_leads(database, 20)
    (tmp_path / "a-folder").mkdir()
    monkeypatch.chdir(tmp_path)
    before = files_in(tmp_path)
    result = invoke(database, *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0], result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert files_in(tmp_path) == before  # no header, no .partial, no folder made


@pytest.mark.parametrize("kind", ["--csv", "--json", "--parquet"])
def test_exports_are_private_and_replace_the_old_file_only_when_done(tmp_path: Path, kind: str) -> None:
    database = tmp_path / "p.duckdb"
    seed_leads(database, 20)
    out = tmp_path / "leads.out"
    out.write_text("the previous export\n")
    result = invoke(database, "leads", "export", kind, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "the previous export" not in out.read_bytes().decode(errors="replace")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # contact details: the owner only
    assert not (tmp_path / "leads.out.partial").exists()


def test_a_backup_is_private(tmp_path: Path) -> None:
    database = tmp_path / "p.duckdb"
    seed_leads(database, 5)
    copy = tmp_path / "copies" / "copy.duckdb"  # a missing folder is made for a backup
    assert invoke(database, "backup", str(copy)).exit_code == 0
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600

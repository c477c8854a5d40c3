"""`pulsegate report` offline: the fixture's numbers as a table, JSON and CSV; bad options as one line."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from pulsegate.store.database import Database
from tests.api import analytics_fixture as fx
from tests.helpers import invoke

WINDOW = ("--from", "2026-03-01", "--to", "2026-03-10")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.duckdb"
    opened = Database.open(path)
    fx.insert(opened.connection, fx.build())
    opened.close()
    return path


def expected_sessions_by_country() -> Counter[str | None]:
    sessions = fx.humans(fx.build(), fx.FIRST_DAY, fx.FIRST_DAY + timedelta(days=fx.DAYS), None)
    return Counter(s.country for s in sessions)


def test_json_and_csv_carry_the_rows_the_fixture_makes(database: Path) -> None:
    expected = expected_sessions_by_country()
    done = invoke(
        database, "report", "country", "-m", "sessions", "-m", "visitors", "--json", "-n", "50", *WINDOW
    )
    assert done.exit_code == 0, done.output
    answer = json.loads(done.stdout)
    assert {row["value"]: row["sessions"] for row in answer["rows"]} == dict(expected)
    assert [row["sessions"] for row in answer["rows"]] == sorted(expected.values(), reverse=True)
    done = invoke(database, "report", "country", "-m", "sessions", "--csv", "-n", "50", *WINDOW)
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["value", "sessions"]
    assert {value or None: int(count) for value, count in rows[1:]} == dict(expected)


def test_a_filter_and_a_comparison_in_the_table(database: Path) -> None:
    expected = expected_sessions_by_country()
    done = invoke(database, "report", "country", "-m", "sessions", "--filter", "country==DE|JP",
                  "--compare", "previous", *WINDOW)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "Country" in done.stdout and "Sessions" in done.stdout and "change" in done.stdout
    assert f"{expected['DE']:,}" in done.stdout and f"{expected['JP']:,}" in done.stdout
    assert "US" not in done.stdout and "2 of 2 rows, filtered by country==DE|JP" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("planet",), "DIMENSION: unknown 'planet'"),
        (("source", "-m", "nope"), "--metric: unknown 'nope'"),
        (("page", "-m", "bounce_rate"), "--metric: bounce_rate does not apply to the page dimension"),
        (("source", "--filter", "country=DE"), "--filter: write DIMENSION OP VALUE"),
        (("source", "--from", "yesterday"), "--from:"),
        (("source", "--compare", "decade"), "--compare: must be one of"),
        (("source", "--json", "--csv"), "--json and --csv: choose one"),
        (("source", "--limit", "0"), "--limit:"),
    ],
)
def test_bad_options_are_one_line_and_exit_code_2(
    database: Path, args: tuple[str, ...], message: str
) -> None:
    done = invoke(database, "report", *args)
    assert done.exit_code == 2, done.output
    assert message in done.stderr and "Traceback" not in done.output
    assert len(done.stderr.strip().splitlines()) == 1

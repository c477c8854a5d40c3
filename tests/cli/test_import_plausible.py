"""`pulsegate import plausible`, `import list` and `import remove` on files shaped as Plausible CE
writes them (../shared/import-formats.md section 1.10 and its edge cases), offline and live."""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest

from tests.engines import CliStore, cli_store

__all__ = ["cli_store"]  # the fixture, imported so every test here runs on both engines

# The export of the research notes' example (invented values), one CSV per file.
EXAMPLE = {
    "imported_visitors_20240301_20240303.csv": """"date","visitors","pageviews","bounces","visits","visit_duration"
"2024-03-01",12,30,5,14,1260
"2024-03-02",9,21,4,10,840
"2024-03-03",15,40,6,17,2040
""",
    "imported_sources_20240301_20240303.csv": """"date","source","referrer","utm_source","utm_medium","utm_campaign","utm_content","utm_term","pageviews","visitors","visits","visit_duration","bounces"
"2024-03-01","","","","","","","",12,5,6,400,2
"2024-03-01","Google","google.com","","","","","",10,4,4,500,2
"2024-03-02","newsletter","","newsletter","email","spring_sale","","",8,3,3,300,1
""",
    # A v2.1 pages file: six columns only.
    "imported_pages_20240301_20240303.csv": """"date","hostname","page","visits","visitors","pageviews"
"2024-03-01","example.org","/",10,9,14
"2024-03-01","example.org","/pricing",5,5,6
"2024-03-02","example.org","/blog/a ""quoted"", title",3,3,3
""",
    # Columns in another order, cells unquoted, no `imported_` prefix.
    "devices_20240301_20240303.csv": """device,date,visitors,visits,visit_duration,bounces,pageviews
Desktop,2024-03-01,8,9,1000,3,20
Mobile,2024-03-01,4,5,260,2,10
Laptop,2024-03-02,1,1,30,1,1
""",
    "imported_custom_events_20240301_20240303.csv": """"date","name","link_url","path","visitors","events"
"2024-03-01","Signup","","",2,2
"2024-03-01","Outbound Link: Click","https://github.com/example","",1,3
"2024-03-02","engagement","","",9,40
"2024-03-02","404","","/missing-page",1,1
""",
    "imported_locations_20240301_20240303.csv": """"date","country","region","city","visitors","visits","visit_duration","bounces","pageviews"
"2024-03-01","DE","DE-BE",2950159,4,5,600,2,11
"2024-03-01","US","",0,3,3,120,2,4
"2024-03-02","FR","FR-IDF",2988507,2,2,90,1,3
""",
    "imported_custom_props_20240301_20240303.csv": """"date","property","value","visitors","events"
"2024-03-01","author","Jane",4,6
""",
    # A table without rows: the header only.
    "imported_browsers_20240301_20240303.csv": '"date","browser","browser_version","visitors","visits","visit_duration","bounces","pageviews"\n',
}  # fmt: skip
WINDOW = {"from": "2024-03-01", "to": "2024-03-03", "tz": "UTC"}


def write_zip(path: Path, files: dict[str, str]) -> Path:
    """A ZIP as Plausible makes it: stored entries, UTF-8 names."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_an_export_is_imported_and_the_same_export_again_replaces_it(
    cli_store: CliStore, tmp_path: Path
) -> None:
    export = write_zip(tmp_path / "example_org_20240304.zip", EXAMPLE)
    first = cli_store.invoke("import", "plausible", str(export), "--project", "example", "--json")
    assert first.exit_code == 0, first.output
    done = json.loads(first.stdout)
    # Rows read, less the internal `engagement` event; the props file is not imported.
    assert done["rows"] == 3 + 3 + 3 + 3 + 3 + 3 + 0 and done["days"] == 3
    assert (done["visitors"], done["pageviews"]) == (12 + 9 + 15, 30 + 21 + 40)
    assert {f["kind"]: f["skipped"] for f in done["files"]}["custom_props"] is True

    again = cli_store.invoke("import", "plausible", str(export), "--project", "example")
    assert again.exit_code == 0, again.output
    assert f"Replaced import {done['imported']['id']}" in again.stdout
    listed = json.loads(cli_store.invoke("import", "list", "--json").stdout)
    assert [(i["origin"], i["project"], i["status"], i["rows"]) for i in listed] == [
        ("plausible", "example", "complete", 18)
    ]
    assert (listed[0]["first_day"], listed[0]["last_day"]) == ("2024-03-01", "2024-03-03")
    counted = cli_store.rows("SELECT kind, count(*) FROM imported_daily GROUP BY kind ORDER BY kind")
    assert dict(counted) == {"custom_events": 3, "devices": 3, "locations": 3, "pages": 3, "sources": 3,
                             "visitors": 3}  # fmt: skip

    report = cli_store.invoke("report", "device", "--from", "2024-03-01", "--to", "2024-03-03", "--json")
    rows = {row["value"]: row["visitors"] for row in json.loads(report.stdout)["rows"]}
    assert rows == {"desktop": 8 + 1, "mobile": 4}  # Laptop is a desktop computer here
    pages = json.loads(cli_store.invoke("report", "page", "--from", "2024-03-01", "--json").stdout)
    assert 'quoted"' in " ".join(row["value"] for row in pages["rows"])
    alone = json.loads(
        cli_store.invoke("report", "page", "--from", "2024-03-01", "--no-imported", "--json").stdout
    )
    assert alone["rows"] == [] and alone["imported"] == "excluded"

    removed = cli_store.invoke("import", "remove", str(listed[0]["id"]))
    assert removed.exit_code == 0 and "Removed import" in removed.stdout
    assert cli_store.rows("SELECT count(*) FROM imported_daily") == [(0,)]
    assert json.loads(cli_store.invoke("import", "list", "--json").stdout) == []

    # Imported again after the removal (on ClickHouse into the id just freed, with the same rows
    # as before, which its window of recent inserts must not take for a repeat).
    anew = json.loads(
        cli_store.invoke("import", "plausible", str(export), "--project", "example", "--json").stdout
    )
    assert anew["imported"]["rows"] == 18
    assert cli_store.rows("SELECT count(*) FROM imported_daily") == [(18,)]


def test_a_dry_run_reads_everything_and_writes_nothing(cli_store: CliStore, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for name, text in EXAMPLE.items():
        (folder / name).write_text(text, encoding="utf-8")
    done = cli_store.invoke("import", "plausible", str(folder), "--project", "example", "--dry-run")
    assert done.exit_code == 0, done.output
    assert "Would import 18 rows into example" in done.stdout
    assert cli_store.rows("SELECT count(*) FROM imports") == [(0,)]


@pytest.mark.parametrize(
    ("files", "said"),
    [
        ({"my_data.csv": "date\n"}, "my_data.csv: not a file of a Plausible export"),
        ({"imported_visitors_20240301_20240303.csv": "visitors\n3\n"}, "has no date column"),
        ({"imported_visitors_20240301_20240303.csv": "date,visitors\n2024-03-01,many\n"},
         "line 2: visitors 'many' is not a whole number"),
        ({"imported_visitors_20240301_20240303.csv": "date,visitors\n01/03/2024,3\n"}, "is not YYYY-MM-DD"),
        ({"imported_visitors_20240301_20240303.csv": "date,visitors\n2024-03-01,-3\n"}, "is negative"),
        ({"imported_visitors_20240301_20240231.csv": "date\n"}, "20240231 is not a date"),
        ({"imported_visitors_20240301_20240303.csv": f"date,visitors\n2024-03-01,{2**64}\n"},
         "line 2: visitors '18446744073709551616' is not a whole number"),
        ({"imported_visitors_20240301_20240303.csv": "date,visitors\n2024-03-01,1_000\n"}, "is not a whole number"),
        ({"imported_sources_20240301_20240303.csv": 'date,source,visitors\n2024-03-01,"unclosed,3\n2024-03-02,x,3\n'},
         "imported_sources_20240301_20240303.csv line"),
    ],
)  # fmt: skip
def test_a_bad_export_is_refused_with_one_line_and_changes_nothing(
    cli_store: CliStore, tmp_path: Path, files: dict[str, str], said: str
) -> None:
    export = write_zip(tmp_path / "bad.zip", {**EXAMPLE, **files} if "my_data.csv" not in files else files)
    done = cli_store.invoke("import", "plausible", str(export), "--project", "example")
    assert done.exit_code == 2, done.output
    assert said in done.output and "Traceback" not in done.output
    assert cli_store.rows("SELECT count(*) FROM imports") == [(0,)]
    assert cli_store.rows("SELECT count(*) FROM imported_daily") == [(0,)]


def test_a_byte_that_is_not_utf8_is_named_by_its_line(cli_store: CliStore, tmp_path: Path) -> None:
    export = tmp_path / "bad.zip"
    with zipfile.ZipFile(export, "w") as archive:
        archive.writestr(
            "imported_devices_20240301_20240303.csv",
            b"date,device,visitors\n2024-03-01,Desktop,3\n2024-03-02,Ordinateur \xe9,3\n",
        )
        archive.writestr("README.txt", "not part of the export")  # ignored, as in a folder
    done = cli_store.invoke("import", "plausible", str(export), "--project", "example")
    assert done.exit_code == 2 and "line 3: not UTF-8 text" in done.output, done.output


def test_other_bad_input_is_refused(cli_store: CliStore, tmp_path: Path) -> None:
    not_zip = tmp_path / "notes.txt"
    not_zip.write_text("hello", encoding="utf-8")
    for args, said in (
        ([str(not_zip), "--project", "example"], "not a ZIP archive"),
        ([str(tmp_path / "missing.zip"), "--project", "example"], "no such file"),
        ([str(write_zip(tmp_path / "a.zip", EXAMPLE)), "--project", "no spaces"], "--project"),
        (
            [str(tmp_path / "a.zip"), "--project", "example", "--timezone", "Mars/Olympus"],
            "unknown time zone",
        ),
    ):
        done = cli_store.invoke("import", "plausible", *args)
        assert done.exit_code == 2 and said in done.output, (args, done.output)
    assert cli_store.invoke("import", "remove", "42").exit_code == 2


def test_an_export_overlapping_another_is_refused(cli_store: CliStore, tmp_path: Path) -> None:
    assert cli_store.invoke("import", "plausible", str(write_zip(tmp_path / "a.zip", EXAMPLE)),
                  "--project", "example").exit_code == 0  # fmt: skip
    later = {"imported_visitors_20240303_20240310.csv": '"date","visitors"\n"2024-03-05",4\n'}
    done = cli_store.invoke(
        "import", "plausible", str(write_zip(tmp_path / "b.zip", later)), "--project", "example"
    )
    assert done.exit_code == 2 and "overlap import 1" in done.output
    other = cli_store.invoke("import", "plausible", str(tmp_path / "b.zip"), "--project", "other")
    assert other.exit_code == 0, other.output  # another project's history is its own


def test_days_the_project_tracked_itself_are_left_out(cli_store: CliStore, tmp_path: Path) -> None:
    cli_store.insert(
        "INSERT INTO sessions (session_id, visitor_id, project, started_at, last_seen_at, entry_url) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                "s1",
                "v1",
                "example",
                datetime(2024, 3, 2, 23, 30),
                datetime(2024, 3, 2, 23, 31),
                "https://example.org/",
            )
        ],
    )
    # 23:30 UTC on the 2nd is the 3rd in Berlin: only the 3rd is the project's own.
    done = cli_store.invoke("import", "plausible", str(write_zip(tmp_path / "a.zip", EXAMPLE)),
                  "--project", "example", "--timezone", "Europe/Berlin", "--json")  # fmt: skip
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["keep_before"] == "2024-03-03" and result["days"] == 2
    assert cli_store.rows("SELECT max(day) FROM imported_daily") == [(date(2024, 3, 2),)]

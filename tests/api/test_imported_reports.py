"""Imported Plausible history in the reports: random exports imported with the real CLI beside random
tracked traffic, every merged report checked against a plain-Python reference.

The reference here never runs PulseGate's code: it maps the export's values with its own tables,
picks the one file a question can use by its own table of which file carries what, and adds the
numbers by the rules the README states (counts add, visitors are summed daily uniques, bounce rate
and views per session weighted by sessions, the rest PulseGate's own).
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from typer.testing import Result

from pulsegate.domain.reports import GOAL, Filter, dimension, matches, parse_filters, with_goals
from tests.api import reports_reference as ref
from tests.api.test_reports import PARAMS, applicable, ask, same, same_breakdown, window
from tests.helpers import app_cursor, app_runtime, clickhouse_environ, invoke_with

PROJECT = "initech"  # no tracked traffic: every imported day counts
FIRST, LAST = date(2026, 2, 24), date(2026, 3, 9)  # the export's days: before, in and after the window
WINDOW_DAYS = [date(2026, 3, 3) + timedelta(days=n) for n in range(5)]  # PARAMS: 3 to 7 March, Berlin
EARLIER_DAYS = [date(2026, 2, 26) + timedelta(days=n) for n in range(5)]  # compare=previous

# Each file's dimension columns: Plausible's values and, independently of the code, PulseGate's.
VOCABULARY: dict[str, dict[str, dict[str, str | None]]] = {
    "sources": {
        "source": {"": "Direct", "Google": "Google", "Twitter": "X", "newsletter": "newsletter"},
        "referrer": {
            "": None,
            "google.com/search": "google.com",
            "www.news.ycombinator.com/item": "news.ycombinator.com",
        },
        "utm_campaign": {"": None, "spring": "spring", "Spring Sale": "Spring Sale"},
        "utm_medium": {"": None, "email": "email"},
    },
    "pages": {"page": {p: p for p in ref.PATHS}},
    "entry_pages": {"entry_page": {p: p for p in ref.PATHS}},
    "exit_pages": {"exit_page": {p: p for p in ref.PATHS}},
    "locations": {"country": {"DE": "DE", "US": "US", "FR": "FR"}},
    "devices": {"device": {"Desktop": "desktop", "Laptop": "desktop", "Mobile": "mobile", "": None}},
    "browsers": {"browser": {"Chrome": "Chrome", "Microsoft Edge": "Edge", "Firefox": "Firefox", "": None}},
    "operating_systems": {"operating_system": {"Mac": "Mac OS X", "GNU/Linux": "Linux", "iOS": "iOS"}},
    "visitors": {},
}
EVENTS = ("Signup", "Download brochure", "Outbound Link: Click", "File Download", "engagement")
LINKS = ("https://other.org/x", "https://example.com/file.pdf")
# Which PulseGate dimension each CSV column is, and which file carries each dimension.
DIMENSION_OF = {"operating_system": "os"}
FILE_OF = {
    "source": "sources", "referrer": "sources", "utm_source": "sources", "utm_medium": "sources",
    "utm_campaign": "sources", "utm_term": "sources", "utm_content": "sources", "page": "pages",
    "entry_page": "entry_pages", "exit_page": "exit_pages", "country": "locations", "device": "devices",
    "browser": "browsers", "os": "operating_systems", "event": "custom_events", "outbound": "custom_events",
    "download": "custom_events",
}  # fmt: skip
SESSION_FILE_METRICS = {"visitors", "sessions", "pageviews", "events", "views_per_session", "bounce_rate"}
FILE_METRICS = {
    **dict.fromkeys(
        (
            "visitors",
            "sources",
            "entry_pages",
            "exit_pages",
            "locations",
            "devices",
            "browsers",
            "operating_systems",
        ),
        SESSION_FILE_METRICS,
    ),
    "pages": {"visitors", "sessions", "pageviews"},
    "custom_events": {"visitors", "events"},
}
VISITS_COLUMN = {"entry_pages": "entrances", "exit_pages": "exits"}


@st.composite
def exports(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    """Rows per file, each {"date", dimension columns…, "visitors", "visits", …} as Plausible writes."""
    files: dict[str, list[dict[str, Any]]] = {}
    days = st.integers(0, (LAST - FIRST).days).map(lambda n: FIRST + timedelta(days=n))
    counts = st.integers(0, 40)
    for kind, columns in VOCABULARY.items():
        rows = []
        for _ in range(draw(st.integers(0 if kind != "visitors" else 3, 12))):
            row: dict[str, Any] = {"date": draw(days)}
            row.update({column: draw(st.sampled_from(sorted(values))) for column, values in columns.items()})
            row.update(visitors=draw(counts), visits=draw(counts), pageviews=draw(counts), bounces=draw(counts),
                       visit_duration=draw(counts))  # fmt: skip
            rows.append(row)
        files[kind] = rows
    files["custom_events"] = [
        {"date": draw(days), "name": name, "link_url": draw(st.sampled_from(LINKS)) if "Click" in name or "File" in name
         else "", "path": "", "visitors": draw(counts), "events": draw(counts)}
        for name in draw(st.lists(st.sampled_from(EVENTS), max_size=8))
    ]  # fmt: skip
    return files


def write_export(folder: Path, files: dict[str, list[dict[str, Any]]], shuffle: random.Random) -> None:
    """The files as Plausible names and writes them, each with its columns in a random order."""
    for path in folder.glob("*.csv"):
        path.unlink()
    suffix = f"{FIRST:%Y%m%d}_{LAST:%Y%m%d}"
    for kind, rows in files.items():
        header = ["date", *VOCABULARY.get(kind, {"name": 0, "link_url": 0, "path": 0})]
        header += ["visitors", "events"] if kind == "custom_events" else [
            "visitors", VISITS_COLUMN.get(kind, "visits"), "pageviews", "bounces", "visit_duration"]  # fmt: skip
        shuffle.shuffle(header)
        with (folder / f"imported_{kind}_{suffix}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC)
            writer.writerow(header)
            for row in rows:
                written = {**row, VISITS_COLUMN.get(kind, "visits"): row.get("visits", 0)}
                writer.writerow([str(written[c]) if c == "date" else written.get(c, 0) for c in header])


# ---- the reference ------------------------------------------------------------------------------


def values_of(kind: str, row: dict[str, Any]) -> dict[str, str | None]:
    """A row's PulseGate dimension values."""
    found: dict[str, str | None] = {"project": PROJECT}
    if kind == "custom_events":
        name = row["name"]
        if name == "Outbound Link: Click":
            found["outbound"] = row["link_url"]
        elif name == "File Download":
            found["download"] = row["link_url"]
        else:
            found["event"] = name
        return found
    for column, table in VOCABULARY[kind].items():
        found[DIMENSION_OF.get(column, column)] = table[row[column]]
    return found


Chosen = tuple[str, set[str]]  # the file a question adds, and the metrics it adds to


def chosen_file(by: str | None, filters: list[Filter]) -> Chosen | None:
    """The file a question adds and its metrics, or None when it adds none. A filter on a page or
    custom event keeps rows of that one value (`==`, one value) unless the rows are of that
    dimension: a visitor of two pages is in two rows, and a negated filter needs sessions."""
    files, one_value_of_rows = set(), False
    for name in [*([by] if by else []), *(f.dimension.name for f in filters)]:
        if name == GOAL.name or (name != "project" and name not in FILE_OF):
            return None
        if name in FILE_OF:
            files.add(FILE_OF[name])
    for f in filters:
        if FILE_OF.get(f.dimension.name) in ("pages", "custom_events"):
            if f.negated:
                return None
            if f.dimension.name != by:
                if f.operator != "==" or len(f.values) != 1:
                    return None
                one_value_of_rows = True
    if len(files) > 1:
        return None
    kind = files.pop() if files else "visitors"
    usable = set(FILE_METRICS[kind])
    if one_value_of_rows:
        usable &= {"visitors", "sessions"}
    return kind, usable


def imported_sums(
    files: dict[str, list[dict[str, Any]]], kind: str, filters: list[Filter], days: list[date], by: str | None
) -> dict[Any, dict[str, int]]:
    """{value: sums} of `kind`'s rows on `days` passing `filters`, by `by` ('day', a dimension or None)."""
    sums: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in files[kind]:
        if row["date"] not in days or (kind == "custom_events" and row["name"] == "engagement"):
            continue
        values = values_of(kind, row)
        if not all(matches(f, values.get(f.dimension.name)) for f in filters):
            continue
        key = row["date"] if by == "day" else values.get(by) if by else None
        if by and by != "day" and dimension(by).scope == "event" and key is None:
            continue
        for name in ("visitors", "visits", "pageviews", "bounces", "events"):
            sums[key][name] += row.get(name, 0)
    return sums


def merged(own: dict[str, Any], sums: dict[str, int] | None, chosen: Chosen | None) -> dict[str, Any]:
    if not sums or chosen is None:
        return own
    kind, usable = chosen
    out = dict(own)
    sessions = own["sessions"] or 0
    if "visitors" in usable:
        out["visitors"] = own["visitors"] + sums["visitors"]
    if "sessions" in usable:
        out["sessions"] = sessions + sums["visits"]
    if "pageviews" in usable:
        out["pageviews"] = own["pageviews"] + sums["pageviews"]
    if "events" in usable:
        out["events"] = own["events"] + (sums["events"] if kind == "custom_events" else sums["pageviews"])
    for name, numerator, scale in (("views_per_session", "pageviews", 1), ("bounce_rate", "bounces", 100)):
        if name in usable:
            weight = (sessions if own[name] is not None else 0) + sums["visits"]
            part = own[name] * sessions if own[name] is not None else 0
            out[name] = (part + scale * sums[numerator]) / weight if weight else own[name]
    return out


def expected_breakdown(
    data: ref.Traffic, files: dict[str, list[dict[str, Any]]], filters: list[Filter], days: list[date],
    compare: str | None, by: str, metrics: list[str],
) -> dict[Any, dict[str, Any]]:  # fmt: skip
    own = ref.breakdown(data, filters, *window(compare), by)
    chosen = chosen_file(by, filters)
    if chosen is None:
        return own
    sums = imported_sums(files, chosen[0], filters, days, by)
    nothing = {m: 0 if m in ("visitors", "sessions", "pageviews", "events", "leads", "conversions") else None
               for m in metrics}  # fmt: skip
    return {value: merged(own.get(value, nothing), sums.get(value), chosen) for value in {*own, *sums}}


# ---- the tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["duckdb", "clickhouse"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient[Any], str]]:
    with ref.served_app(tmp_path_factory.mktemp("imported"), request.param) as served:
        yield served


def import_export(client: TestClient[Any], folder: Path) -> Result:
    """`pulsegate import plausible` of the export in `folder` into the served app's store."""
    settings = app_runtime(client).settings
    environ = {}
    if settings.storage.engine == "clickhouse":
        environ = clickhouse_environ(settings.clickhouse.url)
    return invoke_with(
        environ, settings.database_path, "import", "plausible", str(folder), "--project", PROJECT
    )


def test_reports_add_the_imported_days_as_the_reference_does(
    served: tuple[TestClient[Any], str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    # No shrinking: each example imports with the CLI, and the failing one is printed as it is.
    @settings(
        max_examples=ref.examples_on(served[0], 25), deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )  # fmt: skip
    @given(
        data=ref.traffic(),
        files=exports(),
        filters=st.lists(
            st.one_of(
                ref.filter_texts(),
                st.sampled_from(
                    [
                        "device==desktop",
                        "browser==Edge",
                        "os!=Mac OS X",
                        "source==X|Direct",
                        "project==initech",
                        "event==Signup",
                        "page==/|/Docs",
                        "page~blog",
                        "page!=/pricing",
                        "country~d",
                        "page==/pricing",
                        "utm_campaign==Spring Sale",
                    ]
                ),
            ),
            max_size=2,
        ),
        by=st.sampled_from(
            [
                "source",
                "referrer",
                "utm_campaign",
                "page",
                "entry_page",
                "exit_page",
                "country",
                "device",
                "browser",
                "os",
                "event",
                "outbound",
                "download",
                "project",
                "screen",
            ]
        ),
        compare=st.sampled_from([None, "previous"]),
        seed=st.integers(0, 1000),
    )
    def example(**drawn: Any) -> None:  # the drawn arguments are imported_days_add_up's, by name
        imported_days_add_up(served, tmp_path_factory, **drawn)

    example()


def imported_days_add_up(
    served: tuple[TestClient[Any], str],
    tmp_path_factory: pytest.TempPathFactory,
    data: ref.Traffic,
    files: dict[str, list[dict[str, Any]]],
    filters: list[str],
    by: str,
    compare: str | None,
    seed: int,
) -> None:
    """One example: the traffic stored, the export imported, every report asked."""
    client, _ = served
    with app_cursor(client) as cursor:
        ref.insert(cursor, data)
    folder = tmp_path_factory.mktemp("export")
    write_export(folder, files, random.Random(seed))
    done = import_export(client, folder)  # replaces the last one
    assert done.exit_code == 0, done.output
    parsed = list(with_goals(parse_filters(filters), ref.GOALS))
    extra = {"compare": compare} if compare else {}
    stored_days = sorted({row["date"] for rows in files.values() for row in rows
                          if row.get("name") != "engagement"})  # fmt: skip

    metrics = applicable(by, filters)
    answer = ask(served, "breakdown", filters, dimension=by, metrics=",".join(metrics), limit="1000", **extra)
    expected = expected_breakdown(data, files, parsed, WINDOW_DAYS, None, by, metrics)
    same_breakdown(answer, expected, metrics, by)
    kind = chosen_file(by, parsed)  # None: left out
    held = [day for day in WINDOW_DAYS if stored_days and stored_days[0] <= day <= stored_days[-1]]
    if held:
        assert answer["imported"] == ("included" if kind else "excluded"), answer["imported_note"]
        assert answer["imported_range"] == {"from": str(held[0]), "to": str(held[-1])}
    elif not compare:
        assert answer["imported"] is None
    if compare:
        earlier = expected_breakdown(data, files, parsed, EARLIER_DAYS, compare, by, metrics)
        for row in answer["rows"]:
            before = earlier.get(row["value"])
            if before is None:
                assert all(row["comparison"][m] in (0, None) for m in metrics)
            else:
                same(row["comparison"], before, metrics, f"comparison of {row['value']}")

    # The overview and the daily series add the visitors file (or the filters' file).
    totals = chosen_file(None, parsed)
    overview = ask(served, "overview", filters)
    own = ref.session_breakdown(data, parsed, *window(None), None)[None]
    sums = imported_sums(files, totals[0], parsed, WINDOW_DAYS, None).get(None) if totals else None
    want = merged(own, sums, totals)
    renamed = {"page_views": "pageviews", "average_engaged_ms": "avg_engaged_ms"}
    got = {renamed.get(key, key): value for key, value in overview["current"].items()}
    got["bounce_rate"] = got["bounce_rate"] * 100 if got["bounce_rate"] is not None else None
    same(got, want, ["sessions", "visitors", "events", "pageviews", "avg_engaged_ms", "bounce_rate", "leads"],
         "overview")  # fmt: skip

    session_metrics = applicable("source", filters)
    series = ask(served, "timeseries", filters, interval="day", metrics=",".join(session_metrics))
    by_day = ref.days(data, parsed, *window(None), "Europe/Berlin")
    daily = imported_sums(files, totals[0], parsed, WINDOW_DAYS, "day") if totals else {}
    for bucket in series["buckets"]:
        day = date.fromisoformat(bucket["start"][:10])
        want = merged(by_day.get(bucket["start"]) or ref.empty_row(), daily.get(day), totals)
        same(bucket, want, session_metrics, f"day {bucket['start']}")

    # include_imported=false: PulseGate's own numbers only.
    alone = ask(served, "breakdown", filters, dimension=by, metrics=",".join(metrics), limit="1000",
                include_imported="false")  # fmt: skip
    own_rows = ref.breakdown(data, parsed, *window(None), by)
    assert sorted(map(repr, (row["value"] for row in alone["rows"]))) == sorted(map(repr, own_rows))
    for row in alone["rows"]:
        same(row, own_rows[row["value"]], metrics, f"without imports, by {by}: {row['value']}")


def test_imported_days_are_marked_and_hours_leave_them_out(
    served: tuple[TestClient[Any], str], tmp_path: Path
) -> None:
    client, _ = served
    with app_cursor(client) as cursor:
        ref.insert(cursor, ref.Traffic(sessions=[], leads=[]))
    files = {kind: [] for kind in VOCABULARY} | {"custom_events": []}
    files["visitors"] = [{"date": day, "visitors": 5, "visits": 6, "pageviews": 9, "bounces": 2, "visit_duration": 60}
                         for day in (date(2026, 3, 4), date(2026, 3, 5))]  # fmt: skip
    write_export(tmp_path, files, random.Random(1))
    assert import_export(client, tmp_path).exit_code == 0

    overview = ask(served, "overview", [])
    assert overview["imported"] == "included"
    assert overview["imported_range"] == {"from": "2026-03-04", "to": "2026-03-05"}
    assert overview["current"]["visitors"] == 10 and overview["current"]["sessions"] == 12
    hourly = ask_alone(served, "timeseries", interval="hour", **{"from": "2026-03-04", "to": "2026-03-04"})
    assert hourly["imported"] == "excluded" and "daily" in hourly["imported_note"]
    assert sum(bucket["visitors"] for bucket in hourly["buckets"]) == 0
    weekly = ask(served, "timeseries", [], interval="week", metrics="visitors,sessions")
    assert sum(bucket["visitors"] for bucket in weekly["buckets"]) == 10
    by_language = ask(served, "breakdown", [], dimension="language")
    assert by_language["imported"] == "excluded" and "language" in by_language["imported_note"]
    mixed = ask(served, "breakdown", ["browser==Chrome"], dimension="page")
    assert mixed["imported"] == "excluded" and "together" in mixed["imported_note"]
    # The fixed reports say it too; the sources report divides leads by PulseGate's own sessions.
    assert ask_alone(served, "sessions/daily")["imported"] == "included"
    assert ask_alone(served, "geo")["imported"] == "included"
    sources = ask_alone(served, "sources")
    assert sources["imported"] == "excluded" and "leads" in sources["imported_note"]
    assert sources["sources"] == []  # no tracked sessions in this test: none of the imported ones
    off = ask(served, "overview", [], include_imported="false")
    assert off["imported"] == "excluded" and off["current"]["visitors"] == 0
    before = ask_alone(served, "overview", **{"from": "2025-01-01", "to": "2025-01-31"})
    assert before["imported"] is None and before["imported_range"] is None
    refused = ask_alone(served, "overview", status=400, include_imported="maybe")
    assert "include_imported" in refused["error"]


def ask_alone(served: tuple[TestClient[Any], str], route: str, status: int = 200, **params: str) -> Any:
    """GET a report with PARAMS, each overridden by `params`."""
    client, key = served
    response = client.get(
        f"/analytics/{route}", params={**PARAMS, **params}, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == status, response.text
    return response.json()

"""A real PostgreSQL for the Umami import tests, Umami's tables as documented, and generated rows.

The server is Debian's `postgresql` package (`.ci/run` installs it), started on a temporary data
directory and port. initdb refuses to run as root, so as root (CI) the server runs as `nobody`
in a folder it owns. The schemas follow import-formats.md section 2.2 (current Umami) and 2.7
(before 2.14: no UTM or click-id columns; before 2.18: `hostname` and `subdivision1` on
`session`; before 2.10: no `visit_id`, and event_data's columns under their first names). The
rows are random but seeded, with the documented pitfalls: NULLs, emoji, 500 character URLs,
self-referrals, rows whose UTM columns are NULL although their query has tags, custom events
with event_data of every type, link/pixel and web-vitals rows to leave out, a deleted website,
and visits that cross midnight or share their start time.
"""

from __future__ import annotations

import glob
import hashlib
import os
import random
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from tests.e2e.running_server import free_port


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL programs (the newest version), None when not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


@contextmanager
def running_postgres() -> Iterator[str]:
    """A PostgreSQL server on a fresh data directory and free port; yields its base URL
    (`postgresql://postgres@127.0.0.1:PORT`). Stopped and removed afterwards."""
    binaries = postgres_bin()
    assert binaries is not None
    folder = Path(tempfile.mkdtemp(prefix="pulsegate-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse root: run them as nobody, in its own folder
        shutil.chown(folder, "nobody", "nogroup")
        as_user = ["runuser", "-u", "nobody", "--"]
    data, port = folder / "data", free_port()
    try:
        subprocess.run([*as_user, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True)  # fmt: skip
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                        str(folder / "log"), "-w", "-t", "60", "start"], check=True, capture_output=True)  # fmt: skip
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}"
        finally:
            subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True)  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def create_database(base_url: str, name: str) -> str:
    """A new database on the server; returns its URL."""
    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}"


# ---- Umami's tables --------------------------------------------------------------------------------

WEBSITE = """
CREATE TABLE website (
    website_id uuid PRIMARY KEY, name varchar(100) NOT NULL, domain varchar(500), share_id varchar(50),
    reset_at timestamptz(6), user_id uuid, team_id uuid, created_by uuid,
    created_at timestamptz(6) DEFAULT now(), updated_at timestamptz(6), deleted_at timestamptz(6)
);
"""
CURRENT_SCHEMA = (
    WEBSITE
    + """
CREATE TABLE session (
    session_id uuid PRIMARY KEY, website_id uuid NOT NULL, browser varchar(20), os varchar(20),
    device varchar(20), screen varchar(11), language varchar(35), country char(2), region varchar(20),
    city varchar(50), distinct_id varchar(50), created_at timestamptz(6) DEFAULT now()
);
CREATE TABLE website_event (
    event_id uuid PRIMARY KEY, website_id uuid NOT NULL, session_id uuid NOT NULL, visit_id uuid NOT NULL,
    created_at timestamptz(6) DEFAULT now(), url_path varchar(500) NOT NULL, url_query varchar(500),
    utm_source varchar(255), utm_medium varchar(255), utm_campaign varchar(255), utm_content varchar(255),
    utm_term varchar(255), referrer_path varchar(500), referrer_query varchar(500),
    referrer_domain varchar(500), page_title varchar(500), gclid varchar(255), fbclid varchar(255),
    msclkid varchar(255), ttclid varchar(255), li_fat_id varchar(255), twclid varchar(255),
    event_type integer NOT NULL DEFAULT 1, event_name varchar(50), tag varchar(50), hostname varchar(100),
    lcp decimal(10, 1), inp decimal(10, 1), cls decimal(10, 4), fcp decimal(10, 1), ttfb decimal(10, 1)
);
CREATE INDEX website_event_created_at_idx ON website_event (created_at);
CREATE INDEX website_event_session_id_idx ON website_event (session_id);
CREATE INDEX website_event_visit_id_idx ON website_event (visit_id);
CREATE INDEX website_event_website_id_created_at_idx ON website_event (website_id, created_at);
CREATE INDEX website_event_website_id_visit_id_created_at_idx ON website_event (website_id, visit_id, created_at);
CREATE TABLE event_data (
    event_data_id uuid PRIMARY KEY, website_id uuid NOT NULL, website_event_id uuid NOT NULL,
    data_key varchar(500) NOT NULL, string_value varchar(500), number_value decimal(19, 4),
    date_value timestamptz(6), data_type integer NOT NULL, created_at timestamptz(6) DEFAULT now()
);
CREATE INDEX event_data_website_event_id_idx ON event_data (website_event_id);
"""
)
# Umami 2.13 (before 08_add_utm_clid and the 2.18 hostname move).
OLD_SCHEMA = (
    WEBSITE
    + """
CREATE TABLE session (
    session_id uuid PRIMARY KEY, website_id uuid NOT NULL, hostname varchar(100), browser varchar(20),
    os varchar(20), device varchar(20), screen varchar(11), language varchar(35), country char(2),
    subdivision1 varchar(20), subdivision2 varchar(50), city varchar(50), created_at timestamptz(6) DEFAULT now()
);
CREATE TABLE website_event (
    event_id uuid PRIMARY KEY, website_id uuid NOT NULL, session_id uuid NOT NULL, visit_id uuid NOT NULL,
    created_at timestamptz(6) DEFAULT now(), url_path varchar(500) NOT NULL, url_query varchar(500),
    referrer_path varchar(500), referrer_query varchar(500), referrer_domain varchar(500),
    page_title varchar(500), event_type integer NOT NULL DEFAULT 1, event_name varchar(50), tag varchar(50)
);
CREATE INDEX website_event_visit_id_idx ON website_event (visit_id);
CREATE INDEX website_event_website_id_created_at_idx ON website_event (website_id, created_at);
CREATE TABLE event_data (
    event_data_id uuid PRIMARY KEY, website_id uuid NOT NULL, website_event_id uuid NOT NULL,
    data_key varchar(500) NOT NULL, string_value varchar(500), number_value decimal(19, 4),
    date_value timestamptz(6), data_type integer NOT NULL, created_at timestamptz(6) DEFAULT now()
);
"""
)
# Umami 2.9 (before 05_add_visit_id, 2.10: no visit_id; and before 2.11 renamed event_data's
# columns: its own id was `event_id`, the key and values `event_key`, `event_string_value`, ...).
PRE_2_10_SCHEMA = (
    WEBSITE
    + """
CREATE TABLE session (
    session_id uuid PRIMARY KEY, website_id uuid NOT NULL, hostname varchar(100), browser varchar(20),
    os varchar(20), device varchar(20), screen varchar(11), language varchar(35), country char(2),
    subdivision1 varchar(20), subdivision2 varchar(50), city varchar(50), created_at timestamptz(6) DEFAULT now()
);
CREATE TABLE website_event (
    event_id uuid PRIMARY KEY, website_id uuid NOT NULL, session_id uuid NOT NULL,
    created_at timestamptz(6) DEFAULT now(), url_path varchar(500) NOT NULL, url_query varchar(500),
    referrer_path varchar(500), referrer_query varchar(500), referrer_domain varchar(500),
    page_title varchar(500), event_type integer NOT NULL DEFAULT 1, event_name varchar(50)
);
CREATE INDEX website_event_created_at_idx ON website_event (created_at);
CREATE INDEX website_event_session_id_idx ON website_event (session_id);
CREATE INDEX website_event_website_id_created_at_idx ON website_event (website_id, created_at);
CREATE TABLE event_data (
    event_id uuid PRIMARY KEY, website_event_id uuid NOT NULL, website_id uuid NOT NULL,
    event_key varchar(500) NOT NULL, event_string_value varchar(500), event_numeric_value decimal(19, 4),
    event_date_value timestamptz(6), event_data_type integer NOT NULL, created_at timestamptz(6) DEFAULT now()
);
"""
)
# Columns of an older schema, by table, and the generated rows' names for them.
OLD_NAMES = {
    "event_data": {"event_id": "event_data_id", "event_key": "data_key", "event_string_value": "string_value",
                   "event_numeric_value": "number_value", "event_date_value": "date_value",
                   "event_data_type": "data_type"},
}  # fmt: skip

# ---- generated rows ----------------------------------------------------------------------------------

START = datetime(2025, 3, 1, tzinfo=UTC)
DAYS = 6
LONG_PATH = "/long/" + "ü" * 10 + "x" * 484  # 500 characters, Umami's limit
PATHS = ("/", "/pricing", "/blog/emoji-🚀-post", "", "/docs#install", LONG_PATH, "/Docs/")
QUERIES = (None, None, "utm_source=newsletter&utm_medium=email&utm_campaign=spring%20sale", "q=1",
           "utm_source=google&utm_medium=cpc&utm_term=caf%C3%A9")  # fmt: skip
REFERRERS = (None, None, "google.com", "news.ycombinator.com", "reddit.com", "t.co", "other-site.net", "SELF")
TITLES = (None, "Home", "Émoji 🎉 title", "Pricing, plans")
BROWSERS = ("chrome", "ios", "firefox", "edge-chromium", "samsung", None, "crios")
SYSTEMS = ("Windows 10", "Mac OS", "iOS", "Android OS", "Linux", None)
DEVICES = ("desktop", "laptop", "mobile", "tablet", "smarttv", None)
SCREENS = ("1920x1080", "390x844", None, "800x1280", "junk")
LANGUAGES = ("en-US", "de", None, "fr-FR")
COUNTRIES = ("DE", "US", None, "CH")
EVENT_NAMES = ("signup", "download", "🎉 party")


@dataclass
class UmamiData:
    """Rows of the four tables, as dicts by column (only columns the schema has are inserted)."""

    websites: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    event_data: list[dict[str, Any]] = field(default_factory=list)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate(
    seed: int, *, website_id: str, domain: str | None, hostname: str | None, sessions: int, old: bool
) -> UmamiData:
    """A website's random traffic. `old`: rows of an old Umami (no UTM columns)."""
    rng = random.Random(seed)
    data = UmamiData()
    data.websites.append({"website_id": website_id, "name": f"Site {seed} ✨", "domain": domain,
                          "created_at": START - timedelta(days=30)})  # fmt: skip
    self_host = hostname or domain
    # UTM columns arrived in Umami 2.14: rows recorded before it have them NULL (query still tagged).
    utm_columns_from = START + timedelta(days=2)
    shared_start = START + timedelta(days=1, hours=5, minutes=7)
    for n in range(sessions):
        session_id = _uuid(rng)
        device = rng.choice(DEVICES)
        data.sessions.append({
            "session_id": session_id, "website_id": website_id, "browser": rng.choice(BROWSERS),
            "os": rng.choice(SYSTEMS), "device": device, "screen": rng.choice(SCREENS),
            "language": rng.choice(LANGUAGES), "country": rng.choice(COUNTRIES), "hostname": hostname,
            "created_at": START,
        })  # fmt: skip
        for v in range(rng.randint(1, 3)):
            visit_id = _uuid(rng)
            if n < 2 and v == 0:
                at = shared_start  # two visits start at the same instant: ordered by id
            elif n == 2 and v == 0:
                at = START + timedelta(days=2, hours=23, minutes=50)  # runs past midnight
            else:
                at = START + timedelta(
                    seconds=rng.randint(0, DAYS * 86400 - 3600), microseconds=rng.randint(0, 999_999)
                )
            for e in range(rng.randint(1, 7) if n != 2 else 6):
                event_type = 1 if e == 0 and rng.random() < 0.9 else rng.choice((1, 1, 2))
                path = rng.choice(PATHS)
                query = rng.choice(QUERIES) if e == 0 else None
                referrer = rng.choice(REFERRERS) if e == 0 else "SELF"
                event = {
                    "event_id": _uuid(rng), "website_id": website_id, "session_id": session_id,
                    "visit_id": visit_id, "created_at": at, "url_path": path, "url_query": query,
                    "referrer_domain": self_host if referrer == "SELF" else referrer,
                    "referrer_path": "/search" if referrer and referrer != "SELF" else "/",
                    "referrer_query": "q=émoji" if referrer == "google.com" else None,
                    "page_title": rng.choice(TITLES), "event_type": event_type,
                    "event_name": rng.choice(EVENT_NAMES) if event_type == 2 else None,
                    "hostname": hostname,
                }  # fmt: skip
                if not old and query and at >= utm_columns_from:
                    from urllib.parse import parse_qs

                    parsed = parse_qs(query)
                    for key in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"):
                        event[key] = parsed[key][0] if key in parsed else None
                data.events.append(event)
                if event_type == 2 and rng.random() < 0.8:
                    for key, string, number, kind in rng.sample(
                        [("plan", rng.choice(("pro", "free", "ünï")), None, 1),
                         ("cart.total", "19.9000", Decimal("19.9000"), 2), ("seats", "2.0000", Decimal(2), 2),
                         ("trial", rng.choice(("true", "false")), None, 3),
                         ("signed_up_at", "2025-02-28T12:00:00.000Z", None, 4)],
                        rng.randint(1, 5),
                    ):  # fmt: skip
                        data.event_data.append({
                            "event_data_id": _uuid(rng), "website_id": website_id,
                            "website_event_id": event["event_id"], "data_key": key, "string_value": string,
                            "number_value": number, "data_type": kind, "created_at": at,
                        })  # fmt: skip
                at += timedelta(seconds=rng.randint(1, 600) if n != 2 else 240)
    # Rows the import must leave out: web vitals of a real visit, link clicks under a link id,
    # and a visit still going on (it starts in the future here, so after any import's cut-off).
    some = data.events[0]
    data.events.append({**some, "event_id": _uuid(rng), "event_type": 5, "created_at": some["created_at"]})
    data.events.append({**some, "event_id": _uuid(rng), "event_type": 3, "website_id": _uuid(rng)})
    data.events.append({**some, "event_id": _uuid(rng), "visit_id": _uuid(rng),
                        "created_at": datetime.now(UTC) + timedelta(hours=3)})  # fmt: skip
    return data


def hourly_visit_id(session_id: str, at: datetime) -> str:
    """The visit of a row of an Umami before 2.10 (no visit_id): its session's clock hour (UTC),
    named as md5(session_id || the hour as PostgreSQL writes it) made a uuid."""
    hour = at.astimezone(UTC).strftime("%Y-%m-%d %H:00:00+00")
    return str(uuid.UUID(hashlib.md5(f"{session_id}{hour}".encode()).hexdigest()))


def by_clock_hour(data: UmamiData) -> UmamiData:
    """The rows with each event's visit made its session's clock hour, as before Umami 2.10."""
    events = [{**event, "visit_id": hourly_visit_id(event["session_id"], event["created_at"])}
              for event in data.events]  # fmt: skip
    return replace(data, events=events)


def load(url: str, schema: str, parts: list[UmamiData]) -> None:
    """Create Umami's tables at `url` and insert the rows (columns the schema lacks are dropped)."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(schema)
        for table, attribute in (("website", "websites"), ("session", "sessions"),
                                 ("website_event", "events"), ("event_data", "event_data")):  # fmt: skip
            columns = [
                row[0]
                for row in connection.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table]
                ).fetchall()
            ]
            rows = [row for data in parts for row in getattr(data, attribute)]
            if not rows:
                continue
            names = {column: OLD_NAMES.get(table, {}).get(column, column) for column in columns}
            used = [c for c in columns if any(names[c] in row for row in rows)]
            with connection.cursor().copy(f"COPY {table} ({', '.join(used)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row.get(names[column]) for column in used])
        connection.execute("ANALYZE")  # a live Umami has statistics: the planner uses its indexes


def fingerprint(url: str) -> str:
    """A digest of every Umami table's rows: equal before and after an import that wrote nothing."""
    with psycopg.connect(url) as connection:
        digests = [
            connection.execute(f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t")
            .fetchall()[0][0]
            for table in ("website", "session", "website_event", "event_data")
        ]  # fmt: skip
    return ",".join(digests)

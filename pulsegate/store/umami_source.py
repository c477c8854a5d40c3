"""Reading a live Umami database (PostgreSQL), read-only, a window of time at a time.

psycopg 3 speaks to it: the connection sets `default_transaction_read_only` (PostgreSQL then
refuses any write, whatever a query says) and `TimeZone = UTC`. Umami's schema changed over its
versions (import-formats.md section 2.7), so the columns that exist are read from
`information_schema.columns` first and a missing one reads as NULL: no `utm_*` before 2.14,
`hostname` on `session` before 2.18, no `visit_id` before 2.10 (visits are then what Umami's own
migration made of them: one per session and clock hour, and the windows below start and end on
whole hours, so no visit is split between two).

Rows come in the order visits are imported, (visit start, visit id, time), a day of visit starts
per query: the visits that have an event in the day (Umami's index on website_id, created_at),
kept when their first event is in it, then all their events (its index on visit_id) with their
session and event_data. Each day is its own short read-only transaction and a server-side
cursor streams it, so neither side holds more than a day's sort and the client a few thousand
rows; a long import does not hold one snapshot (and Umami's vacuum) for hours.

Errors come out as one line without the URL's password (libpq's messages can quote the URL or
pieces of it: `scrubbed`): InvalidInput for a URL, server or schema an import cannot use,
UmamiUnavailable (exit code 1) when reading fails midway.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from pulsegate.domain.umami import CUSTOM_EVENT, PAGEVIEW, ResumePoint, UmamiRow, UmamiWebsite
from pulsegate.errors import InvalidInput, PulseGateError, UnknownId

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WINDOW = timedelta(days=1)
FETCH_ROWS = 2000  # rows per round trip of the server-side cursor
CONNECT_TIMEOUT_SECONDS = 10
TABLES = ("website", "session", "website_event", "event_data")
# Optional columns, by table: read when present, NULL otherwise.
EVENT_COLUMNS = (
    "url_query", "hostname", "page_title", "referrer_domain", "referrer_path", "referrer_query",
    "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "event_name",
)  # fmt: skip
SESSION_COLUMNS = ("browser", "os", "device", "screen", "language", "country", "hostname")
MIN_PASSWORD_PIECE = 3  # shorter pieces of a password (split at a `/` or `@`) stay in messages
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{0,30})://")
_URL_SEPARATORS = re.compile(r"[@/:?&=#,%\[\]\s\x00-\x1f]+")
# event_data's columns before Umami 2.11 renamed them, and now.
EVENT_DATA_NAMES = {
    "event_id": ("website_event_id", "event_id"),
    "key": ("data_key", "event_key"),
    "string": ("string_value", "event_string_value"),
    "number": ("number_value", "event_numeric_value"),
    "type": ("data_type", "event_data_type"),
}


def us_of(moment: datetime) -> int:
    """Epoch microseconds of an aware datetime."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def moment_of(epoch_us: int) -> datetime:
    """The aware UTC datetime of epoch microseconds."""
    return EPOCH + timedelta(microseconds=epoch_us)


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC clock hour `moment` is in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def url_scheme(url: str) -> str | None:
    """The scheme a URL names (`mysql`), None when the text does not start with one."""
    found = _SCHEME.match(url)
    return found.group(1) if found else None


def password_parts(url: str) -> list[str]:
    """Every text of a connection URL that is its password or a piece of it, longest first: the
    password as written and percent-decoded, with the user info ended at each `@` (libpq ends it
    at the first, a person means the last), a `password=` query parameter, and the pieces of
    `MIN_PASSWORD_PIECE` characters or more between the characters libpq splits a URL at (an
    unescaped `/` or `@` in a password brings pieces of it into libpq's messages and into the
    host, port or database it reads)."""
    rest = url.partition("://")[2] if "://" in url else url
    whole: set[str] = set()
    for at in (n for n, char in enumerate(rest) if char == "@"):
        user_info = rest[:at]
        if ":" in user_info:
            whole.add(user_info.split(":", 1)[1])
    whole.update(re.findall(r"(?:^|&)password=([^&]*)", rest.partition("?")[2]))
    whole.update([unquote(text, errors="replace") for text in whole])
    pieces = {
        piece for text in whole for piece in _URL_SEPARATORS.split(text) if len(piece) >= MIN_PASSWORD_PIECE
    }
    return sorted((text for text in whole | pieces if text), key=len, reverse=True)


def scrubbed(text: str, url: str) -> str:
    """`text` (libpq's message, a description of the database) on one line, with the URL's
    password and its parts as `***`."""
    for part in password_parts(url):
        text = text.replace(part, "***")
    return " ".join(text.split())


def described(url: str) -> str:
    """The database a connection string names, without its password: `host:port/dbname`."""
    try:
        parts = conninfo_to_dict(url)
    except (psycopg.Error, ValueError):  # libpq refuses it; UnicodeEncodeError: not UTF-8 text
        return "the --from connection string"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return scrubbed(f"{host}:{port}/{parts.get('dbname') or parts.get('user') or ''}", url)


class UmamiUnavailable(PulseGateError):
    """The Umami database failed while it was being read (a lost connection, a server error)."""

    status_code = 503


class UmamiSource:
    """One read-only connection to an Umami database and the columns its version has."""

    def __init__(self, url: str) -> None:
        if not url.startswith(("postgresql://", "postgres://")):
            # Never the URL itself: it may hold a password (only the scheme is shown).
            scheme = url_scheme(url)
            got = f"a {scheme}:// URL" if scheme else "no URL scheme"
            raise InvalidInput(f"--from: a postgresql:// URL of the Umami database (got {got})")
        self._url = url
        self._where = where = described(url)
        try:
            params: dict[str, Any] = {}
            if "connect_timeout" not in conninfo_to_dict(url):
                params["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
            self._connection = psycopg.connect(url, autocommit=True, **params)
        except psycopg.Error as exc:
            # libpq's message can quote the URL, or pieces of it (scrubbed: one line, no password).
            reason = self._scrubbed(exc)
            raise InvalidInput(f"--from: cannot connect to PostgreSQL at {where}: {reason}") from None
        except ValueError:  # UnicodeEncodeError: bytes that are not UTF-8 in the URL
            raise InvalidInput("--from: the connection URL is not valid UTF-8 text") from None
        try:
            with self._reading():
                self._connection.execute("SET default_transaction_read_only = on")
                self._connection.execute("SET TimeZone = 'UTC'")
                self._connection.autocommit = False
                self._connection.read_only = True
                self.columns = self._columns()
        except BaseException:
            self._connection.close()
            raise
        missing = [table for table in ("website", "website_event") if table not in self.columns]
        if missing:
            self.close()
            raise InvalidInput(
                f"--from: {where} has no Umami tables ({', '.join(missing)} missing in schema "
                "search_path): is it Umami 2 or later on PostgreSQL?"
            )

    def _scrubbed(self, exc: BaseException) -> str:
        return scrubbed(str(exc), self._url)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """psycopg's errors while reading as one line without the password: InvalidInput when
        the role or the schema is not what an import needs (exit code 2), else UmamiUnavailable."""
        try:
            yield
        except psycopg.errors.InsufficientPrivilege as exc:
            raise InvalidInput(
                f"--from: the role may not read Umami's tables at {self._where} (grant it SELECT): "
                f"{self._scrubbed(exc)}"
            ) from None
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as exc:
            raise InvalidInput(
                f"--from: {self._where} does not have Umami's schema: {self._scrubbed(exc)}"
            ) from None
        except psycopg.Error as exc:
            raise UmamiUnavailable(
                f"reading the Umami database at {self._where} failed: {self._scrubbed(exc)} "
                "(what was imported is kept: run the same command again to continue)"
            ) from None

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> UmamiSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _columns(self) -> dict[str, set[str]]:
        with self._connection.transaction():
            found = self._connection.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = ANY(%s)",
                [list(TABLES)],
            ).fetchall()
        columns: dict[str, set[str]] = {}
        for table, column in found:
            columns.setdefault(table, set()).add(column)
        return columns

    def _has(self, table: str, column: str) -> bool:
        return column in self.columns.get(table, set())

    def websites(self) -> list[UmamiWebsite]:
        """Every website, deleted ones too (`deleted`), by name."""
        deleted = sql.SQL("deleted_at IS NOT NULL" if self._has("website", "deleted_at") else "false")
        reset = sql.SQL("reset_at" if self._has("website", "reset_at") else "NULL::timestamptz")
        domain = sql.SQL("domain" if self._has("website", "domain") else "NULL::text")
        query = sql.SQL(
            "SELECT website_id::text, name, {domain}, {deleted}, {reset} FROM website "
            "ORDER BY name, website_id"
        ).format(domain=domain, deleted=deleted, reset=reset)
        with self._reading(), self._connection.transaction():
            rows = self._connection.execute(query).fetchall()
        return [
            UmamiWebsite(
                str(website_id), name or "", domain, bool(gone), us_of(reset_at) if reset_at else None
            )
            for website_id, name, domain, gone, reset_at in rows
        ]

    def website(self, website_id: str) -> UmamiWebsite:
        """One website by id (deleted or not); UnknownId when there is none."""
        for website in self.websites():
            if website.website_id == website_id.lower():
                return website
        raise UnknownId(f"--website: no website {website_id} in the Umami database")

    def count_rows(self, website_id: str, start_us: int | None, until_us: int) -> int:
        """How many page views and custom events the website has in [start, until) (for the
        progress bar: visits that cross the ends make the real number differ a little)."""
        with self._reading(), self._connection.transaction():
            (count,) = self._connection.execute(
                "SELECT count(*) FROM website_event WHERE website_id = %s AND event_type IN (%s, %s) "
                "AND created_at >= %s AND created_at < %s",
                [
                    uuid.UUID(website_id),
                    PAGEVIEW,
                    CUSTOM_EVENT,
                    moment_of(start_us or 0),
                    moment_of(until_us),
                ],
            ).fetchall()[0]
        return int(count)

    def rows(
        self, website: UmamiWebsite, start_us: int | None, after: ResumePoint | None, until_us: int
    ) -> Iterator[UmamiRow]:
        """The website's rows of the visits that start in [start, until) and come after `after`,
        in (visit start, visit id, time) order, streamed a day of visit starts at a time.

        Without `visit_id` (before Umami 2.10) a visit is a session's clock hour, so the windows
        start and end on whole hours (a visit never lies in two of them, which would make two
        sessions of one id) and `until` is taken down to its hour (an hour not over waits)."""
        website_id = uuid.UUID(website.website_id)
        hourly = not self._has("website_event", "visit_id")
        begin = moment_of(max(start_us or 0, after.started_us if after else 0))
        after_moment = moment_of(after.started_us) if after else moment_of(0)
        after_visit = uuid.UUID(after.visit_id) if after else uuid.UUID(int=0)
        query = self._rows_query()
        window_start = begin
        until = hour_of(moment_of(until_us)) if hourly else moment_of(until_us)
        with self._reading():
            while window_start < until:
                with self._connection.transaction():
                    (next_event,) = self._connection.execute(
                        "SELECT min(created_at) FROM website_event WHERE website_id = %s "
                        "AND event_type IN (%s, %s) AND created_at >= %s AND created_at < %s",
                        [website_id, PAGEVIEW, CUSTOM_EVENT, window_start, until],
                    ).fetchall()[0]
                if next_event is None:
                    return
                window_start = hour_of(next_event) if hourly else next_event
                window_end = min(window_start + WINDOW, until)
                params = {
                    "website": website_id, "pageview": PAGEVIEW, "custom": CUSTOM_EVENT,
                    "start": window_start, "end": window_end, "begin": begin, "after": after_moment,
                    "after_visit": after_visit,
                }  # fmt: skip
                with self._connection.transaction(), self._connection.cursor(name="umami_rows") as cursor:
                    cursor.itersize = FETCH_ROWS
                    cursor.execute(query, params)
                    for row in cursor:
                        yield _row(row)
                window_start = window_end

    def _rows_query(self) -> sql.Composed:
        def event_column(name: str) -> sql.Composable:
            if name == "hostname" and self._has("website_event", name) and self._has("session", name):
                return sql.SQL("coalesce(e.hostname, s.hostname)")
            if self._has("website_event", name):
                return sql.SQL("e.{}").format(sql.Identifier(name))
            if name == "hostname" and self._has("session", "hostname"):
                return sql.SQL("s.hostname")  # before Umami 2.18 the host was the session's
            return sql.SQL("NULL::text")

        def session_column(name: str) -> sql.Composable:
            if self._has("session", name):
                return sql.SQL("s.{}").format(sql.Identifier(name))
            return sql.SQL("NULL::text")

        if self._has("website_event", "visit_id"):
            visit = sql.SQL("e.visit_id")
            # Every event of a visit that starts in the window, wherever its time (one without a
            # time, which Umami's schema allows, has no place in a session).
            bounded = sql.SQL("AND e.created_at IS NOT NULL")
        else:
            # Umami's migration 2.10 made one visit per session and clock hour: a visit lies in its
            # hour, and so in one window (these start and end on whole hours): its events are
            # those of the window.
            visit = sql.SQL("md5(e.session_id::text || date_trunc('hour', e.created_at)::text)::uuid")
            bounded = sql.SQL("AND e.created_at >= %(start)s AND e.created_at < %(end)s")
        data = self._event_data()
        columns = sql.SQL(", ").join(event_column(name) for name in EVENT_COLUMNS[:11])
        session_columns = sql.SQL(", ").join(session_column(name) for name in SESSION_COLUMNS[:-1])
        join_session = (
            sql.SQL("LEFT JOIN session s ON s.session_id = e.session_id")
            if "session" in self.columns
            else sql.SQL("LEFT JOIN (SELECT NULL::uuid AS session_id) s ON false")
        )
        return sql.SQL(
            """
            WITH candidates AS MATERIALIZED (
                SELECT DISTINCT {visit} AS visit_id FROM website_event e
                WHERE e.website_id = %(website)s AND e.event_type IN (%(pageview)s, %(custom)s)
                  AND e.created_at >= %(start)s AND e.created_at < %(end)s
            ), visits AS MATERIALIZED (
                SELECT c.visit_id, min(e.created_at) AS started_at
                FROM candidates c
                JOIN website_event e ON {visit} = c.visit_id AND e.website_id = %(website)s
                WHERE e.event_type IN (%(pageview)s, %(custom)s) {bounded}
                GROUP BY c.visit_id
                HAVING min(e.created_at) >= %(start)s AND min(e.created_at) >= %(begin)s
                   AND (min(e.created_at), c.visit_id) > (%(after)s, %(after_visit)s)
            )
            SELECT v.visit_id::text, e.session_id::text, e.created_at, e.event_type, e.url_path, {columns},
                   {event_name}, {data}, {session_columns}
            FROM visits v
            JOIN website_event e ON {visit} = v.visit_id AND e.website_id = %(website)s
            {join_session}
            WHERE e.event_type IN (%(pageview)s, %(custom)s) {bounded}
            ORDER BY v.started_at, v.visit_id, e.created_at, e.event_id
            """
        ).format(
            visit=visit, bounded=bounded, columns=columns, event_name=event_column("event_name"), data=data,
            session_columns=session_columns, join_session=join_session,
        )  # fmt: skip

    def _event_data(self) -> sql.Composable:
        """A custom event's event_data rows as a JSON array of [key, text, number, type]."""
        if "event_data" not in self.columns:
            return sql.SQL("NULL::json")
        names = {}
        for role, choices in EVENT_DATA_NAMES.items():
            present = [name for name in choices if self._has("event_data", name)]
            if not present:
                return sql.SQL("NULL::json")
            names[role] = sql.Identifier(present[0])
        return sql.SQL(
            "CASE WHEN e.event_type = %(custom)s THEN (SELECT json_agg(json_build_array("
            "d.{key}, d.{string}, d.{number}, d.{type}) ORDER BY d.{key}) FROM event_data d "
            "WHERE d.{event_id} = e.event_id) END"
        ).format(**names)


def _row(row: tuple[Any, ...]) -> UmamiRow:
    (visit_id, session_id, created_at, event_type, url_path, url_query, hostname, page_title,
     referrer_domain, referrer_path, referrer_query, utm_source, utm_medium, utm_campaign, utm_content,
     utm_term, event_name, data, browser, os, device, screen, language, country) = row  # fmt: skip
    return UmamiRow(
        visit_id=visit_id,
        session_id=session_id,
        created_us=us_of(created_at),
        event_type=event_type,
        url_path=url_path,
        url_query=url_query,
        hostname=hostname,
        page_title=page_title,
        referrer_domain=referrer_domain,
        referrer_path=referrer_path,
        referrer_query=referrer_query,
        utm_source=utm_source,
        utm_medium=utm_medium,
        utm_campaign=utm_campaign,
        utm_content=utm_content,
        utm_term=utm_term,
        event_name=event_name,
        data=[tuple(item) for item in data] if data else None,  # type: ignore[misc]
        browser=browser,
        os=os,
        device=device,
        screen=screen,
        language=language,
        country=country,
    )

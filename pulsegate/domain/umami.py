"""Umami's rows as PulseGate sessions and events: one session per Umami visit, pure rules.

How a visit becomes a session (`session_of_visit`):

- An Umami visit (`visit_id`: one per Umami session and clock hour, or per 30 minutes of the
  tracker's cache token) becomes one ended PulseGate session whose id is `umami-<visit id>`, so
  the same visit always gives the same id and a second import of it is recognised and skipped.
  The visitor is `umami-<Umami session id>`: Umami's own "visitor", which its salt renews every
  month (or day/week), so a person coming back next month is a new visitor, as in Umami.
- Page views (event_type 1) become `pageview` events, custom events (2) `custom` events named as
  in Umami, with their `event_data` as properties (numbers as numbers, booleans as booleans,
  dates and arrays as their text). Link clicks, pixel hits and web vitals (3, 4, 5) are not
  website traffic and are never read.
- The session's origin is its landing event's (the first page view, else the first event):
  UTM fields (from the columns, else parsed from the stored query string: rows from before Umami
  2.14 have no UTM columns), the referrer and the source named as native tracking names it
  (`domain/sources.traffic_source`); a referrer on the page's own host or the website's domain is
  a self-referral and counts as Direct, as Umami hides it too.
- Country, language and screen come from Umami's `session` row; browser and OS names are mapped
  from detect-browser's (`chrome`, `Mac OS`) to the ua-parser families native tracking stores
  (`Chrome`, `Mac OS X`); devices to desktop (Umami's `laptop` too), mobile, tablet or unknown.
- Summary: page views, events, interactions (custom events), entry and exit pages and the
  duration from the first to the last event. What Umami never records cannot be rebuilt:
  engaged time, scroll depth and so the engagement score stay empty (NULL), and the reports
  leave imported sessions out of those averages; bounce (one page view or none) is counted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from pulsegate.domain.sources import host_of, traffic_source, utm_from_url
from pulsegate.domain.tracking import PROJECT_PATTERN, clean_props

PAGEVIEW, CUSTOM_EVENT = 1, 2  # Umami's event_type values that are website traffic
MAX_UTM_CHARS = 256  # as native tracking keeps them
# The size of one batch of visits as JSON: a batch goes over the control socket, which takes
# requests up to 1 MiB (control/protocol.MAX_REQUEST_BYTES), with room for the other arguments.
MAX_BATCH_BYTES = 900_000
MAX_BATCH_VISITS = 500

# detect-browser's names (what Umami stores) -> ua-parser's families (what native tracking stores).
BROWSERS = {
    "chrome": "Chrome", "crios": "Chrome Mobile iOS", "chromium-webview": "Chrome Mobile WebView",
    "firefox": "Firefox", "fxios": "Firefox iOS", "safari": "Safari", "ios": "Mobile Safari",
    "ios-webview": "Mobile Safari UI/WKWebView", "edge-chromium": "Edge", "edge": "Edge",
    "edge-ios": "Edge Mobile", "opera": "Opera", "opera-mini": "Opera Mini", "samsung": "Samsung Internet",
    "yandexbrowser": "Yandex Browser", "ie": "IE", "android": "Android", "facebook": "Facebook",
    "instagram": "Instagram", "silk": "Amazon Silk", "miui": "MiuiBrowser", "kakaotalk": "KakaoTalk",
    "bb10": "BlackBerry WebKit", "aol": "AOL", "beaker": "Beaker", "pie": "Pocket Internet Explorer",
    "netfront": "NetFront", "phantomjs": "PhantomJS", "curl": "curl", "searchbot": None,
}  # fmt: skip
# ua-parser tells the phone builds of these apart; detect-browser does not, Umami's device does.
MOBILE_BROWSERS = {"Chrome": "Chrome Mobile", "Firefox": "Firefox Mobile"}
OPERATING_SYSTEMS = {
    "Mac OS": "Mac OS X", "iOS": "iOS", "Android OS": "Android", "Linux": "Linux", "Chrome OS": "Chrome OS",
    "BlackBerry OS": "BlackBerry OS", "Windows Mobile": "Windows Phone", "Amazon OS": "Android",
    "Open BSD": "OpenBSD", "Sun OS": "Solaris", "QNX": "QNX", "BeOS": "BeOS", "OS/2": "OS/2",
    "Search Bot": None,
}  # fmt: skip
DEVICES = {"desktop": "desktop", "laptop": "desktop", "mobile": "mobile", "tablet": "tablet"}
_SCREEN = re.compile(r"^(\d{1,6})x(\d{1,6})$")
_NOT_IN_PROJECT_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class UmamiWebsite:
    """A row of Umami's `website` table."""

    website_id: str
    name: str
    domain: str | None
    deleted: bool = False
    reset_us: int | None = None  # reset_at, epoch µs: Umami deleted (and hides) what came before


@dataclass(frozen=True, slots=True)
class UmamiRow:
    """One website_event row (type 1 or 2) with its session's columns and its event_data."""

    visit_id: str
    session_id: str
    created_us: int  # epoch microseconds, UTC
    event_type: int
    url_path: str | None
    url_query: str | None
    hostname: str | None  # the event's, or the session's before Umami 2.18
    page_title: str | None
    referrer_domain: str | None
    referrer_path: str | None
    referrer_query: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    event_name: str | None
    # event_data rows: (data_key, string_value, number_value, data_type)
    data: Sequence[tuple[str, str | None, float | int | None, int | None]] | None
    browser: str | None
    os: str | None
    device: str | None
    screen: str | None
    language: str | None
    country: str | None


class ImportedEvent(msgspec.Struct, array_like=True, frozen=True):
    """A native event made from an Umami row (a list in JSON: batches cross the control socket)."""

    at_us: int
    type: str  # pageview or custom
    name: str | None
    url: str
    title: str | None
    referrer: str | None
    props: str | None  # a JSON object, as the events table keeps it


class ImportedSession(msgspec.Struct, array_like=True, frozen=True):
    """A native, ended session made from one Umami visit, with its events in time order."""

    session_id: str
    visitor_id: str
    started_us: int
    last_us: int
    entry_url: str
    exit_url: str | None  # the last page view's URL (None without page views, as native)
    referrer: str | None
    title: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    screen_width: int | None
    screen_height: int | None
    language: str | None
    source: str
    referrer_host: str | None
    country: str | None
    browser: str | None
    os: str | None
    device: str
    page_views: int
    interactions: int
    events: list[ImportedEvent]


class ResumePoint(msgspec.Struct, frozen=True, order=True):
    """The last visit an import wrote, in the order visits are read: (first event's time, visit id)."""

    started_us: int
    visit_id: str


@dataclass(frozen=True, slots=True)
class VisitBatch:
    """Visits to write at once, where the import stands after them, and what they came from."""

    sessions: list[ImportedSession]
    resume: ResumePoint
    rows: int  # Umami rows read for these visits
    dropped_rows: int  # rows of visits too large for one batch, left out (the latest of each)


def session_id_of(visit_id: str) -> str:
    """The native session id of an Umami visit (deterministic: a rerun recognises it)."""
    return f"umami-{visit_id}"


def visitor_id_of(umami_session_id: str) -> str:
    """The native visitor id of an Umami session (Umami's visitor, renewed by its salt)."""
    return f"umami-{umami_session_id}"


def project_name(website: UmamiWebsite) -> str:
    """A valid project name for a website: its domain, else its name made valid, else
    `umami-` and the start of its id (domain/tracking.PROJECT_PATTERN)."""
    candidates = []
    if website.domain and website.domain.strip():
        domain = website.domain.strip()
        candidates.append(host_of(domain if "://" in domain else f"https://{domain}") or "")
    candidates.append(_NOT_IN_PROJECT_NAME.sub("-", website.name or "").strip("-._")[:64].rstrip("-._"))
    for candidate in candidates:
        if candidate and re.fullmatch(PROJECT_PATTERN, candidate):
            return candidate
    return f"umami-{website.website_id[:8]}"


def website_host(website: UmamiWebsite) -> str | None:
    """The website's configured domain as a host (lower case, without www.)."""
    if not website.domain or not website.domain.strip():
        return None
    domain = website.domain.strip()
    return host_of(domain if "://" in domain else f"https://{domain}")


def page_url(host: str | None, url_path: str | None, url_query: str | None) -> str:
    """The page's URL from Umami's parts: the query goes before a #fragment (kept in url_path
    since Umami 2.19); an empty path (Umami's `/undefined`) is the root."""
    path, has_fragment, fragment = (url_path or "/").partition("#")
    if not path.startswith("/"):
        path = "/" + path
    query = f"?{url_query}" if url_query else ""
    tail = f"#{fragment}" if has_fragment else ""
    return f"https://{host}{path}{query}{tail}" if host else f"{path}{query}{tail}"


def referrer_url(domain: str | None, path: str | None, query: str | None) -> str | None:
    """The referrer's URL from Umami's parts, None without a referrer domain."""
    if not domain or not domain.strip():
        return None
    path = path or ""
    if path and not path.startswith("/"):
        path = "/" + path
    return f"https://{domain.strip()}{path}" + (f"?{query}" if query else "")


def browser_name(browser: str | None, device: str | None) -> str | None:
    """ua-parser's family for detect-browser's name (unknown names as they are)."""
    if not browser:
        return None
    name = BROWSERS.get(browser.lower(), browser)
    if name is not None and device_class(device) == "mobile":
        name = MOBILE_BROWSERS.get(name, name)
    return name


def os_name(os: str | None) -> str | None:
    """ua-parser's family for detect-browser's OS (`Windows 10` and every other Windows: `Windows`)."""
    if not os:
        return None
    if os.startswith("Windows") and os != "Windows Mobile":
        return "Windows"
    return OPERATING_SYSTEMS.get(os, os)


def device_class(device: str | None) -> str:
    """Native tracking's device class: desktop (Umami's laptop too), mobile, tablet or unknown."""
    return DEVICES.get((device or "").lower(), "unknown")


def screen_size(screen: str | None) -> tuple[int | None, int | None]:
    """(width, height) of Umami's `1920x1080`, (None, None) when it is not one."""
    found = _SCREEN.match(screen or "")
    if found is None:
        return None, None
    width, height = int(found.group(1)), int(found.group(2))
    if width > 100_000 or height > 100_000:
        return None, None
    return width, height


def event_props(data: Sequence[tuple[str, str | None, float | int | None, int | None]] | None) -> str | None:
    """A custom event's event_data as the events table's JSON object, under native tracking's
    limits (`clean_props`: 30 keys, keys of 1-64 characters). Numbers (data_type 2) from
    number_value (string_value holds them as `19.9000`), booleans (3) as booleans, the rest
    (strings, dates, arrays as JSON text) as the text Umami stored."""
    if not data:
        return None
    props: dict[str, Any] = {}
    for key, text, number, data_type in data:
        if data_type == 2:
            value: Any = number if number is not None else _number(text)
            if isinstance(value, float) and value.is_integer() and math.isfinite(value):
                value = int(value)
        elif data_type == 3 and text in ("true", "false"):
            value = text == "true"
        else:
            value = text
        if value is not None:
            props[key] = value
    kept, _dropped = clean_props(props)
    return msgspec.json.encode(kept).decode() if kept else None


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _utm(row: UmamiRow, url: str) -> dict[str, str | None]:
    """The row's UTM fields: its columns, else (rows from before Umami 2.14) its query string."""
    columns = {
        "utm_source": row.utm_source,
        "utm_medium": row.utm_medium,
        "utm_campaign": row.utm_campaign,
        "utm_term": row.utm_term,
        "utm_content": row.utm_content,
    }
    parsed = utm_from_url(url) if row.url_query and "utm_" in row.url_query else {}
    return {
        key: (value[:MAX_UTM_CHARS] if value else None) if value is not None else parsed.get(key)
        for key, value in columns.items()
    }


def session_of_visit(website: UmamiWebsite, rows: Sequence[UmamiRow]) -> ImportedSession:
    """The native session of one visit's rows (in time order), with its events."""
    site_host = website_host(website)
    events: list[ImportedEvent] = []
    urls: list[str] = []
    for row in rows:
        url = page_url(row.hostname or site_host, row.url_path, row.url_query)
        urls.append(url)
        custom = row.event_type == CUSTOM_EVENT
        events.append(
            ImportedEvent(
                at_us=row.created_us,
                type="custom" if custom else "pageview",
                name=row.event_name if custom else None,
                url=url,
                title=row.page_title,
                referrer=referrer_url(row.referrer_domain, row.referrer_path, row.referrer_query),
                props=event_props(row.data) if custom else None,
            )
        )
    views = [n for n, event in enumerate(events) if event.type == "pageview"]
    landing = views[0] if views else 0
    first = rows[landing]
    entry_url = urls[landing]
    utm = _utm(first, entry_url)
    referrer = events[landing].referrer
    referrer_host = host_of(referrer)
    if referrer_host is not None and referrer_host in (host_of(entry_url), site_host):
        referrer_host = None  # a self-referral: Umami hides it, native tracking counts it Direct
    width, height = screen_size(first.screen)
    return ImportedSession(
        session_id=session_id_of(first.visit_id),
        visitor_id=visitor_id_of(first.session_id),
        started_us=rows[0].created_us,
        last_us=rows[-1].created_us,
        entry_url=entry_url,
        exit_url=urls[views[-1]] if views else None,
        referrer=referrer,
        title=first.page_title,
        screen_width=width,
        screen_height=height,
        language=first.language or None,
        source=traffic_source(entry_url, referrer if referrer_host else None, utm["utm_source"]),
        referrer_host=referrer_host,
        country=(first.country.strip().upper() or None) if first.country else None,
        browser=browser_name(first.browser, first.device),
        os=os_name(first.os),
        device=device_class(first.device),
        page_views=len(views),
        interactions=len(events) - len(views),
        events=events,
        **utm,
    )


def visit_batches(
    website: UmamiWebsite,
    rows: Iterable[UmamiRow],
    *,
    max_visits: int = MAX_BATCH_VISITS,
    max_bytes: int = MAX_BATCH_BYTES,
) -> Iterator[VisitBatch]:
    """Batches of whole visits from rows ordered by (visit start, visit id, time): each batch at
    most `max_visits` visits and `max_bytes` of JSON. A visit larger than `max_bytes` alone keeps
    its earliest events that fit (the rest are counted in `dropped_rows`). Holds one batch.

    A visit id never appears twice in a batch (the session id is a key): should rows of a visit
    come apart (they do not, in the order the source reads them), a batch makes one session of
    them all, in time order, within the batch's size. A later batch cannot: its session is then
    skipped as already written."""
    visits: dict[str, _BatchVisit] = {}
    size = 0
    resume: ResumePoint | None = None
    for visit_rows in _visits(rows):
        visit_id = visit_rows[0].visit_id
        earlier = visits.get(visit_id)
        if earlier is not None:
            merged = sorted([*earlier.rows, *visit_rows], key=lambda row: row.created_us)
            others = size - earlier.size
            session, kept = _fitting(website, merged, max_bytes - others)
            visits[visit_id] = _BatchVisit(merged, session, kept, len(msgspec.json.encode(session)))
            size = others + visits[visit_id].size
        else:
            session, kept = _fitting(website, visit_rows, max_bytes)
            encoded = len(msgspec.json.encode(session))
            if visits and (len(visits) >= max_visits or size + encoded > max_bytes):
                assert resume is not None
                yield _batch(visits, resume)
                visits, size = {}, 0
            visits[visit_id] = _BatchVisit(visit_rows, session, kept, encoded)
            size += encoded
        resume = ResumePoint(visit_rows[0].created_us, visit_id)
    if visits:
        assert resume is not None
        yield _batch(visits, resume)


@dataclass(slots=True)
class _BatchVisit:
    """A visit in the batch being made: its rows, its session and how many rows that holds."""

    rows: list[UmamiRow]
    session: ImportedSession
    kept: int
    size: int  # the session's JSON, bytes


def _batch(visits: dict[str, _BatchVisit], resume: ResumePoint) -> VisitBatch:
    return VisitBatch(
        sessions=[visit.session for visit in visits.values()],
        resume=resume,
        rows=sum(len(visit.rows) for visit in visits.values()),
        dropped_rows=sum(len(visit.rows) - visit.kept for visit in visits.values()),
    )


def _visits(rows: Iterable[UmamiRow]) -> Iterator[list[UmamiRow]]:
    """Consecutive rows of one visit, together."""
    current: list[UmamiRow] = []
    for row in rows:
        if current and row.visit_id != current[0].visit_id:
            yield current
            current = []
        current.append(row)
    if current:
        yield current


def _fitting(website: UmamiWebsite, rows: list[UmamiRow], max_bytes: int) -> tuple[ImportedSession, int]:
    """The visit's session, with only as many of its first rows as fit in `max_bytes` of JSON."""
    kept = len(rows)
    session = session_of_visit(website, rows)
    size = len(msgspec.json.encode(session))
    while size > max_bytes and kept > 1:
        kept = max(1, min(kept - 1, int(kept * max_bytes / size * 0.95)))
        session = session_of_visit(website, rows[:kept])
        size = len(msgspec.json.encode(session))
    return session, kept

"""Plausible CE's export, read as data (pure): its file names, its columns per file, and each row
in PulseGate's vocabulary, ready for `imported_daily`.

The layout is described in ../shared/import-formats.md section 1, from Plausible's own source:
`imported_<kind>_<YYYYMMDD>_<YYYYMMDD>.csv` per kind (the prefix optional), CSV with a header,
columns matched by name, every column optional (a metric defaults to 0, a dimension to ""),
versions differing only in which columns the pages file has. Numbers are daily totals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pulsegate.domain.sources import DIRECT, REFERRER_GROUPS, UTM_ALIASES
from pulsegate.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ExportKind:
    """One file of the export: which CSV column fills which column of `imported_daily`."""

    name: str
    dimensions: Mapping[str, str]  # CSV column -> stored column (a PulseGate dimension's name)
    metrics: Mapping[str, str]  # CSV column -> stored metric column


_SESSION_METRICS = {
    "visitors": "visitors",
    "visits": "visits",
    "pageviews": "pageviews",
    "bounces": "bounces",
    "visit_duration": "visit_duration",
}
KINDS: dict[str, ExportKind] = {
    kind.name: kind
    for kind in (
        ExportKind("visitors", {}, _SESSION_METRICS),
        ExportKind(
            "sources",
            {
                "source": "source",
                "referrer": "referrer",
                "utm_source": "utm_source",
                "utm_medium": "utm_medium",
                "utm_campaign": "utm_campaign",
                "utm_content": "utm_content",
                "utm_term": "utm_term",
            },
            _SESSION_METRICS,
        ),
        ExportKind(
            "pages",
            {"page": "page", "hostname": "hostname"},
            {
                "visitors": "visitors",
                "visits": "visits",
                "pageviews": "pageviews",
                "total_time_on_page": "time_on_page",
                "total_time_on_page_visits": "time_on_page_visits",
            },
        ),
        # Sessions that started (entrances) or ended (exits) on the page are its visits.
        ExportKind("entry_pages", {"entry_page": "entry_page"}, {**_SESSION_METRICS, "entrances": "visits"}),
        ExportKind("exit_pages", {"exit_page": "exit_page"}, {**_SESSION_METRICS, "exits": "visits"}),
        ExportKind(
            "custom_events",
            {"name": "event", "link_url": "link_url", "path": "path"},
            {"visitors": "visitors", "events": "events"},
        ),
        ExportKind("locations", {"country": "country", "region": "region"}, _SESSION_METRICS),
        ExportKind("devices", {"device": "device"}, _SESSION_METRICS),
        ExportKind(
            "browsers", {"browser": "browser", "browser_version": "browser_version"}, _SESSION_METRICS
        ),
        ExportKind(
            "operating_systems",
            {"operating_system": "os", "operating_system_version": "os_version"},
            _SESSION_METRICS,
        ),
    )
}
# Files of newer exports that Plausible's own importer drops too (arbitrary properties: PulseGate
# has no daily table for them).
SKIPPED_KINDS = frozenset({"custom_props"})
# Plausible's internal events, exported as custom events but never shown as such.
INTERNAL_EVENTS = frozenset({"engagement", "pageleave"})
OUTBOUND_EVENTS = frozenset({"Outbound Link: Click", "Cloaked Link: Click"})
DOWNLOAD_EVENT = "File Download"
STORED_DIMENSIONS = (
    "source", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "page",
    "hostname", "entry_page", "exit_page", "event", "outbound", "download", "country", "region", "device",
    "browser", "browser_version", "os", "os_version",
)  # fmt: skip
STORED_METRICS = (
    "visitors", "visits", "pageviews", "bounces", "visit_duration", "events", "time_on_page",
    "time_on_page_visits",
)  # fmt: skip
STORED_COLUMNS = ("day", *STORED_DIMENSIONS, *STORED_METRICS)

MAX_COUNT = 10**12 - 1  # a trillion a day: far above any site, far below 2**53 summed over decades
_COUNT = re.compile(r"^[0-9]{1,12}$")
_FILE_NAME = re.compile(r"^(?:imported_)?(?P<kind>[a-z_]+?)_(?P<first>\d{8})_(?P<last>\d{8})\.csv$")


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One CSV of an export, by its name."""

    kind: str
    first_day: date
    last_day: date
    skipped: bool  # a kind PulseGate does not import (custom_props)


def parse_file_name(name: str) -> ExportFile:
    """`imported_pages_20240101_20240331.csv` (or without `imported_`), else InvalidInput."""
    match = _FILE_NAME.match(name)
    kind = match["kind"] if match else ""
    if match is None or (kind not in KINDS and kind not in SKIPPED_KINDS):
        raise InvalidInput(
            f"{name}: not a file of a Plausible export; their names are imported_KIND_YYYYMMDD_YYYYMMDD.csv, "
            f"KIND one of {', '.join(KINDS)}"
        )
    first, last = _day(match["first"], name), _day(match["last"], name)
    if last < first:
        raise InvalidInput(f"{name}: its last day is before its first")
    return ExportFile(kind, first, last, kind in SKIPPED_KINDS)


def _day(digits: str, name: str) -> date:
    try:
        return datetime.strptime(digits, "%Y%m%d").date()
    except ValueError:
        raise InvalidInput(f"{name}: {digits} is not a date (YYYYMMDD)") from None


def check_header(kind: ExportKind, header: list[str], name: str) -> None:
    """A file must name its day; every other column is optional, unknown ones are ignored."""
    if "date" not in header:
        raise InvalidInput(f"{name}: the header has no date column (got {', '.join(header) or 'nothing'})")


def stored_row(kind: ExportKind, record: Mapping[str, str], name: str, line: int) -> dict[str, Any] | None:
    """One CSV record as an `imported_daily` row in PulseGate's vocabulary; None for a row that is
    not imported (Plausible's internal events). InvalidInput naming the line for a bad value."""
    day = _record_day(record.get("date", ""), name, line)
    row: dict[str, Any] = {"day": day}
    raw = {column: (record.get(column) or "").strip() for column in kind.dimensions}
    for column, stored in kind.dimensions.items():
        row[stored] = raw[column] or None  # "" means "(not set)" in the export
    for column, stored in kind.metrics.items():
        row[stored] = row.get(stored, 0) + _count(record.get(column), column, name, line)
    return _in_our_words(kind.name, row)


def _record_day(text: str, name: str, line: int) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{name} line {line}: date {text!r} is not YYYY-MM-DD") from None


def _count(text: str | None, column: str, name: str, line: int) -> int:
    if text is None or text.strip() in ("", "\\N"):  # missing column, or ClickHouse's NULL
        return 0
    digits = text.strip()
    if digits.startswith("-") and _COUNT.match(digits[1:]):
        raise InvalidInput(f"{name} line {line}: {column} is negative ({digits})")
    # Digits only (int() would take "1_000" and "+7"), and few enough that sums over years of
    # days stay exact in every client (JSON numbers are doubles: 2**53).
    if not _COUNT.match(digits):
        raise InvalidInput(
            f"{name} line {line}: {column} {text!r} is not a whole number from 0 to {MAX_COUNT:,}"
        )
    return int(digits)


def _in_our_words(kind: str, row: dict[str, Any]) -> dict[str, Any] | None:
    """Plausible's names for sources, devices, browsers and systems as PulseGate's own, so an imported
    value and a tracked one are one row of a report."""
    if kind == "sources":
        row["source"] = source_name(row["source"])
        row["referrer"] = referrer_host(row["referrer"])
    elif kind == "custom_events":
        name, link, path = row.pop("event"), row.pop("link_url"), row.pop("path")
        if name is None or name in INTERNAL_EVENTS:
            return None
        if name in OUTBOUND_EVENTS:
            row["outbound"] = link
        elif name == DOWNLOAD_EVENT:
            row["download"] = link
        else:
            row["event"] = name
        del path  # the 404 or form page a special goal fired on: no PulseGate dimension holds it
    elif kind == "locations":
        row["country"] = row["country"].upper() if row["country"] else None
    elif kind == "devices":
        row["device"] = DEVICES.get(row["device"] or "", (row["device"] or "").lower() or None)
    elif kind == "browsers":
        row["browser"] = BROWSERS.get(row["browser"] or "", row["browser"])
    elif kind == "operating_systems":
        row["os"] = SYSTEMS.get(row["os"] or "", row["os"])
    return row


# PulseGate's device classes (domain/user_agents.py): Plausible's Laptop is a desktop computer.
DEVICES = {"Desktop": "desktop", "Laptop": "desktop", "Mobile": "mobile", "Tablet": "tablet"}
# Plausible's browser and OS names where ua-parser, which names PulseGate's, says them otherwise.
BROWSERS = {"Microsoft Edge": "Edge", "Opera GX": "Opera"}
SYSTEMS = {"Mac": "Mac OS X", "GNU/Linux": "Linux"}
# Plausible's source names for the sites PulseGate groups under another name.
SOURCES = {"Twitter": "X", "ChatGPT": "AI assistants", "Perplexity": "AI assistants"}


def source_name(source: str | None) -> str:
    """Plausible's source as PulseGate names it: "" is Direct, known sites by our group names, a
    host by its group when it has one."""
    if not source:
        return DIRECT
    if source in SOURCES:
        return SOURCES[source]
    alias = UTM_ALIASES.get(source.lower())
    if alias:
        return alias
    host = source.lower().removeprefix("www.")
    for pattern, group in REFERRER_GROUPS:
        if pattern.match(host):
            return group
    return source


def referrer_host(referrer: str | None) -> str | None:
    """Plausible's referrer (host and path, no scheme) as PulseGate's referrer dimension: the host."""
    if not referrer:
        return None
    host = referrer.split("://", 1)[-1].split("/", 1)[0].lower()
    return host.removeprefix("www.") or None

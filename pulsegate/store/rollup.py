"""The event rollup: by hour, the rows event-dimension reports read, with visitors and sessions as keys.

Why (bench/reports.py, 50M events, 2 cores): an event breakdown over raw `events` reads 50M rows
of every type and hashes text ids to count distinct visitors and sessions (pages 540 ms), and a
filtered one joins on text session ids (2.2 s for pages). These tables keep only the rows an
event dimension counts (a page's views, a custom event, a link, a property), one per hour,
project, value and session, with `hash()` of the ids as 64-bit keys, each finished day in value
order: pages then take 243 ms (126 ms filtered), events, links and properties 46-136 ms over
HTTP (BENCHMARKS.md, issue 16 second pass).

The facts hold the hours from `rollup_state.since` to `frontier`; a report reads them there and raw
events elsewhere, through the same row shapes (`page_rows`, `engaged_rows`, `event_rows`), so the
answer is the raw query's (tests/store/test_rollup.py proves it). Hours are UTC, and a window
that starts or ends inside an hour (time zones off the hour) reads that part raw too.

Who keeps it true: the server's rollup job (`advance`, on the writer thread) adds each hour ten
minutes after it ends; whatever writes events with an earlier time (imports, tests) calls
`rebuild` for those hours in the same transaction, and retention calls `forget_before`. Facts
mirror the `events` table: hours before `since` (pruned, perhaps archived to Parquet, which
readers still see as `events`) are read raw.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from pulsegate.domain.reports import Dimension
from pulsegate.store.clickhouse.cursor import is_clickhouse
from pulsegate.store.report_sql import Sql
from pulsegate.store.transactions import transaction

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# An hour is rolled up this long after it ends: a request stamps its events before its write is
# queued, and none waits this long, so no event of a rolled-up hour is still on its way.
SETTLE = timedelta(minutes=10)
# Hours added per writer turn (a turn also stops at midnight): at most 2.4 s of the writer's time
# at 50M events a month (BENCHMARKS.md, issue 17). Smaller turns are not shorter: a day added in
# parts is sorted again when it ends (8-hour turns: the longest 6.3 s).
HOURS_PER_TURN = 24
# On ClickHouse a day the rollup has not begun, less than this from its end, is waited for and
# taken whole (_clickhouse_turn_end says why).
WHOLE_DAY_WAIT = timedelta(hours=2)
_HASH_PROBE = "SELECT hash('pulsegate rollup')"
# Earlier than any event's receive time (a server's clock), and a time ClickHouse can hold
# (its DateTime64 starts in 1900; datetime.min is year 1).
BEFORE_EVERY_EVENT = datetime(1970, 1, 1)
# Property keys a report can name (domain/reports._PROPERTY_KEY): others are never asked for.
_PROPERTY_KEY = "[A-Za-z0-9_.-]{1,64}"
# An event's place in time as one BIGINT, for funnels: the receive time in ms since 2020 (so the
# key fits until 2089), then (events of one batch share it) the browser's clock relative to it,
# clamped to ±35 minutes, in the low 22 bits. Events whose keys are equal happened at a moment the
# two clocks cannot order (a browser whose clock is more than 35 minutes off: its batch's events).
ORDER_KEY_EPOCH_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
ORDER_KEY = (
    f"((epoch_ms(received_at) - {ORDER_KEY_EPOCH_MS}) * 4194304 "
    "+ least(greatest(coalesce(client_ms - epoch_ms(received_at), 0), -2097152), 2097151) + 2097152)"
)
ORDER_KEY_MS_SHIFT = 22  # key >> 22 is the receive time in ms since ORDER_KEY_EPOCH_MS


# ---- the rows, from raw events ----------------------------------------------------------------


def _received(start: datetime, end: datetime) -> Sql:
    return Sql("received_at >= ? AND received_at < ? AND NOT is_bot", (start, end))


def _path_rows(start: datetime, end: datetime, measures: str, condition: str) -> Sql:
    """Rows of [start, end) per hour, project, path and session: `measures` of the events that
    meet `condition` (both our own SQL, not input)."""
    window = _received(start, end)
    return Sql(
        "SELECT date_trunc('hour', received_at) AS hour, project, path, hash(session_id) AS session_key, "
        f"{measures} FROM events WHERE {window.text} AND {condition} AND path IS NOT NULL GROUP BY ALL",
        window.params,
    )


def page_rows(start: datetime, end: datetime, kind: str | None = None, key: str | None = None) -> Sql:
    """page_facts rows of [start, end): page views per hour, project, path and session."""
    return _path_rows(
        start, end, "hash(visitor_id) AS visitor_key, count(*)::INTEGER AS views", "type = 'pageview'"
    )


def engaged_rows(start: datetime, end: datetime, kind: str | None = None, key: str | None = None) -> Sql:
    """engaged_facts rows of [start, end): engaged time reported (on any event) per path and session."""
    return _path_rows(start, end, "sum(engaged_ms)::BIGINT AS engaged_ms", "engaged_ms IS NOT NULL")


# The value each kind of event fact counts, over `events` (custom event names, link URLs).
_KIND_VALUES = {
    "event": ("custom", "name"),
    "outbound": ("outbound", "json_extract_string(props, '$.href')"),
    "download": ("download", "json_extract_string(props, '$.href')"),
}


def event_rows(start: datetime, end: datetime, kind: str | None = None, key: str | None = None) -> Sql:
    """event_facts rows of [start, end): of one kind (and property key), or of all of them."""
    window = _received(start, end)
    branches: list[Sql] = []
    for name, (event_type, value) in _KIND_VALUES.items():
        if kind in (None, name):
            branches.append(
                Sql(
                    f"SELECT received_at, client_ms, project, session_id, visitor_id, '{name}' AS kind, "
                    f"NULL::VARCHAR AS key, {value} AS value, NULL::VARCHAR AS event FROM events "
                    f"WHERE {window.text} AND type = '{event_type}'",
                    window.params,
                )
            )
    if kind == "prop" and key is not None:
        branches.append(
            Sql(
                "SELECT received_at, client_ms, project, session_id, visitor_id, 'prop' AS kind, "
                "?::VARCHAR AS key, "
                f"json_extract_string(props, ?) AS value, name AS event FROM events WHERE {window.text} "
                "AND type = 'custom' "
                "AND props IS NOT NULL",
                (key, f'$."{key}"', *window.params),
            )
        )
    elif kind in (None, "prop"):
        # Every key of every custom event's properties, each with its value as text.
        branches.append(
            Sql(
                "SELECT received_at, client_ms, project, session_id, visitor_id, 'prop' AS kind, key, "
                "json_extract_string(props, '$.\"' || key || '\"') AS value, name AS event FROM "
                "(SELECT *, unnest(json_keys(coalesce(props, '{}'))) AS key FROM events "
                f"WHERE {window.text} AND type = 'custom' AND props IS NOT NULL) "
                f"WHERE regexp_full_match(key, '{_PROPERTY_KEY}')",
                window.params,
            )
        )
    if kind in (None, "keys"):
        # The property keys a custom event carried, any key (/analytics/properties lists them all):
        # one row per key of each event, the event's name as `key`, the property key as `value`.
        named = Sql("name = ?", (key,)) if key is not None else Sql("name IS NOT NULL")
        branches.append(
            Sql(
                "SELECT received_at, client_ms, project, session_id, visitor_id, 'keys' AS kind, "
                "name AS key, unnest(json_keys(coalesce(props, '{}'))) AS value, NULL::VARCHAR AS event "
                "FROM events "
                f"WHERE {window.text} AND type = 'custom' AND props IS NOT NULL AND {named.text}",
                window.params + named.params,
            )
        )
    union = " UNION ALL ".join(branch.text for branch in branches)
    return Sql(
        "SELECT date_trunc('hour', received_at) AS hour, project, kind, key, value, "
        "hash(session_id) AS session_key, hash(visitor_id) AS visitor_key, count(*)::INTEGER AS hits, event "
        f"FROM ({union}) WHERE value IS NOT NULL GROUP BY ALL",
        tuple(p for branch in branches for p in branch.params),
    )


def moment_rows(start: datetime, end: datetime, kind: str | None = None, key: str | None = None) -> Sql:
    """moment_facts rows of [start, end): one per page view (kind `page`) and custom event (`event`),
    or of one kind, with its moment (`ORDER_KEY`): what funnels order. (Property values are not
    kept: a funnel step on a property goal reads raw custom events, and building them cost a
    third of a day's turn at 50M events.)"""
    window = _received(start, end)
    branches = [
        Sql(
            f"SELECT received_at, client_ms, project, session_id, visitor_id, '{name}' AS kind, "
            f"{value} AS value FROM events WHERE {window.text} AND type = '{event_type}'",
            window.params,
        )
        for name, event_type, value in (("page", "pageview", "path"), ("event", "custom", "name"))
        if kind in (None, name)
    ]
    union = " UNION ALL ".join(branch.text for branch in branches)
    return Sql(
        "SELECT date_trunc('hour', received_at) AS hour, project, kind, value, "
        f"hash(session_id) AS session_key, hash(visitor_id) AS visitor_key, {ORDER_KEY} AS moment "
        f"FROM ({union}) WHERE value IS NOT NULL",
        tuple(p for branch in branches for p in branch.params),
    )


# form_start and form_submit, as a range of the events' `type` ENUM (next to each other in it,
# tests/api/test_forms_report.py holds that): DuckDB filters a range in the scan, where it reads
# every row's other columns for an IN list (at 50M events 200 ms against 870).
FORM_EVENT_TYPES = "type BETWEEN 'form_start'::event_type AND 'form_submit'::event_type"


def form_rows(start: datetime, end: datetime, kind: str | None = None, key: str | None = None) -> Sql:
    """form_facts rows of [start, end): form starts and submits (kind `form_start`, `form_submit`,
    or of one kind) per hour, project, form label and session (the forms report counts sessions:
    at 50M events its scan of every event's type took 60-200 ms for 46,000 form events)."""
    window = _received(start, end)
    of_kind = Sql(" AND CAST(type AS VARCHAR) = ?", (kind,)) if kind is not None else Sql("")
    return Sql(
        "SELECT date_trunc('hour', received_at) AS hour, project, CAST(type AS VARCHAR) AS kind, "
        "name AS form, hash(session_id) AS session_key, count(*)::INTEGER AS hits FROM events "
        f"WHERE {window.text} AND {FORM_EVENT_TYPES}{of_kind.text} GROUP BY ALL",
        window.params + of_kind.params,
    )


# ---- what a report reads ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Table:
    """A fact table: its rows from raw events, what a report reads of them, and its stored order."""

    rows: Callable[[datetime, datetime, str | None, str | None], Sql]  # [start, end) (of a kind and key)
    read_as: str
    # Each UTC day's rows are stored together and in value order, so DuckDB's per-row-group
    # min/max of the value skips the rest: a page breakdown filtered to one page took 70 ms
    # instead of 249 at 50M events, the unfiltered one 134 instead of 164 (rows in hour order,
    # measured by hand).
    clustered_by: str


_TABLES = {
    "page_facts": _Table(
        page_rows,
        "project, path AS value, session_key, visitor_key, views AS hits",
        "CAST(hour AS DATE), path",
    ),
    "engaged_facts": _Table(
        engaged_rows, "project, path AS value, session_key, engaged_ms", "CAST(hour AS DATE), path"
    ),
    "event_facts": _Table(
        event_rows,
        "project, value, session_key, visitor_key, hits, event",
        "CAST(hour AS DATE), kind, key, value",
    ),
    # Not aggregated: a funnel needs each moment. Rows of one width sort within the memory limit
    # (lists of moments on the aggregated rows did not: a day of page facts at 50M events ran out
    # of 64 MB sorting them).
    "moment_facts": _Table(
        moment_rows,
        "project, value, session_key, visitor_key, moment",
        # In moment order within a value, the moments bit-pack as deltas: 110 MB instead of 133
        # at 10M events (the random 64-bit keys do not compress at all).
        "CAST(hour AS DATE), kind, value, moment",
    ),
    "form_facts": _Table(
        form_rows, "project, kind, form AS value, session_key, hits", "CAST(hour AS DATE), kind, form"
    ),
}
# Goal facts: for each rule a goal matches by (a page pattern, a custom event, a property value on
# one: `goal_rule`), its rows of the page or event facts summed per hour, project and session. A
# pattern matching many paths reads far fewer rows: /p/1* at 50M events 946,000 instead of 4.4M
# (the goals report's counts 189 -> 47 ms). Held for the rules listed in goal_rules, over the same
# hours as the other facts (`hold_goals` adds and drops rules as goals come and go).
GOAL_FACTS = "goal_facts"
FACT_TABLES = (*_TABLES, GOAL_FACTS)
_CLUSTERED_BY = {
    **{name: table.clustered_by for name, table in _TABLES.items()},
    GOAL_FACTS: "CAST(hour AS DATE), rule",
}


@dataclass(frozen=True, slots=True)
class Facts:
    """The facts an event dimension counts: a table (and kind, and property key) whose rows a
    report reads as `project, value, session_key, visitor_key, hits` (event facts also `event`,
    the custom event a property was on; engaged time: `project, value, session_key, engaged_ms`;
    moments: `project, value, session_key, visitor_key, moment`)."""

    table: str
    kind: str | None = None
    key: str | None = None  # goal facts: the rule

    def raw(self, start: datetime, end: datetime) -> Sql:
        if self.table == GOAL_FACTS:
            facts, matched = _rule_facts(self.key or "")
            rows = facts.raw(start, end)
            return Sql(
                f"SELECT {_GOAL_COLUMNS} FROM ({rows.text}) WHERE {matched.text}",
                rows.params + matched.params,
            )
        table = _TABLES[self.table]
        rows = table.rows(start, end, self.kind, self.key)
        return Sql(f"SELECT {table.read_as} FROM ({rows.text})", rows.params)

    def stored(self, start: datetime, end: datetime, *, with_hour: bool = False) -> Sql:
        where = Sql("hour >= ? AND hour < ?", (start, end))
        if self.table == GOAL_FACTS:
            where = where & Sql("rule = ?", (self.key,))
            return Sql(f"SELECT {_GOAL_COLUMNS} FROM {GOAL_FACTS} WHERE {where.text}", where.params)
        if self.kind is not None:
            where = where & Sql("kind = ?", (self.kind,))
        if self.key is not None:
            where = where & Sql("key = ?", (self.key,))
        hour = "hour, " if with_hour else ""
        return Sql(
            f"SELECT {hour}{_TABLES[self.table].read_as} FROM {self.table} WHERE {where.text}", where.params
        )


PAGES = Facts("page_facts")
ENGAGED = Facts("engaged_facts")
EVENTS = Facts("event_facts", "event")
FORMS = Facts("form_facts")  # both kinds: `project, kind, value (the form label), session_key, hits`
_GOAL_COLUMNS = "project, session_key, visitor_key, hits"


def property_keys(event: str) -> Facts:
    """The property keys the custom events called `event` carried: `value` is the key."""
    return Facts("event_facts", "keys", event)


def goal_facts(rule: str) -> Facts:
    """A goal rule's facts (`goal_rule`), read as `project, session_key, visitor_key, hits`."""
    return Facts(GOAL_FACTS, None, rule)


# ---- goal rules ---------------------------------------------------------------------------------


def like_pattern(page: str) -> str:
    """A page pattern (`*` any characters) as a LIKE pattern with `\\` escaping % _ and itself."""
    escaped = page.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def page_condition(page: str) -> Sql:
    """Over `value`: the path matches the page pattern. Written so DuckDB can skip row groups of the
    rollup (stored in path order): equality for a plain path, a prefix test before any LIKE (at
    10M events, /p/0 took 16 ms with `=` and 65 with LIKE; /p/1* 27 ms with starts_with, 85 with
    LIKE alone)."""
    if "*" not in page:
        return Sql("value = ?", (page,))
    prefix, _, rest = page.partition("*")
    condition = Sql("starts_with(value, ?)", (prefix,))
    if rest:  # more than one trailing *
        condition = condition & Sql("value LIKE ? ESCAPE '\\'", (like_pattern(page),))
    return condition


def goal_rule(
    kind: str, event: str | None, prop_key: str | None, prop_value: str | None, page: str | None
) -> str | None:
    """What a goal matches in the facts, as text: goals that match the same share their goal facts.
    None for a lead goal (leads are read as they are)."""
    if kind == "page":
        return json.dumps(["page", page])
    if kind == "event":
        return json.dumps(["event", event] if prop_key is None else ["prop", event, prop_key, prop_value])
    return None


def _rule_facts(rule: str) -> tuple[Facts, Sql]:
    """The facts a rule's rows are among, and the condition that picks them (over `value`, `event`)."""
    kind, *args = json.loads(rule)
    if kind == "page":
        return PAGES, page_condition(args[0])
    if kind == "event":
        return EVENTS, Sql("value = ?", (args[0],))
    event, key, value = args
    return Facts("event_facts", "prop", key), Sql("value = ? AND event = ?", (value, event))


def _generations(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """When each rule's goals were first added (on ClickHouse only, for the insert tokens): a goal
    removed and added again is held afresh, and its facts are new, not a repeat of the old ones
    (which were deleted with the rule)."""
    if not is_clickhouse(connection):
        return {}
    declared = connection.execute(
        "SELECT kind, event, prop_key, prop_value, page, created_at FROM goals"
    ).fetchall()
    first: dict[str, datetime] = {}
    for *matches, created_at in declared:
        if (rule := goal_rule(*matches)) is not None:
            first[rule] = min(first.get(rule, created_at), created_at)
    return {rule: created_at.isoformat() for rule, created_at in first.items()}


def _events_stamp(connection: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> str:
    """On ClickHouse, which events [start, end) holds (their count and fingerprint), for the insert
    tokens of the facts made from them: facts made again from other events (a rebuild after an
    import, a test's new data) are new facts, not a repeat. Asked once for all the tables of a
    turn: at 50M events each ask reads the day's events. Empty on DuckDB."""
    if not is_clickhouse(connection):
        return ""
    (count, fingerprint), *_ = connection.execute(
        "SELECT count(*), sum(hash(session_id, received_at)) FROM events "
        "WHERE received_at >= ? AND received_at < ?",
        [start, end],
    ).fetchall()
    return f"{start.isoformat()}:{end.isoformat()}:{count}:{fingerprint}"


def _insert_into(connection: duckdb.DuckDBPyConnection, table: str, what: str, stamp: str) -> str:
    """`INSERT INTO table`, on ClickHouse with a deduplication token naming what it adds, from the
    events `stamp` names: there is no transaction around a turn, and any process may take one, so
    an hour's facts inserted twice (by two processes at once, or again after a crash before the
    frontier moved) are kept once (the fact tables keep a window of recent tokens, ClickHouse
    migration 0007)."""
    if not is_clickhouse(connection):
        return f"INSERT INTO {table}"
    # Hashed: what it names (a goal's page pattern) may hold any character, the token goes into SQL.
    token = "rollup-" + hashlib.sha256(f"{table}:{what}:{stamp}".encode()).hexdigest()
    return f"INSERT INTO {table} SETTINGS insert_deduplication_token = '{token}'"


def _insert_goal(
    connection: duckdb.DuckDBPyConnection, rule: str, start: datetime, end: datetime, into: str
) -> None:
    """Add the rule's goal facts of [start, end) from the page or event facts stored for those
    hours, with the `INSERT INTO` of `_insert_into`."""
    facts, matched = _rule_facts(rule)
    rows = facts.stored(start, end, with_hour=True)
    connection.execute(
        f"{into} SELECT hour, ?, project, session_key, visitor_key, sum(hits)::INTEGER "
        f"FROM ({rows.text}) WHERE {matched.text} GROUP BY hour, project, session_key, visitor_key "
        "ORDER BY hour",
        [rule, *rows.params, *matched.params],
    )


def moments_of(kind: str) -> Facts:
    """The moments of page views (`page`) or custom events (`event`)."""
    return Facts("moment_facts", kind)


_EVENT_DIMENSIONS = {
    "page": PAGES,
    "event": EVENTS,
    "outbound": Facts("event_facts", "outbound"),
    "download": Facts("event_facts", "download"),
}


def facts_of(dimension: Dimension) -> Facts:
    """The facts an event dimension (`page`, `event`, `outbound`, `download`, `prop:KEY`) counts."""
    if dimension.name.startswith("prop:"):
        return Facts("event_facts", "prop", dimension.label)
    return _EVENT_DIMENSIONS[dimension.name]


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def floor_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + HOUR


@dataclass(frozen=True, slots=True)
class Coverage:
    """The hours the facts hold: from `since` (None: from the first event) to `frontier`."""

    since: datetime | None
    frontier: datetime
    goal_rules: frozenset[str] = frozenset()  # the rules whose goal facts are held (`hold_goals`)


def fact_rows(facts: Facts, start: datetime, end: datetime, coverage: Coverage | None) -> Sql:
    """The rows of `facts` for events received in [start, end): stored for the whole hours the
    rollup covers, computed from raw events for the rest."""
    if coverage is None:
        return facts.raw(start, end)
    covered_from = max(ceil_hour(start), coverage.since or start)
    covered_to = min(floor_hour(end), coverage.frontier)
    if covered_from >= covered_to:
        return facts.raw(start, end)
    parts = [facts.stored(covered_from, covered_to)]
    if start < covered_from:
        parts.append(facts.raw(start, covered_from))
    if covered_to < end:
        parts.append(facts.raw(covered_to, end))
    union = " UNION ALL ".join(f"({part.text})" for part in parts)
    return Sql(union, tuple(p for part in parts for p in part.params))


def _state(cursor: duckdb.DuckDBPyConnection) -> tuple[datetime | None, datetime | None, bool]:
    """(since, frontier, whether this DuckDB hashes as the one that made the facts)."""
    since, frontier, same_hash = cursor.execute(
        f"SELECT since, frontier, hash_probe = ({_HASH_PROBE}) FROM rollup_state"
    ).fetchall()[0]
    return since, frontier, bool(same_hash)


# Each goal rule held and how far its facts reach: the furthest, should two processes have held
# a rule at once (on ClickHouse nothing stops both inserting its row).
_HELD = "SELECT rule, max(held_to) AS held_to FROM goal_rules GROUP BY rule"


def coverage(cursor: duckdb.DuckDBPyConnection) -> Coverage | None:
    """The hours the facts hold (None: none yet, or made by a DuckDB that hashed differently), and
    the goal rules whose facts reach the frontier (`held_rules`)."""
    # One round trip: every report asks it.
    since, frontier, same_hash, rules = cursor.execute(
        f"SELECT since, frontier, hash_probe = ({_HASH_PROBE}), (SELECT list(rule) FROM ({_HELD}) "
        "WHERE held_to IS NULL OR held_to >= (SELECT frontier FROM rollup_state)) FROM rollup_state"
    ).fetchall()[0]
    if frontier is None or not same_hash:
        return None
    return Coverage(since, frontier, frozenset(rules or ()))


def held_rules(cursor: duckdb.DuckDBPyConnection) -> dict[str, datetime | None]:
    """Each goal rule held and how far its facts reach (`held_to`; None: held before that was kept,
    in step with the frontier). The furthest, should two processes have held a rule at once."""
    return dict(cursor.execute(_HELD).fetchall())


def _mark_held(connection: duckdb.DuckDBPyConnection, rules: list[str], until: datetime) -> None:
    """The facts of `rules` reach `until` now (never back: another process may have gone further)."""
    if rules:
        marks = ", ".join("?" for _ in rules)
        connection.execute(
            f"UPDATE goal_rules SET held_to = greatest(coalesce(held_to, ?), ?) WHERE rule IN ({marks})",
            [until, until, *rules],
        )


# ---- keeping it ---------------------------------------------------------------------------------


def _insert(
    connection: duckdb.DuckDBPyConnection,
    start: datetime,
    end: datetime,
    rules: list[str],
    what: str = "hours",
) -> None:
    """The facts of [start, end), and the goal facts of `rules` for those hours."""
    stamp = _events_stamp(connection, start, end)
    for name, table in _TABLES.items():
        rows = table.rows(start, end, None, None)
        ordered = f"SELECT * FROM ({rows.text}) ORDER BY {table.clustered_by}"
        connection.execute(f"{_insert_into(connection, name, what, stamp)} {ordered}", rows.params)
    generations = _generations(connection) if rules else {}
    for rule in rules:
        into = _insert_into(connection, GOAL_FACTS, f"{what}:{rule}:{generations.get(rule, '')}", stamp)
        _insert_goal(connection, rule, start, end, into)


def _cluster(connection: duckdb.DuckDBPyConnection, day: datetime) -> None:
    """Store `day`'s rows, added an hour at a time, again in value order (once, when it ends)."""
    for name, clustered_by in _CLUSTERED_BY.items():
        where = "hour >= ? AND hour < ?"
        connection.execute(
            f"CREATE OR REPLACE TEMP TABLE rollup_day AS SELECT * FROM {name} WHERE {where} "
            f"ORDER BY {clustered_by}",
            [day, day + DAY],
        )
        connection.execute(f"DELETE FROM {name} WHERE {where}", [day, day + DAY])
        connection.execute(f"INSERT INTO {name} SELECT * FROM rollup_day")
    connection.execute("DROP TABLE rollup_day")


def advance(connection: duckdb.DuckDBPyConnection, now: datetime, hours: int = HOURS_PER_TURN) -> int:
    """Roll up to `hours` more settled hours, in one transaction; returns how many (0: caught up).
    Facts made by a DuckDB that hashed differently are dropped first."""
    with transaction(connection):
        since, frontier, same_hash = _state(connection)
        if frontier is not None and not same_hash:
            for table in FACT_TABLES:
                connection.execute(f"DELETE FROM {table}")
            connection.execute("UPDATE goal_rules SET held_to = NULL WHERE true")  # in step: none
            frontier = None
        current = frontier
        target = floor_hour(now - SETTLE)
        # Hours without events need no rows: start at the next hour that has some.
        begin = current or since or BEFORE_EVERY_EVENT
        # NULL when there is none (on ClickHouse too, whose min of no rows is 1970).
        following = connection.execute(
            "SELECT CASE WHEN count(*) > 0 THEN min(received_at) END FROM events WHERE received_at >= ?",
            [begin],
        )
        next_event = following.fetchall()[0][0]
        reached = floor_hour(next_event) if next_event is not None else target
        # Never past `target`: an hour not yet settled may still get events.
        current = max(current or begin, min(reached, target))
        until = max(current, min(current + hours * HOUR, target))
        if current < floor_day(until):
            until = floor_day(until)  # a turn that reaches a new day stops at its midnight
        if is_clickhouse(connection):
            # Past hours without events, from the midnight of the next one's day, not its hour:
            # a turn is cut alike whoever takes it, hold_goals' ranges too (_clickhouse_turn_end).
            current = max(begin, floor_day(current))
            until = _clickhouse_turn_end(current, target)
        if current < until:
            # The goal rules whose facts reach this turn. Not a rule held since the rules were read
            # (on ClickHouse, by another process while this turn runs): its facts would stop short
            # of the new frontier, so its held_to stays, and hold_goals carries it on.
            reaching = [
                rule
                for rule, held_to in sorted(held_rules(connection).items())
                if held_to is None or held_to >= (frontier or BEFORE_EVERY_EVENT)
            ]
            _insert(connection, current, until, reaching)
            started_day = floor_day(current)
            # ClickHouse keeps each part in the table's order itself: nothing to cluster there.
            if current > started_day and started_day + DAY <= until and not is_clickhouse(connection):
                _cluster(connection, started_day)  # begun by earlier turns, complete now
            _mark_held(connection, reaching, until)
        if until != frontier:
            # Not when nothing moved: the job asks every minute in every process, and on ClickHouse
            # each UPDATE is a part of its own.
            connection.execute(
                f"UPDATE rollup_state SET frontier = ?, hash_probe = ({_HASH_PROBE}) WHERE true", [until]
            )
    return int((until - current) / HOUR)


def _clickhouse_turn_end(current: datetime, target: datetime) -> datetime:
    """Where a turn on ClickHouse that starts at `current` ends (`current`: no turn now). Any
    process may take it and its insert tokens are made of its [current, end) (_insert_into), so
    that must be the same whoever takes it: whole UTC days while catching up (fewer inserts),
    single hours in the day under way (so reports read at most an hour raw). A day not begun that
    ends less than WHOLE_DAY_WAIT after `target` is waited for: two processes that read the same
    frontier have targets at most an hour apart, so none takes it hour by hour while another
    takes it whole."""
    day = floor_day(current)
    if current == day:
        if day + DAY <= target:
            return day + DAY
        if day + DAY - WHOLE_DAY_WAIT <= target:
            return current
    return current + HOUR if current + HOUR <= target else current


def catch_up(connection: duckdb.DuckDBPyConnection, now: datetime, hours: int = HOURS_PER_TURN) -> int:
    """Every turn `advance` has to take at `now`, one after the other, then every goal rule held
    (offline: tests, benchmarks, a file written by hand); returns the hours added."""
    added = 0
    while rolled := advance(connection, now, hours):
        added += rolled
    while hold_goals(connection):
        pass
    return added


def hold_goals(connection: duckdb.DuckDBPyConnection) -> bool:
    """Hold goal facts for the rules of the goals declared now, in one transaction: drop those of
    rules no goal has any more, and make those of one rule not held to the frontier yet: a new one,
    over every hour the facts hold, or one a turn left behind (`advance`), from where its facts stop
    (from the page or event facts, a day at a time: at 50M events a month, /p/1* took 1.5 s).
    True when it made one: call it again until False (the server's rollup job does, after
    `advance`). Until a rule is held to the frontier, its goals read the page or event facts."""
    with transaction(connection):
        declared = connection.execute("SELECT kind, event, prop_key, prop_value, page FROM goals").fetchall()
        wanted = {rule for row in declared if (rule := goal_rule(*row)) is not None}
        held = held_rules(connection)
        for rule in sorted(held.keys() - wanted):
            connection.execute(f"DELETE FROM {GOAL_FACTS} WHERE rule = ?", [rule])
            connection.execute("DELETE FROM goal_rules WHERE rule = ?", [rule])
        since, frontier, _ = _state(connection)
        # A rule held before the frontier was (None) is in step with it; so is any while there is none.
        behind = sorted(
            rule
            for rule in wanted
            if rule not in held or (frontier is not None and (held[rule] or frontier) < frontier)
        )
        return any(_carry_on(connection, rule, held.get(rule), since, frontier) for rule in behind)


def _carry_on(
    connection: duckdb.DuckDBPyConnection,
    rule: str,
    held_to: datetime | None,
    since: datetime | None,
    frontier: datetime | None,
) -> bool:
    """Make `rule`'s goal facts from where they stop (`held_to`; a rule not held yet: from the
    first facts) towards `frontier`, and keep how far they reach; False when they cannot go further
    now (on ClickHouse, a day whose end is waited for)."""
    reached = held_to or since or BEFORE_EVERY_EVENT
    facts, _ = _rule_facts(rule)
    # Not min() alone: ClickHouse's min of no rows is 1970, whence a day at a time to now.
    first = connection.execute(
        f"SELECT CASE WHEN count(*) > 0 THEN min(hour) END FROM {facts.table} WHERE hour >= ?", [reached]
    ).fetchall()[0][0]
    reach = reached
    if frontier is not None:
        # Nothing to make before the first facts' day (none: up to the frontier).
        start = max(reached, floor_day(first)) if first is not None else max(reached, frontier)
        ranges = list(_goal_ranges(connection, start, frontier))
        generation = _generations(connection).get(rule, "") if ranges else ""
        for begin, end in ranges:
            stamp = _events_stamp(connection, begin, end)
            into = _insert_into(connection, GOAL_FACTS, f"hours:{rule}:{generation}", stamp)
            _insert_goal(connection, rule, begin, end, into)
        reach = ranges[-1][1] if ranges else start
    if held_to is not None:
        if reach <= held_to:
            return False
        _mark_held(connection, [rule], reach)
    else:
        connection.execute("INSERT INTO goal_rules VALUES (?, ?)", [rule, reach])
    return True


def _goal_ranges(
    connection: duckdb.DuckDBPyConnection, start: datetime, reach: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The [start, end) ranges hold_goals makes a rule's facts of [start, reach) in: a day at a
    time; on ClickHouse, cut as its turns cut them (_clickhouse_turn_end), so that two processes
    holding one rule at once insert the same ranges, with the same insert tokens."""
    on_clickhouse = is_clickhouse(connection)
    while start < reach:
        end = _clickhouse_turn_end(start, reach) if on_clickhouse else min(floor_day(start) + DAY, reach)
        if end == start:
            return
        yield start, end
        start = end


def rebuild(connection: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> None:
    """Make the facts of the hours touching [start, end) agree with `events` again, after events
    of that time were added or deleted (an import). Call it in the transaction that changed them."""
    held = coverage(connection)
    if held is None:
        return
    hour_from = max(floor_hour(start), held.since or BEFORE_EVERY_EVENT)
    hour_to = min(ceil_hour(end), held.frontier)
    if hour_from >= hour_to:
        return
    for table in FACT_TABLES:
        connection.execute(f"DELETE FROM {table} WHERE hour >= ? AND hour < ?", [hour_from, hour_to])
    # A rule whose facts stopped inside those hours is made again by hold_goals, from where the
    # deletion left them.
    reaching = []
    for rule, held_to in sorted(held_rules(connection).items()):
        if held_to is None or held_to >= hour_to:
            reaching.append(rule)
        elif held_to > hour_from:
            connection.execute("UPDATE goal_rules SET held_to = ? WHERE rule = ?", [hour_from, rule])
    # Facts deleted and made again, maybe from the same events: on ClickHouse a token of its own
    # (one process rebuilds: the one that changed the events).
    _insert(connection, hour_from, hour_to, reaching, what=f"rebuilt {secrets.token_hex(8)}")


def forget_before(connection: duckdb.DuckDBPyConnection, cutoff: datetime) -> None:
    """After retention deleted the events before `cutoff`: the facts start at the next whole hour,
    and reports read what is older raw (nothing, or the Parquet archive where one is kept).
    Call it in the transaction that deleted them."""
    since = ceil_hour(cutoff)
    for table in FACT_TABLES:
        connection.execute(f"DELETE FROM {table} WHERE hour < ?", [since])
    connection.execute(
        "UPDATE rollup_state SET since = greatest(coalesce(since, ?), ?) WHERE true", [since, since]
    )

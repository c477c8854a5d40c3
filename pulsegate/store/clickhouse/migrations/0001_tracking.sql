-- The ClickHouse store's first schema: settings and secrets, sessions, events and their summary.
-- Timestamps are UTC DateTime64(3); `{on_cluster}` and `{replicated}` are filled in by
-- store/clickhouse/schema.py (ON CLUSTER and Replicated engines when clickhouse.cluster is set).
--
-- No row is ever updated. What a session has done so far (counts, engaged time, exit page, when
-- it was last seen) is folded by ClickHouse itself into `session_activity` as its events and ends
-- arrive, whichever PulseGate process wrote them: so any process can continue or end any session,
-- and none keeps state that correctness depends on (docs/scaling.md). The summary a session's end
-- writes into `sessions` is computed from it.

CREATE TABLE IF NOT EXISTS meta {on_cluster} (
    key     String,
    value   String,
    written DateTime64(3) DEFAULT now64(3)
) ENGINE = {replicated}ReplacingMergeTree(written) ORDER BY key;

-- Sessions, with DuckDB's columns (store/migrations), so the reports read them alike; counts are
-- unsigned, as ClickHouse's count() is (it finds no common type for signed and unsigned). A row is
-- never updated: a session's start is one row (version 0) and each end (by its browser, or by
-- idling) a whole new row with its summary (version: the end's time in ms); the latest wins.
-- `sessions` is the view of the latest rows, which every read uses.
CREATE TABLE IF NOT EXISTS session_rows {on_cluster} (
    session_id       String,
    visitor_id       String,
    project          Nullable(String),
    started_at       DateTime64(3),
    last_seen_at     DateTime64(3),
    ended_at         Nullable(DateTime64(3)),
    entry_url        String,
    referrer         Nullable(String),
    title            Nullable(String),
    utm_source       Nullable(String),
    utm_medium       Nullable(String),
    utm_campaign     Nullable(String),
    utm_term         Nullable(String),
    utm_content      Nullable(String),
    screen_width     Nullable(Int32),
    screen_height    Nullable(Int32),
    language         Nullable(String),
    timezone         Nullable(String),
    user_agent       Nullable(String),
    source           String DEFAULT 'Direct',
    referrer_host    Nullable(String),
    country          Nullable(String),
    as_organisation  Nullable(String),
    is_hosting       Bool DEFAULT false,
    browser          Nullable(String),
    os               Nullable(String),
    device           Nullable(String),
    is_bot           Bool DEFAULT false,
    end_reason       Nullable(String),
    exit_url         Nullable(String),
    page_views       Nullable(UInt32),
    event_count      Nullable(UInt32),
    interactions     Nullable(UInt32),
    form_starts      Nullable(UInt32),
    form_submits     Nullable(UInt32),
    max_scroll       Nullable(UInt32),
    engaged_ms       Nullable(UInt64),
    duration_ms      Nullable(UInt64),
    engagement_score Nullable(UInt32),
    entry_path       Nullable(String),
    exit_path        Nullable(String),
    visitor_key      Int64,
    version          UInt64 DEFAULT 0
) ENGINE = {replicated}ReplacingMergeTree(version)
PARTITION BY toYYYYMM(started_at)
ORDER BY (started_at, session_id);

CREATE VIEW IF NOT EXISTS sessions {on_cluster} AS SELECT * EXCEPT (version) FROM session_rows FINAL;

-- The event log, as on DuckDB, with `seq` (an event's place in its request: rows of one request
-- share received_at) and `scroll` (the depth it reports, as a session's summary counts it).
CREATE TABLE IF NOT EXISTS events {on_cluster} (
    received_at DateTime64(3),
    seq         UInt32,
    session_id  String,
    visitor_id  String,
    project     Nullable(String),
    type        LowCardinality(String),
    name        Nullable(String),
    url         Nullable(String),
    path        Nullable(String),
    title       Nullable(String),
    referrer    Nullable(String),
    props       Nullable(String),
    client_ms   Nullable(Int64),
    engaged_ms  Nullable(UInt32),
    scroll      Nullable(UInt8),
    is_bot      Bool DEFAULT false
) ENGINE = {replicated}MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (toStartOfHour(received_at), session_id, received_at, seq);

CREATE TABLE IF NOT EXISTS form_views {on_cluster} (
    received_at DateTime64(3),
    session_id  String,
    visitor_id  String,
    project     Nullable(String),
    form        Nullable(String),
    url         Nullable(String),
    client_ms   Nullable(Int64),
    is_bot      Bool DEFAULT false
) ENGINE = {replicated}MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (toStartOfHour(received_at), session_id, received_at);

-- A session/end: when, and what it reported beyond its events (engaged time, deepest scroll).
CREATE TABLE IF NOT EXISTS session_ends {on_cluster} (
    session_id String,
    ended_at   DateTime64(3),
    engaged_ms UInt32,
    max_scroll Nullable(UInt8)
) ENGINE = {replicated}MergeTree
PARTITION BY toYYYYMM(ended_at)
ORDER BY (session_id, ended_at);

-- Each session's summary, folded from its events and ends as they are inserted (the rules of
-- domain/engagement.SessionActivity). Read with GROUP BY session_id: parts not yet merged hold
-- partial rows. Ordered by session id: native ids start with their time, so recent sessions are
-- together, and one session is one range of one part.
CREATE TABLE IF NOT EXISTS session_activity {on_cluster} (
    session_id    String,
    last_event_at SimpleAggregateFunction(max, Nullable(DateTime64(3))),
    last_end_at   SimpleAggregateFunction(max, Nullable(DateTime64(3))),
    page_views    SimpleAggregateFunction(sum, UInt64),
    event_count   SimpleAggregateFunction(sum, UInt64),
    interactions  SimpleAggregateFunction(sum, UInt64),
    form_starts   SimpleAggregateFunction(sum, UInt64),
    form_submits  SimpleAggregateFunction(sum, UInt64),
    engaged_ms    SimpleAggregateFunction(sum, UInt64),
    max_scroll    SimpleAggregateFunction(max, UInt8),
    exit_url      AggregateFunction(argMaxIf, String, Tuple(DateTime64(3), UInt32), UInt8),
    -- The idle sweep looks for sessions whose last event is about an idle timeout old.
    INDEX recent_events last_event_at TYPE minmax GRANULARITY 1
) ENGINE = {replicated}AggregatingMergeTree
ORDER BY session_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS session_activity_from_events {on_cluster} TO session_activity AS
SELECT
    session_id,
    max(received_at) AS last_event_at,
    CAST(NULL AS Nullable(DateTime64(3))) AS last_end_at,
    toUInt64(countIf(type = 'pageview')) AS page_views,
    toUInt64(count()) AS event_count,
    toUInt64(countIf(type IN ('click', 'outbound', 'download', 'custom'))) AS interactions,
    toUInt64(countIf(type = 'form_start')) AS form_starts,
    toUInt64(countIf(type = 'form_submit')) AS form_submits,
    toUInt64(sum(coalesce(engaged_ms, 0))) AS engaged_ms,
    max(coalesce(scroll, 0)) AS max_scroll,
    argMaxIfState(coalesce(url, ''), (received_at, seq), toUInt8(type = 'pageview' AND coalesce(url, '') != ''))
        AS exit_url
FROM events
GROUP BY session_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS session_activity_from_ends {on_cluster} TO session_activity AS
SELECT
    session_id,
    CAST(NULL AS Nullable(DateTime64(3))) AS last_event_at,
    max(ended_at) AS last_end_at,
    toUInt64(0) AS page_views,
    toUInt64(0) AS event_count,
    toUInt64(0) AS interactions,
    toUInt64(0) AS form_starts,
    toUInt64(0) AS form_submits,
    toUInt64(sum(engaged_ms)) AS engaged_ms,
    max(coalesce(max_scroll, 0)) AS max_scroll,
    argMaxIfState('', (ended_at, toUInt32(0)), toUInt8(0)) AS exit_url  -- an end names no page
FROM session_ends
GROUP BY session_id

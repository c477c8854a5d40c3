-- The first schema: settings and secrets, sessions, and the append-only event log.
-- Timestamps are UTC (TIMESTAMP without zone); the API speaks epoch milliseconds.

CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE sessions (
    session_id    VARCHAR PRIMARY KEY,
    visitor_id    VARCHAR NOT NULL,
    project       VARCHAR,
    started_at    TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    ended_at      TIMESTAMP,
    entry_url     VARCHAR NOT NULL,
    referrer      VARCHAR,
    title         VARCHAR,
    utm_source    VARCHAR,
    utm_medium    VARCHAR,
    utm_campaign  VARCHAR,
    utm_term      VARCHAR,
    utm_content   VARCHAR,
    screen_width  INTEGER,
    screen_height INTEGER,
    language      VARCHAR,
    timezone      VARCHAR,
    user_agent    VARCHAR,
    -- Enrichment, computed at session start (never the IP itself).
    source           VARCHAR NOT NULL DEFAULT 'Direct',
    referrer_host    VARCHAR,
    country          VARCHAR,
    as_organisation  VARCHAR,
    is_hosting       BOOLEAN NOT NULL DEFAULT false,
    browser          VARCHAR,
    os               VARCHAR,
    device           VARCHAR,
    is_bot           BOOLEAN NOT NULL DEFAULT false,
    -- The summary, written when the session ends, so analytics never scan its events.
    end_reason       VARCHAR,          -- 'client' (session/end) or 'idle' (timeout sweep)
    exit_url         VARCHAR,
    page_views       INTEGER,
    event_count      INTEGER,
    interactions     INTEGER,
    form_starts      INTEGER,
    form_submits     INTEGER,
    max_scroll       INTEGER,
    engaged_ms       BIGINT,
    duration_ms      BIGINT,
    engagement_score INTEGER
);

-- The event types of pulsegate.domain.tracking.EventType (a test keeps the two equal). An ENUM,
-- not VARCHAR: filtering on type runs twice as fast at 10M events (BENCHMARKS.md). A new type
-- needs a migration that recreates the type and converts the column.
CREATE TYPE event_type AS ENUM (
    'pageview', 'click', 'outbound', 'download', 'scroll', 'engagement', 'form_start', 'form_submit', 'custom'
);

-- Append-only and written in arrival order, so DuckDB's per-row-group min/max on received_at
-- prunes recent-window queries to the last few row groups. No index: appends stay cheap.
CREATE TABLE events (
    received_at TIMESTAMP NOT NULL,
    session_id  VARCHAR NOT NULL,
    visitor_id  VARCHAR NOT NULL,
    project     VARCHAR,
    type        event_type NOT NULL,
    name        VARCHAR,
    url         VARCHAR,
    path        VARCHAR,  -- the URL's path, kept at ingest so top-pages queries never parse URLs
    title       VARCHAR,
    referrer    VARCHAR,
    props       VARCHAR,  -- a JSON object; VARCHAR because JSON re-validates on every append (3x the cost)
    client_ms   BIGINT,   -- the browser's clock, epoch ms as sent (BIGINT: a TIMESTAMP costs 8x to append)
    engaged_ms  INTEGER,  -- props.engaged_ms when the event reports engaged time
    is_bot      BOOLEAN NOT NULL DEFAULT false  -- copied from the session: analytics skip bots without a join
);

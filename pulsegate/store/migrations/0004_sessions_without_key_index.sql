-- The sessions table without its PRIMARY KEY. DuckDB keeps a key's index (an ART) in memory; it
-- counts against memory_limit and cannot be evicted. With the default 64 MB and random (v4)
-- session ids, a server that had written ~460,000-526,000 sessions since its start failed its
-- next commit or checkpoint, after which DuckDB refuses every write until a restart
-- (bench/session_table.py, BENCHMARKS.md). Session ids are now generated time-ordered (UUIDv7,
-- unique by construction) and rows are stored in start order, so DuckDB's per-row-group min/max
-- finds one session by id without an index. DuckDB cannot drop a constraint: the table is
-- rebuilt, in its stored order.

CREATE TABLE sessions_rebuilt (
    session_id    VARCHAR NOT NULL,  -- unique by construction (UUIDv7), not by an index
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

INSERT INTO sessions_rebuilt SELECT * FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_rebuilt RENAME TO sessions;

-- The event rollup (pulsegate/store/rollup.py): by hour, the rows event-dimension reports read,
-- with the visitor and session as 64-bit keys. Filled from `events` by the server's rollup job
-- for the hours from `rollup_state.since` to `rollup_state.frontier`; reports read raw events
-- (and the Parquet archive, where retention moved older ones) outside them.

CREATE TABLE page_facts (
    hour        TIMESTAMP NOT NULL,  -- UTC hour the events were received in
    project     VARCHAR,
    path        VARCHAR NOT NULL,
    session_key UBIGINT NOT NULL,    -- hash(session_id)
    visitor_key UBIGINT NOT NULL,    -- hash(visitor_id)
    views       INTEGER NOT NULL     -- page views of the path by the session in the hour
);

CREATE TABLE engaged_facts (
    hour        TIMESTAMP NOT NULL,
    project     VARCHAR,
    path        VARCHAR NOT NULL,
    session_key UBIGINT NOT NULL,
    engaged_ms  BIGINT NOT NULL      -- engaged time the session reported on the path in the hour
);

CREATE TABLE event_facts (
    hour        TIMESTAMP NOT NULL,
    project     VARCHAR,
    kind        VARCHAR NOT NULL,    -- 'event' (custom event name), 'outbound', 'download', 'prop'
    key         VARCHAR,             -- the property key, for kind 'prop'
    value       VARCHAR NOT NULL,
    session_key UBIGINT NOT NULL,
    visitor_key UBIGINT NOT NULL,
    hits        INTEGER NOT NULL
);

CREATE TABLE rollup_state (
    since      TIMESTAMP,  -- the facts hold every hour from this one (NULL: from the first event)
    frontier   TIMESTAMP,  -- to this one (NULL: no facts yet)
    hash_probe UBIGINT     -- hash() of a fixed text when the facts were made: a DuckDB that hashes
                           -- differently starts the facts over
);
INSERT INTO rollup_state VALUES (NULL, NULL, NULL);

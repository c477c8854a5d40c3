-- Funnels and goals from the config file (issue 17).
--
-- Funnels order events: `moment_facts` keeps each page view and custom event with its moment (an order key: see store/rollup.ORDER_KEY). Property facts keep the custom event
-- they were on (`event`), so a goal on a property value reads them too. The facts made so far
-- are made again: the tables are dropped and created empty, and the rollup job fills them
-- (reports read raw events meanwhile). Dropped, not deleted from: deleting 17M rows in one
-- transaction needs more than the default 64 MB of DuckDB memory (a 50M-event file failed to
-- open that way).
DROP TABLE page_facts;
DROP TABLE engaged_facts;
DROP TABLE event_facts;

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
    hits        INTEGER NOT NULL,
    event       VARCHAR              -- kind 'prop': the custom event the property was on
);

CREATE TABLE moment_facts (
    hour        TIMESTAMP NOT NULL,
    project     VARCHAR,
    kind        VARCHAR NOT NULL,    -- 'page' (the value is a path) or 'event' (a custom event's name)
    value       VARCHAR NOT NULL,
    session_key UBIGINT NOT NULL,
    visitor_key UBIGINT NOT NULL,
    moment      BIGINT NOT NULL      -- the event's order key
);

UPDATE rollup_state SET frontier = NULL;

-- Where a goal was declared: 'cli' (goals add) or 'config' (the config file's [[goals]], written
-- again at every start, so removing one there removes it here).
ALTER TABLE goals ADD COLUMN declared_in VARCHAR NOT NULL DEFAULT 'cli';

-- Saved funnels (pulsegate/domain/funnels.py): `funnels add NAME --step …`.
CREATE TABLE funnels (
    name       VARCHAR PRIMARY KEY,
    steps      VARCHAR NOT NULL,  -- a JSON list of step texts: page:PATTERN, event:NAME, goal:NAME, lead
    within     VARCHAR NOT NULL,  -- 'session' or 'visitor'
    window_ms  BIGINT,            -- within='visitor': how long after the first step the others count
    project    VARCHAR,           -- NULL: every project
    created_at TIMESTAMP NOT NULL
);

-- History brought in from another tool (issue 19): the imports, and Plausible's daily aggregates.
--
-- `imports` lists every import, whatever its origin. A Plausible CE export is daily totals per
-- dimension value, which cannot become sessions: its rows live in `imported_daily` and the
-- reports add them where the question can be answered from them (domain/imported.py). An Umami
-- database has raw events: they become ordinary sessions and events, tagged in `imported_sessions`
-- so `import remove` can take them out again; `state` holds where a resumable import stopped.

CREATE SEQUENCE import_ids START 1;

CREATE TABLE imports (
    id          INTEGER PRIMARY KEY DEFAULT nextval('import_ids'),
    project     VARCHAR NOT NULL,
    origin      VARCHAR NOT NULL,  -- 'plausible' or 'umami'
    label       VARCHAR NOT NULL,  -- the export's file name, or the Umami website id
    status      VARCHAR NOT NULL,  -- 'loading' until every row is in, then 'complete'
    first_day   DATE,              -- the days it covers, inclusive, in `timezone`
    last_day    DATE,
    timezone    VARCHAR NOT NULL,
    row_count   BIGINT NOT NULL DEFAULT 0,
    state       VARCHAR,           -- JSON: an import's own progress (Umami's resume point)
    created_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);

-- One row per (file, day, dimension values) of a Plausible export, its values already in
-- PulseGate's vocabulary (sources, devices, browsers, operating systems). `kind` is the file it
-- came from (domain/plausible_export.KINDS); a column a kind does not carry is NULL. Duplicate
-- keys are kept as rows: every query sums.
CREATE TABLE imported_daily (
    import_id        INTEGER NOT NULL,
    project          VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,
    day              DATE NOT NULL,
    source           VARCHAR,
    referrer         VARCHAR,
    utm_source       VARCHAR,
    utm_medium       VARCHAR,
    utm_campaign     VARCHAR,
    utm_term         VARCHAR,
    utm_content      VARCHAR,
    page             VARCHAR,
    hostname         VARCHAR,
    entry_page       VARCHAR,
    exit_page        VARCHAR,
    event            VARCHAR,
    outbound         VARCHAR,
    download         VARCHAR,
    country          VARCHAR,
    region           VARCHAR,
    device           VARCHAR,
    browser          VARCHAR,
    browser_version  VARCHAR,
    os               VARCHAR,
    os_version       VARCHAR,
    visitors         BIGINT NOT NULL DEFAULT 0,
    visits           BIGINT NOT NULL DEFAULT 0,
    pageviews        BIGINT NOT NULL DEFAULT 0,
    bounces          BIGINT NOT NULL DEFAULT 0,
    visit_duration   BIGINT NOT NULL DEFAULT 0,  -- seconds, summed over the visits
    events           BIGINT NOT NULL DEFAULT 0,
    time_on_page     BIGINT NOT NULL DEFAULT 0,  -- engaged seconds (pages of v3 exports)
    time_on_page_visits BIGINT NOT NULL DEFAULT 0
);

-- Which native sessions an import (Umami) wrote, so removing it removes exactly them (their
-- events go by session id) and a second run skips what the first wrote.
CREATE TABLE imported_sessions (
    import_id  INTEGER NOT NULL,
    session_id VARCHAR PRIMARY KEY
);

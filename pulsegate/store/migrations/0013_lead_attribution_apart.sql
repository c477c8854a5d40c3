-- A lead's attribution in its own table, written in the commit after the lead's (issue 18).
--
-- A DuckDB commit costs about 20-35 µs per column of the table it appends to, NULL or not: the
-- attribution columns of 0010 (25 storage columns, 14 of them the touch list) made the commit of
-- the lead's row, which a capture waits for, 2-3 ms slower: 6.2-6.7 ms where it took 3.5-4.4
-- (bench/attribution.py, BENCHMARKS.md).
-- The capture now commits the lead as narrow as before, answers, and its attribution follows in
-- the next commit (services/attribution.AttributionWrites); readers of attribution wait for the
-- ones still queued, and a sweep recomputes any a crash left out, for the leads created since
-- `attribution:since` (this migration's time: older leads had their touches moved here, or had
-- none). The meaning of each column is in 0010. One row per lead, the key refuses a second.

CREATE TABLE lead_attribution (
    lead_id VARCHAR PRIMARY KEY,
    touches INTEGER NOT NULL,               -- len(touch_list)
    touch_list STRUCT(
        touched_at TIMESTAMP, session_id VARCHAR, source VARCHAR, referrer_host VARCHAR,
        utm_source VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR, utm_term VARCHAR,
        utm_content VARCHAR, landing_page VARCHAR, click_ids VARCHAR, country VARCHAR, device VARCHAR
    )[] NOT NULL,
    first_touch INTEGER NOT NULL,           -- 1-based positions in touch_list
    last_touch INTEGER NOT NULL,
    time_to_convert_ms BIGINT NOT NULL,
    converting_landing_page VARCHAR,
    converting_page_views INTEGER,
    converting_engaged_ms BIGINT,
    converting_score INTEGER,
    from_hosting BOOLEAN
);

INSERT INTO lead_attribution
SELECT lead_id, touches, touch_list, first_touch, last_touch, time_to_convert_ms, converting_landing_page,
       converting_page_views, converting_engaged_ms, converting_score, from_hosting
FROM leads WHERE touches > 0 ORDER BY created_at, lead_id;

INSERT INTO meta (key, value)
SELECT 'attribution:since', CAST(epoch_ms(current_timestamp) AS VARCHAR)
WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'attribution:since');

ALTER TABLE leads DROP COLUMN touches;
ALTER TABLE leads DROP COLUMN touch_list;
ALTER TABLE leads DROP COLUMN first_touch;
ALTER TABLE leads DROP COLUMN last_touch;
ALTER TABLE leads DROP COLUMN time_to_convert_ms;
ALTER TABLE leads DROP COLUMN converting_landing_page;
ALTER TABLE leads DROP COLUMN converting_page_views;
ALTER TABLE leads DROP COLUMN converting_engaged_ms;
ALTER TABLE leads DROP COLUMN converting_score;
ALTER TABLE leads DROP COLUMN from_hosting;

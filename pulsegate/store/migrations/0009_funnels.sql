-- Funnels and goals from the config file (issue 17).
--
-- The page, custom-event and property facts keep the moments of their events (`times`, each an order key:
-- see store/rollup.ORDER_KEY), so a funnel reads them in order without scanning raw events. The
-- facts made so far have no times: they are dropped, and the rollup job makes them again (reports
-- read raw events meanwhile).
ALTER TABLE page_facts ADD COLUMN times BIGINT[];
ALTER TABLE event_facts ADD COLUMN times BIGINT[];
-- The custom event a property row's property was on (NULL for other kinds): goals on a property
-- value (`--event Signup --prop plan=pro`) read these rows instead of raw events.
ALTER TABLE event_facts ADD COLUMN event VARCHAR;
DELETE FROM page_facts;
DELETE FROM engaged_facts;
DELETE FROM event_facts;
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

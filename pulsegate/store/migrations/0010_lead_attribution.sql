-- Lead attribution and the CRM's outcomes (issue 18).
--
-- Each lead keeps, from its capture on, the visitor's sessions that led to it (`touch_list`,
-- oldest first, with the positions of the first and last touch) and a summary of the session it
-- came from; nothing here changes after the capture (pulsegate/domain/attribution.py has the
-- rules). A list on the lead's own row, not a table of touches: a second table in the capture's
-- commit cost 2.5-3.5 ms per lead, a third of the capture (bench/attribution.py). Leads captured
-- before this migration have no touches (`touches` NULL): their sessions may be gone.
-- The CRM's stages arrive later, as a history (lead_stages); the latest is copied onto the lead.

ALTER TABLE leads ADD COLUMN touches INTEGER;               -- len(touch_list)
ALTER TABLE leads ADD COLUMN touch_list STRUCT(
    touched_at TIMESTAMP,    -- the session's start (the submission's time without one)
    session_id VARCHAR,      -- NULL: the submission's own touch (no session was known)
    source VARCHAR, referrer_host VARCHAR, utm_source VARCHAR, utm_medium VARCHAR, utm_campaign VARCHAR,
    utm_term VARCHAR, utm_content VARCHAR, landing_page VARCHAR,
    click_ids VARCHAR,       -- a JSON object, NULL when the landing URL had none
    country VARCHAR, device VARCHAR
)[];
ALTER TABLE leads ADD COLUMN first_touch INTEGER;           -- 1-based positions in touch_list
ALTER TABLE leads ADD COLUMN last_touch INTEGER;
ALTER TABLE leads ADD COLUMN time_to_convert_ms BIGINT;     -- from the first touch to the lead
ALTER TABLE leads ADD COLUMN converting_landing_page VARCHAR;
ALTER TABLE leads ADD COLUMN converting_page_views INTEGER;
ALTER TABLE leads ADD COLUMN converting_engaged_ms BIGINT;
ALTER TABLE leads ADD COLUMN converting_score INTEGER;      -- the engagement score at capture
ALTER TABLE leads ADD COLUMN from_hosting BOOLEAN;          -- the converting session's network hosts servers or VPNs
ALTER TABLE leads ADD COLUMN content_key VARCHAR;           -- a salted hash of a submission without an id (dedup)
ALTER TABLE leads ADD COLUMN stage VARCHAR;                 -- the CRM's latest stage (qualified, won, lost, ...)
ALTER TABLE leads ADD COLUMN stage_value DOUBLE;
ALTER TABLE leads ADD COLUMN stage_currency VARCHAR;
ALTER TABLE leads ADD COLUMN stage_at TIMESTAMP;

CREATE TABLE lead_stages (
    lead_id     VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,    -- lower case
    value       DOUBLE,
    currency    VARCHAR,             -- ISO 4217, upper case
    happened_at TIMESTAMP NOT NULL,  -- when the CRM says it happened (else when it told us)
    received_at TIMESTAMP NOT NULL
);

-- API keys for the analytics API, and the leads table the analytics count
-- (lead capture itself fills it; see the leads routes).

CREATE TABLE api_keys (
    key_id        VARCHAR PRIMARY KEY,   -- public, short; shown in `pulsegate keys list`
    name          VARCHAR NOT NULL,
    prefix        VARCHAR NOT NULL,      -- the first characters of the secret, to recognise it
    secret_hash   VARCHAR NOT NULL UNIQUE, -- sha256 hex of the whole secret; the secret is never stored
    projects      VARCHAR[] NOT NULL,    -- empty: every project
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP,
    revoked_at    TIMESTAMP
);

CREATE TABLE leads (
    lead_id        VARCHAR PRIMARY KEY,
    submission_id  VARCHAR NOT NULL UNIQUE,
    created_at     TIMESTAMP NOT NULL,
    project        VARCHAR,
    source         VARCHAR,              -- the form's own source label
    session_id     VARCHAR,
    visitor_id     VARCHAR,
    traffic_source VARCHAR,              -- the linked session's source (Google, Direct, ...)
    name           VARCHAR,
    email          VARCHAR,
    phone          VARCHAR,
    company        VARCHAR,
    message        VARCHAR,
    fields         VARCHAR,              -- a JSON object of the form's other fields
    page_url       VARCHAR,
    utm_source     VARCHAR,
    utm_medium     VARCHAR,
    utm_campaign   VARCHAR,
    utm_term       VARCHAR,
    utm_content    VARCHAR,
    is_spam        BOOLEAN NOT NULL DEFAULT false,
    status         VARCHAR NOT NULL DEFAULT 'new',  -- new, forwarded, synced, failed, spam
    crm_lead_id    VARCHAR,
    crm_synced_at  TIMESTAMP
);

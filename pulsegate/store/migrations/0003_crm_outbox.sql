-- The durable outbox of CRM deliveries: a lead and its delivery row commit in one transaction,
-- so a lead acknowledged to the browser is always either delivered or still queued.

CREATE TABLE deliveries (
    delivery_id     VARCHAR PRIMARY KEY,
    subject_id      VARCHAR NOT NULL,    -- target crm: the lead's id; target alerts: the finding's key
    target          VARCHAR NOT NULL,    -- 'crm' or 'alerts'
    payload         VARCHAR NOT NULL,    -- the JSON body, fixed at capture: every retry sends the same bytes
    status          VARCHAR NOT NULL,    -- pending, delivered, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_attempt_at TIMESTAMP,
    last_status     INTEGER,             -- the HTTP status of the last attempt, if one came back
    last_error      VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    delivered_at    TIMESTAMP
);

ALTER TABLE leads ADD COLUMN spam_reason VARCHAR;

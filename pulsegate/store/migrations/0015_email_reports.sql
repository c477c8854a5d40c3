-- Scheduled email reports (issue 20): who gets which project's numbers how often, and each send.
--
-- A schedule comes from the config file ([[reports]], `from_config`, rewritten at every start as
-- goals are) or from `pulsegate reports add`. A send is one schedule's one period: its key
-- refuses a second row, so a period is never mailed twice; a failed send keeps its row and is
-- tried again after `next_attempt_at`.

CREATE TABLE email_reports (
    name        VARCHAR PRIMARY KEY,
    project     VARCHAR,             -- NULL: every project
    recipients  VARCHAR[] NOT NULL,
    every       VARCHAR NOT NULL,    -- 'week' or 'month'
    day         INTEGER NOT NULL,    -- week: 1 (Monday) to 7; month: 1 to 28
    hour        INTEGER NOT NULL,    -- 0 to 23, in tz
    tz          VARCHAR NOT NULL,
    model       VARCHAR NOT NULL,    -- the attribution model of its leads by campaign
    from_config BOOLEAN NOT NULL DEFAULT false,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE email_report_sends (
    name            VARCHAR NOT NULL,
    period_start    TIMESTAMP NOT NULL,   -- UTC, the first instant the report covers
    period_end      TIMESTAMP NOT NULL,
    status          VARCHAR NOT NULL,     -- 'sending' (just before SMTP), 'sent', 'failed' (tried again) or 'given_up'
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    last_error      VARCHAR,
    sent_at         TIMESTAMP,
    message_id      VARCHAR NOT NULL,
    PRIMARY KEY (name, period_start)
);

-- When a form came into view (issue 18): the tracker's `form_view` events, kept apart from the
-- events table. They could have been a new event type, but DuckDB cannot add a value to an ENUM:
-- moving the events' `type` column to a new one rewrote it, which at 50M events needed 256 MB of
-- DuckDB memory (a file at the 64 MB default failed to open). Appended in arrival order, as events.
CREATE TABLE form_views (
    received_at TIMESTAMP NOT NULL,
    session_id  VARCHAR NOT NULL,
    visitor_id  VARCHAR NOT NULL,
    project     VARCHAR,
    form        VARCHAR,            -- the form's label, as form_start and form_submit events name it
    url         VARCHAR,
    client_ms   BIGINT,
    is_bot      BOOLEAN NOT NULL DEFAULT false
);

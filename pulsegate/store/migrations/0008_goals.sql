-- Goals (pulsegate/domain/goals.py): what counts as a conversion. One row per goal, by name;
-- the columns of its kind are set, the others NULL.

CREATE TABLE goals (
    name       VARCHAR PRIMARY KEY,
    kind       VARCHAR NOT NULL,  -- 'event', 'page' or 'lead'
    project    VARCHAR,           -- NULL: every project
    event      VARCHAR,           -- kind 'event': the custom event's name
    prop_key   VARCHAR,           --   and optionally one property value it must carry
    prop_value VARCHAR,
    page       VARCHAR,           -- kind 'page': the path pattern, * for any characters
    form       VARCHAR,           -- kind 'lead': optionally the form source it must come from
    created_at TIMESTAMP NOT NULL
);

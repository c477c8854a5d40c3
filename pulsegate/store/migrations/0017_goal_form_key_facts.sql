-- More of the event rollup (pulsegate/store/rollup.py, issue 21: every analytics route under 300 ms
-- at 50M events):
-- - goal_facts: each goal rule's rows (a page pattern, a custom event, a property value on one),
--   summed per hour, project and session, for the rules listed in goal_rules. The rollup job
--   makes a rule's facts after a goal with it is added (rollup.hold_goals); until then its goals
--   read the page and event facts.
-- - form_facts: form starts and submits per hour, project, form label and session (the forms
--   report scanned every event's type for them).
-- - event_facts of kind 'keys': the property keys of custom events, any key, the event's name as
--   `key` and the property key as `value` (/analytics/properties read raw events).
-- The last two are made here for the hours the rollup holds, as rollup.form_rows and
-- rollup.event_rows make them.

CREATE TABLE goal_facts (
    hour        TIMESTAMP NOT NULL,  -- UTC hour the events were received in
    rule        VARCHAR NOT NULL,    -- rollup.goal_rule: what the goal matches, as JSON
    project     VARCHAR,
    session_key UBIGINT NOT NULL,
    visitor_key UBIGINT NOT NULL,
    hits        INTEGER NOT NULL     -- the session's conversions on the rule in the hour
);

CREATE TABLE goal_rules (
    rule VARCHAR NOT NULL            -- a rule whose goal facts are held for every hour the rollup holds
);

CREATE TABLE form_facts (
    hour        TIMESTAMP NOT NULL,
    project     VARCHAR,
    kind        VARCHAR NOT NULL,    -- 'form_start' or 'form_submit'
    form        VARCHAR,             -- the form's label (the events' name)
    session_key UBIGINT NOT NULL,
    hits        INTEGER NOT NULL
);

INSERT INTO form_facts
SELECT * FROM (
SELECT date_trunc('hour', received_at) AS hour, project, CAST(type AS VARCHAR) AS kind, name AS form,
       hash(session_id) AS session_key, count(*)::INTEGER AS hits
FROM events
WHERE received_at >= (SELECT coalesce(since, '-infinity'::TIMESTAMP) FROM rollup_state)
  AND received_at < (SELECT coalesce(frontier, '-infinity'::TIMESTAMP) FROM rollup_state)
  AND NOT is_bot AND type BETWEEN 'form_start'::event_type AND 'form_submit'::event_type
GROUP BY ALL)
ORDER BY CAST(hour AS DATE), kind, form;

INSERT INTO event_facts
SELECT * FROM (
SELECT date_trunc('hour', received_at) AS hour, project, 'keys' AS kind, name AS key, value,
       hash(session_id) AS session_key, hash(visitor_id) AS visitor_key, count(*)::INTEGER AS hits,
       NULL::VARCHAR AS event
FROM (SELECT received_at, project, session_id, visitor_id, name, unnest(json_keys(props)) AS value
      FROM events
      WHERE received_at >= (SELECT coalesce(since, '-infinity'::TIMESTAMP) FROM rollup_state)
        AND received_at < (SELECT coalesce(frontier, '-infinity'::TIMESTAMP) FROM rollup_state)
        AND NOT is_bot AND type = 'custom' AND props IS NOT NULL AND name IS NOT NULL)
GROUP BY ALL)
ORDER BY CAST(hour AS DATE), key, value;

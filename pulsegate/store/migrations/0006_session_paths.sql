-- The paths of a session's entry and exit pages, kept so the entry_page and exit_page reports
-- group by a column instead of parsing every session's URL on every query (as events.path does).
-- New rows get them from pulsegate.domain.sources.path_of; older rows from the same rule in SQL
-- (the path between the host and ?/#, "/" when empty).

ALTER TABLE sessions ADD COLUMN entry_path VARCHAR;
ALTER TABLE sessions ADD COLUMN exit_path VARCHAR;

UPDATE sessions SET
    entry_path = coalesce(nullif(regexp_extract(entry_url, '^(?:[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)?([^?#]*)', 1), ''), '/'),
    exit_path = CASE WHEN exit_url IS NOT NULL AND exit_url <> '' THEN
        coalesce(nullif(regexp_extract(exit_url, '^(?:[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)?([^?#]*)', 1), ''), '/') END;

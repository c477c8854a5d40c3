-- A visitor's sessions, found by an integer (issue 18): each session keeps `visitor_key`, the
-- first 60 bits of its visitor id (domain/visitor.visitor_key; the same rule as
-- store/visitors.VISITOR_KEY_SQL). Lead attribution reads a visitor's sessions at every capture:
-- comparing this column took 1.4 ms where the 64-character id took 4.7 ms over 200,000 sessions
-- under the 64 MB limit (bench/attribution.py). Filling it for 800,000 sessions took 0.5 s.
ALTER TABLE sessions ADD COLUMN visitor_key BIGINT;
UPDATE sessions SET visitor_key = ('0x' || substr(CASE WHEN regexp_full_match(visitor_id, '[0-9a-f]{64}')
    THEN visitor_id ELSE sha256(visitor_id) END, 1, 15))::BIGINT;

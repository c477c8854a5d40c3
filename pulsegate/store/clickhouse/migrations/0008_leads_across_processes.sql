-- Lead capture and the CRM outbox with any number of processes (services/stateless_leads.py):
-- a lead's insert carries a token made from its submission id, and a stage entry's from its place
-- in the lead's history, so two processes taking the same submission or callback at once keep one
-- row (the tables keep a window of recent tokens, as the fact tables do: 0007). A delivery attempt
-- is claimed first: one row per delivery, attempt and round, the first insert of its token wins.
ALTER TABLE leads {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE lead_stages {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
CREATE TABLE IF NOT EXISTS delivery_claims {on_cluster} (
    delivery_id String,
    attempt     Int32,
    round       Int64,
    holder      String,
    claimed_at  DateTime64(3)
) ENGINE = {replicated}MergeTree ORDER BY (delivery_id, attempt, round)
TTL toDateTime(claimed_at) + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 10000

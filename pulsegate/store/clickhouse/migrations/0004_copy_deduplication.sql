-- `pulsegate storage copy` inserts each batch of a DuckDB file's rows with a deduplication token
-- of its rowid range (store/clickhouse/copy.py): a batch retried after the process died between
-- its insert and its place being kept is dropped, if its token is among the table's last 1000
-- inserts. Replicated tables keep such a window already; this gives the others one.
ALTER TABLE projects {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE api_keys {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE goals {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE funnels {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE email_reports {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE email_report_sends {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE share_links {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE session_rows {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE events {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE form_views {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE leads {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE lead_stages {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE lead_attribution {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE deliveries {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE imports {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE imported_daily {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE imported_sessions {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 1000;

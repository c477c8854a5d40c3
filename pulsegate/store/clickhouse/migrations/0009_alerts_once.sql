-- Anomaly alerts with any number of processes (services/alerts.py): each process scans, and an
-- alert's delivery is inserted with a token naming its finding and repeat window, so two processes
-- finding the same anomaly queue one post. The deliveries table keeps a window of recent tokens.
ALTER TABLE deliveries {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000

-- The event rollup on ClickHouse too (store/rollup.py): rollup_state's one row, which its turns
-- update (so with the block columns a lightweight UPDATE needs), and on every fact table a window
-- of recent insert tokens, so an hour's facts inserted twice (two processes taking the same turn,
-- or a turn again after a crash before the frontier moved) are kept once.
ALTER TABLE rollup_state {on_cluster} MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;
INSERT INTO rollup_state (since, frontier, hash_probe) SELECT NULL, NULL, NULL FROM system.one WHERE (SELECT count() FROM rollup_state) = 0;
ALTER TABLE page_facts {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE engaged_facts {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE event_facts {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE moment_facts {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE form_facts {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE goal_facts {on_cluster} MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE goal_rules {on_cluster} MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;

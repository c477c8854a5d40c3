-- How far each goal rule's facts reach (store/rollup.py; DuckDB migration 0018 says why): a turn
-- taken by one process while another holds a new goal makes no facts of that goal, so a rule's
-- facts are trusted up to `held_to` alone. NULL: held before this column existed.
ALTER TABLE goal_rules {on_cluster} ADD COLUMN IF NOT EXISTS held_to Nullable(DateTime64(3))

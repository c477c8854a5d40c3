-- How far each goal rule's facts reach (pulsegate/store/rollup.py, issue 22). On ClickHouse any
-- process may take a rollup turn while another holds a new goal; the turn, having read the rules
-- before the goal was held, makes no facts of it for its hours. So a rule's facts are trusted up to
-- `held_to` alone, and the rollup job carries a rule that fell behind the frontier up to it again.
-- NULL: held before this column existed, in step with the frontier (DuckDB's turns and holds are
-- transactions, so they were).

ALTER TABLE goal_rules ADD COLUMN held_to TIMESTAMP;

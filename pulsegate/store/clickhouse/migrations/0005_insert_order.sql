-- DuckDB's rowid orders a table's rows as they were inserted (a batch's events, a lead's stages
-- received in the same millisecond); ClickHouse's block number and offset columns do the same
-- (dialect.py reads `rowid` as them). The other tables that need it have them from their start.
ALTER TABLE events {on_cluster} MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;
ALTER TABLE lead_stages {on_cluster} MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1;

-- API keys and projects: small tables every process reads into memory (and reads again every
-- few seconds, since a change may come from any process or machine). They are changed rarely, by
-- ClickHouse's lightweight UPDATE and DELETE, which need the block number and offset columns;
-- the same columns tell which of two inserts of one key came first (docs/scaling.md, "Who wins").

CREATE TABLE IF NOT EXISTS api_keys {on_cluster} (
    key_id       String,
    name         String,
    prefix       String,
    secret_hash  String,
    projects     Array(String),
    created_at   DateTime64(3),
    last_used_at Nullable(DateTime64(3)),
    revoked_at   Nullable(DateTime64(3))
) ENGINE = {replicated}MergeTree ORDER BY key_id
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1;

CREATE TABLE IF NOT EXISTS projects {on_cluster} (
    name       String,
    domains    Array(String),
    created_at DateTime64(3)
) ENGINE = {replicated}MergeTree ORDER BY name
SETTINGS enable_block_number_column = 1, enable_block_offset_column = 1

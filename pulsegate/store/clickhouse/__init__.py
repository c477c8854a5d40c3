"""The ClickHouse engine of the store (storage.engine = "clickhouse"): connection, schema, SQL."""

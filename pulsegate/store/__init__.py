"""Storage: the DuckDB file, its migrations, the group-commit writer and the SQL."""

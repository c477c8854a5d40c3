"""One explicit transaction on a connection: committed when the block ends, rolled back when it raises."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb


@contextlib.contextmanager
def transaction(connection: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction of `connection`."""
    connection.begin()
    try:
        yield connection
        connection.commit()
    except BaseException:
        # A commit that failed has already rolled back in DuckDB: rolling back again raises
        # "no transaction is active", which would hide the real error.
        with contextlib.suppress(duckdb.Error):
            connection.rollback()
        raise

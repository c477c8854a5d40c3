"""Fixtures that run a module's tests on both engines, DuckDB and ClickHouse (through chDB): import
one into a test module (`from tests.engines import make_settings_on_both_engines`) and each of its
tests that asks for `make_settings` (or `cli_store`, the CLI on a store) runs on each."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from pulsegate.config import Settings
from pulsegate.store.database import Database
from tests.helpers import chdb_url, clickhouse_environ, file_rows, invoke_with, on_engine


@pytest.fixture(name="make_settings", params=["duckdb", "clickhouse"])
def make_settings_on_both_engines(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], unique_database: str
) -> Callable[..., Settings]:
    return on_engine(make_settings, request.param, unique_database)


@dataclass(frozen=True)
class CliStore:
    """The CLI run on one store, and that store's rows: a DuckDB file, or (with `environ`
    naming it) a ClickHouse database in this process's chDB folder."""

    database: Path
    environ: dict[str, str]

    def invoke(self, *args: str) -> Result:
        """Run the CLI in process on this store."""
        return invoke_with(self.environ, self.database, *args)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of DuckDB's `sql` on the store (translated on ClickHouse)."""
        if not self.environ:
            return file_rows(self.database, sql, params)
        with self.cursor() as cursor:
            return cursor.execute(sql, list(params)).fetchall()  # type: ignore[no-any-return]

    def insert(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run DuckDB's `INSERT INTO t (columns) VALUES (?, …)` for each of `rows`."""
        with self.cursor() as cursor:
            cursor.executemany(sql, rows)

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor on the store: DuckDB's, or the ClickHouse store's, which speaks its interface."""
        if not self.environ:
            database = Database.open(self.database)
            try:
                yield database.connection
            finally:
                database.close()
            return
        from pulsegate.domain.clickhouse_target import parse_target
        from pulsegate.store.clickhouse.store import ClickHouseStore

        store = ClickHouseStore.open(parse_target(self.environ["PULSEGATE_CLICKHOUSE__URL"]))
        try:
            yield store.connection
        finally:
            store.close()


@pytest.fixture(params=["duckdb", "clickhouse"])
def cli_store(request: pytest.FixtureRequest, tmp_path: Path, unique_database: str) -> CliStore:
    """A store on each engine for the CLI, with one API key made (the store exists)."""
    environ = {}
    if request.param == "clickhouse":
        environ = clickhouse_environ(chdb_url(unique_database))
    store = CliStore(tmp_path / "pulsegate.duckdb", environ)
    made = store.invoke("keys", "create", "setup")
    assert made.exit_code == 0, made.output
    return store

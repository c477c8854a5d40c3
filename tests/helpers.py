"""Helpers the tests share: waiting, reading the app's database, API keys, running the CLI."""

from __future__ import annotations

import atexit
import dataclasses
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from litestar.testing import TestClient
from typer.testing import CliRunner, Result

from cli.main import app as cli_app
from pulsegate.config import Settings, load_settings
from pulsegate.ops import keys
from pulsegate.ops.runner import run_operation
from pulsegate.runtime import Runtime, runtime_of
from pulsegate.store.database import Database
from tests.e2e.running_server import pulsegate_command

_runner = CliRunner()
WIDE_TERMINAL = {"COLUMNS": "200"}  # Rich tables unwrapped, so tests can read whole rows


def wait_for(
    condition: Callable[[], Any], timeout: float = 15.0, what: str = "condition", page: Any = None
) -> Any:
    """Poll `condition` until it is truthy and return its value; AssertionError after `timeout`.

    With a Playwright `page`, pause through it so the page's event handlers keep running.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        if page is not None:
            page.wait_for_timeout(200)
        else:
            time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def app_runtime(client: TestClient[Any]) -> Runtime:
    """The in-process app's runtime (its database, services and settings)."""
    return runtime_of(client.app)


def break_runtime(client: TestClient[Any], **parts: Any) -> None:
    """Swap parts of the app's runtime (for example a service for None) to test a real bug path."""
    client.app.state["runtime"] = dataclasses.replace(app_runtime(client), **parts)


@contextmanager
def app_cursor(client: TestClient[Any]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on the app's own database (committed rows, the attribution of every lead captured
    so far among them: it is committed just after its lead), closed afterwards."""
    runtime = app_runtime(client)
    portal = getattr(client, "blocking_portal", None)  # inside the client's `with`, where the app runs
    if portal is not None and runtime.settings.storage.engine == "duckdb":
        portal.call(runtime.leads.attributions.settled)
    cursor = runtime.database.connection.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def app_rows(client: TestClient[Any], sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of `sql` on the app's own database."""
    with app_cursor(client) as cursor:
        return cursor.execute(sql, list(params)).fetchall()


def file_rows(path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of `sql` on the database file at `path` (opened, migrated, closed)."""
    database = Database.open(path)
    try:
        return database.connection.execute(sql, list(params)).fetchall()
    finally:
        database.close()


def new_api_key(settings: Settings, *projects: str, name: str = "test") -> str:
    """A fresh API key's secret for the settings' database (all projects when none are named)."""
    return run_operation(settings, keys.CREATE, keys.CreateKey(name=name, projects=list(projects))).secret


def served_key(client: TestClient[Any], *projects: str) -> str:
    """A new API key the served app already knows. On ClickHouse the CLI writes keys straight to
    the store and a server reads them within clickhouse.reload_seconds; the test reads them now."""
    key = new_api_key(app_runtime(client).settings, *projects)
    reload_keys(client)
    return key


def reload_keys(client: TestClient[Any]) -> None:
    """Have the served app read the API keys again (a no-op cost on DuckDB, where it always has)."""
    client.blocking_portal.call(app_runtime(client).api_keys.reload)


def engine_settings(folder: Path, engine: str, **storage: Any) -> Settings:
    """Settings for a store of `folder`'s own: a DuckDB file there, or a ClickHouse database of
    its own in this process's chDB folder."""
    clickhouse = {}
    if engine == "clickhouse":
        clickhouse = {"url": chdb_url("t_" + hashlib.sha256(str(folder).encode()).hexdigest()[:16])}
    return load_settings(
        None, environ={}, overrides={"storage": {"database": str(folder / "p.duckdb"), "engine": engine, **storage},
                                     "clickhouse": clickhouse},
    )  # fmt: skip


@functools.cache
def shared_chdb_folder() -> Path:
    """This test process's chDB folder. chDB opens one folder per process (a second is refused
    while the first is open), so every test on chDB shares it, each in a database of its own."""
    folder = Path(tempfile.mkdtemp(prefix="pulsegate-chdb-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


_BUILT_IN_DATABASES = {"default", "system", "information_schema", "INFORMATION_SCHEMA"}


def databases_in(chdb_folder: Path) -> set[str]:
    """The databases a chDB folder holds besides ClickHouse's own, read from its metadata files
    (no statement: the folder may be another process's)."""
    return {path.stem for path in (chdb_folder / "metadata").glob("*.sql")} - _BUILT_IN_DATABASES


def shared_chdb_databases() -> set[str]:
    """The databases in this process's chDB folder (none before a test has made the folder)."""
    if shared_chdb_folder.cache_info().currsize == 0:
        return set()
    return databases_in(shared_chdb_folder())


def drop_databases(url: str, databases: set[str]) -> None:
    """Drop these databases from the ClickHouse store `url` names (any of its databases)."""
    from pulsegate.domain.clickhouse_target import parse_target
    from pulsegate.store.clickhouse.connection import connect

    connection = connect(parse_target(url))
    try:
        for name in sorted(databases):
            connection.command(f"DROP DATABASE IF EXISTS `{name}` SYNC")
    finally:
        connection.close()


def copy_everything(cursor: Any, url: str) -> None:
    """Every row `pulsegate storage copy` copies, from a DuckDB cursor (a served app's, whose file
    the copy command could not open) into the ClickHouse store at `url`, migrated first."""
    from pulsegate.domain.clickhouse_target import parse_target
    from pulsegate.store.clickhouse import copy
    from pulsegate.store.clickhouse.store import ClickHouseStore

    store = ClickHouseStore.open(parse_target(url))
    try:
        copy.copy_secrets(cursor, store.connection)
        for table in copy.COPIED_TABLES:
            columns = copy.shared_columns(cursor, store.connection, table)
            _, top = copy.source_rows(cursor, table)
            copy.insert_range(
                store.connection, table, columns, copy.read_range(cursor, table, columns, 0, top), ""
            )
    finally:
        store.close()


def on_engine(make: Callable[..., Settings], engine: str, database: str) -> Callable[..., Settings]:
    """`make_settings` for `engine`: as it is for DuckDB; for ClickHouse, a database of its own
    (named `database`) in this process's chDB folder."""
    if engine == "duckdb":
        return make

    def on_clickhouse(**sections: dict[str, Any]) -> Settings:
        storage = {"engine": "clickhouse", **sections.pop("storage", {})}
        clickhouse = {"url": chdb_url(database), **sections.pop("clickhouse", {})}
        return make(storage=storage, clickhouse=clickhouse, **sections)

    return on_clickhouse


def clickhouse_environ(url: str) -> dict[str, str]:
    """The environment that puts PulseGate (the CLI, a server) on the ClickHouse store at `url`."""
    return {"PULSEGATE_STORAGE__ENGINE": "clickhouse", "PULSEGATE_CLICKHOUSE__URL": url}


def chdb_url(database: str) -> str:
    """A clickhouse.url for `database` in this process's chDB folder."""
    return f"chdb://{shared_chdb_folder()}?database={database}"


def invoke(database: Path, *args: str) -> Result:
    """Run the CLI in process on `database`, as a wide terminal."""
    return invoke_with({}, database, *args)


def invoke_with(environ: dict[str, str], database: Path, *args: str) -> Result:
    """`invoke` with these environment variables set (PULSEGATE_… settings)."""
    return _runner.invoke(cli_app, [*args, "--database", str(database)], env={**WIDE_TERMINAL, **environ})


def cli(*args: str, database: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed `pulsegate` command on `database`, as a wide terminal."""
    return subprocess.run(
        pulsegate_command(*args, "--database", str(database)),
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **WIDE_TERMINAL},
    )  # fmt: skip


def cli_output(*args: str, database: Path) -> str:
    """The standard output of a `pulsegate` command that must succeed."""
    done = cli(*args, database=database)
    assert done.returncode == 0, done.stderr
    return done.stdout


def server_api_key(database: Path, name: str = "browser-test") -> str:
    """A key created with the real CLI (live through a running server's control socket)."""
    return cli_output("keys", "create", name, "--quiet", database=database).strip()

"""Run an operation where the database is: inside the server over its control socket if one
holds the file, else by opening the file here. Both paths call the same function."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from pulsegate.config import Settings
from pulsegate.control.client import ask_server
from pulsegate.control.protocol import control_socket_path, error_from
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.errors import InvalidInput, NotOnThisEngine, StorageUnavailable
from pulsegate.ops.context import OpContext
from pulsegate.ops.operation import Operation
from pulsegate.store.database import Database, DatabaseLocked
from pulsegate.store.email_reports import replace_config_schedules
from pulsegate.store.goals import replace_config_goals

if TYPE_CHECKING:
    from pulsegate.store.clickhouse.store import ClickHouseStore

DEFAULT_TIMEOUT_SECONDS = 60.0
A = TypeVar("A", bound=msgspec.Struct)
R = TypeVar("R")


def run_operation(
    settings: Settings, operation: Operation[A, R], args: A, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> R:
    """Run `operation` with `args` on the settings' database; returns its result."""
    with OperationSession(settings, timeout=timeout) as session:
        return session.run(operation, args)


class OperationSession:
    """Several operations against one database: each over the control socket while a server
    answers there, else all on one offline opening of the file (an export of a million leads
    is hundreds of pages; opening the file for each would dominate)."""

    def __init__(self, settings: Settings, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._settings = settings
        self._timeout = timeout
        self._path = control_socket_path(settings.database_path)
        self._database: Database | None = None
        self._clickhouse: ClickHouseStore | None = None

    def __enter__(self) -> OperationSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None
        if self._clickhouse is not None:
            self._clickhouse.close()
            self._clickhouse = None

    def run(self, operation: Operation[A, R], args: A) -> R:
        """Run one operation; returns its result."""
        raw_args = msgspec.json.encode(args)
        # Validate here too, so the offline path refuses what the server would (Struct
        # constructors do not check constraints; decoding does).
        try:
            args = msgspec.json.decode(raw_args, type=operation.arguments)
        except msgspec.ValidationError as exc:
            raise InvalidInput(option_error(str(exc))) from None
        if self._settings.storage.engine == "clickhouse":
            return self._run_on_clickhouse(operation, args)
        if self._database is None:
            answer = ask_server(self._path, operation.name, raw_args, self._timeout)
            if answer is not None:
                if not answer.ok:
                    raise error_from(answer)
                result: R = msgspec.json.decode(bytes(answer.result), type=operation.result)
                return result
            if not operation.creates_database and not self._settings.database_path.exists():
                raise InvalidInput(missing_database(self._settings.database_path))
            self._database = open_offline(self._settings, self._path)
        database = self._database
        return operation.run(OpContext(database.connection, replace_file=database.swap_file), args)

    def _run_on_clickhouse(self, operation: Operation[A, R], args: A) -> R:
        """Straight on the shared store: any number of servers may be running, and each reads the
        keys and projects again within seconds (clickhouse.reload_seconds)."""
        if not operation.on_clickhouse:
            command = operation.name.replace(".", " ").replace("_", "-")
            if operation.never_on_clickhouse:
                raise NotOnThisEngine(
                    f"`pulsegate {command}` is for the DuckDB file: {operation.never_on_clickhouse}"
                )
            raise NotOnThisEngine(
                f"`pulsegate {command}` does not run on storage.engine = 'clickhouse' "
                "(docs/scaling.md lists what does)"
            )
        if self._clickhouse is None:
            from pulsegate.store.clickhouse.store import ClickHouseStore

            self._clickhouse = ClickHouseStore.open(self._settings.clickhouse_target)
            # As an offline opening of the file does: the config file's goals are the store's.
            cursor: Any = self._clickhouse.connection  # the store's cursor speaks DuckDB's interface
            replace_config_goals(cursor, self._settings.declared_goals, utc_datetime(now_ms()))
        # The store's cursor speaks DuckDB's interface (store/clickhouse/cursor.py).
        return operation.run(OpContext(self._clickhouse.connection), args)  # type: ignore[arg-type]


def option_error(message: str) -> str:
    """msgspec's "Expected `int` >= 1 - at `$.selection.limit`" as "--limit: expected `int` >= 1":
    a person typed an option, not a JSON path (arguments are named as the options are)."""
    text, separator, where = message.rpartition(" - at `$.")
    if not separator:
        return f"Invalid input: {message}"
    field = re.sub(r"\[[0-9]+\]", "", where.rstrip("`")).split(".")[-1]
    return f"--{field.replace('_', '-')}: {text[:1].lower()}{text[1:]}"


def missing_database(path: Path) -> str:
    """Why a command that reads a database refuses a path with none."""
    return (
        f"No database at {path}: check --database (or $PULSEGATE_DATABASE, or storage.database in the "
        "config). Nothing was created; `pulsegate serve` or `pulsegate keys create` makes a new one."
    )


def open_offline(settings: Settings, path: Path) -> Database:
    """The file of `settings` opened in this process (migrated, declared goals stored); `path` is
    its control socket, named in the error when another process holds the file."""
    storage = settings.storage
    try:
        database = Database.open(
            settings.database_path, threads=storage.duckdb_threads, memory_limit=storage.duckdb_memory_limit
        )
    except DatabaseLocked as exc:
        who = f"process {exc.holder_pid}" if exc.holder_pid else "another process"
        raise StorageUnavailable(
            f"The database {settings.database_path} is held by {who}, which does not answer on the "
            f"control socket {path}. If it is a PulseGate server it may still be starting: retry in a "
            "moment. Otherwise stop that process first."
        ) from exc
    replace_config_goals(database.connection, settings.declared_goals, utc_datetime(now_ms()))
    replace_config_schedules(database.connection, settings.declared_reports, utc_datetime(now_ms()))
    return database

"""One small interface over the two ways PulseGate reaches ClickHouse: chDB in the process, or a
server over HTTP through `clickhouse-connect`. Everything above speaks `?`-parameter SQL and rows
of plain Python values (naive UTC datetimes), as it does on DuckDB.

Both are imported only when the ClickHouse engine is configured: the default install has neither.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec

from pulsegate.domain.clickhouse_target import ClickHouseTarget
from pulsegate.errors import StorageUnavailable
from pulsegate.store.clickhouse.params import bind, tsv_escape

logger = logging.getLogger(__name__)
INSTALL_HINT = "install it with: pip install 'pulsegate[clickhouse]'"
# Every query's session settings, on both paths. join_use_nulls: an unmatched LEFT JOIN column is
# NULL, as on DuckDB (ClickHouse's default is the type's zero). Timestamps are naive UTC.
# union_default_mode: a bare UNION removes duplicates, as DuckDB's does. prefer_column_name_to_alias:
# a column named in WHERE is the table's, not a SELECT alias of the same name (DuckDB's reading).
QUERY_SETTINGS: dict[str, Any] = {
    "join_use_nulls": 1,
    "session_timezone": "UTC",
    "union_default_mode": "DISTINCT",
    "prefer_column_name_to_alias": 1,
    "function_json_value_return_type_allow_nullable": 1,
}
# Rows arrive as JSON, their datetimes as ISO text (msgspec's encoding).
INSERT_SETTINGS: dict[str, Any] = {"date_time_input_format": "best_effort"}

Row = tuple[Any, ...]


class ClickHouseError(StorageUnavailable):
    """ClickHouse refused a statement, or could not be reached."""


class ClickHouse(Protocol):
    """What the ClickHouse store needs of a connection; thread-safe."""

    target: ClickHouseTarget

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """The rows of a SELECT with `?` parameters."""
        ...

    def query_named(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[Row]]:
        """The column names and rows of a SELECT with `?` parameters."""
        ...

    def command(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a statement that returns no rows (DDL, INSERT … SELECT, ALTER)."""
        ...

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Row], *, token: str = "") -> None:
        """Insert rows; returns once ClickHouse has stored them. `token` deduplicates a retried
        insert on replicated tables (insert_deduplication_token)."""
        ...

    def raw(self, sql: str, params: Sequence[Any], fmt: str) -> bytes:
        """The answer of a SELECT with `?` parameters in ClickHouse's output format `fmt` (Parquet)."""
        ...

    def close(self) -> None: ...


def connect(target: ClickHouseTarget) -> ClickHouse:
    """A connection to `target`, its database created if missing."""
    if target.kind == "chdb":
        return ChdbConnection(target)
    return HttpConnection(target)


# Where ClickHouse's message goes on to quote the statement (its SQL is for the log, not an answer).
_QUOTES_SQL = (" In scope ", " In query ", ". Stack trace", " while executing ")
MAX_REASON = 300


def reason(exc: BaseException) -> str:
    """ClickHouse's reason for refusing, as an error answer may show it: its first line, without
    the statement it quotes, at most MAX_REASON characters (the whole message goes to the log)."""
    text = str(exc).strip()
    logger.warning("ClickHouse: %s", text)
    first = text.splitlines()[0] if text else type(exc).__name__
    for marker in _QUOTES_SQL:
        first = first.split(marker, 1)[0]
    return first if len(first) <= MAX_REASON else first[:MAX_REASON] + "…"


def json_rows(rows: Sequence[Row]) -> bytes:
    """Rows as JSONCompactEachRow, one JSON array per line."""
    return b"\n".join(_ENCODER.encode(row) for row in rows)


_ENCODER = msgspec.json.Encoder()


def _settings_clause(settings: dict[str, Any]) -> str:
    parts = []
    for name, value in settings.items():
        text = f"'{value}'" if isinstance(value, str) else str(value)
        parts.append(f"{name} = {text}")
    return ", ".join(parts)


# chDB runs one store per process, whatever the number of Session objects on it.
_CHDB_STATEMENTS = threading.Lock()


class ChdbConnection:
    """ClickHouse's engine in this process (chDB), on a folder of its own."""

    def __init__(self, target: ClickHouseTarget) -> None:
        try:
            from chdb import session as chdb_session
        except ImportError as exc:
            raise StorageUnavailable(f"clickhouse.url chdb://… needs chDB; {INSTALL_HINT}") from exc
        self.target = target
        try:
            self._session = chdb_session.Session(target.path)
        except Exception as exc:  # chDB raises RuntimeError subclasses with ClickHouse's message
            raise ClickHouseError(f"Cannot open the chDB store at {target.path}: {exc}") from exc
        # One statement at a time in the process (_CHDB_STATEMENTS): chDB keeps a query's
        # parameters on its one connection, so two at once lose each other's ("Substitution `p0`
        # is not set"), even from two sessions. ClickHouse still runs each statement on several threads.
        self._statements = _CHDB_STATEMENTS
        self._lock = threading.Lock()
        self._closed = False
        # USE and SET hold for the session, so for every thread's statements after them.
        self._run(f"CREATE DATABASE IF NOT EXISTS {target.database}", {}, "CSV")
        self._run(f"USE {target.database}", {}, "CSV")
        for name, value in QUERY_SETTINGS.items():
            self._run(f"SET {_settings_clause({name: value})}", {}, "CSV")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.query_named(sql, params)[1]

    def query_named(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[Row]]:
        text, named = bind(sql, params)
        result = self._run(text, named, "JSONCompact")
        if not result:
            return [], []
        decoded = msgspec.json.decode(result)
        converters = [_converter(column["type"]) for column in decoded["meta"]]
        names = [column["name"] for column in decoded["meta"]]
        return names, [
            tuple(value if convert is None or value is None else convert(value)
                  for convert, value in zip(converters, row, strict=True))
            for row in decoded["data"]
        ]  # fmt: skip

    def command(self, sql: str, params: Sequence[Any] = ()) -> None:
        text, named = bind(sql, params)
        self._run(text, named, "CSV")

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Row], *, token: str = "") -> None:
        if not rows:
            return
        settings = dict(INSERT_SETTINGS)
        if token:
            settings["insert_deduplication_token"] = token.replace("'", "")
        statement = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SETTINGS {_settings_clause(settings)} FORMAT JSONCompactEachRow\n"
        )
        self._run(statement + json_rows(rows).decode(), {}, "CSV")

    def raw(self, sql: str, params: Sequence[Any], fmt: str) -> bytes:
        text, named = bind(sql, params)
        return self._run(text, named, fmt)

    def _run(self, sql: str, named: dict[str, Any], fmt: str) -> bytes:
        if self._closed:
            raise ClickHouseError("The chDB store is closed")
        params = {name: tsv_escape(v) if isinstance(v, str) else v for name, v in named.items()}
        try:
            with self._statements:
                result = self._session.query(sql, fmt, params=params or None)
        except Exception as exc:
            logger.debug("ClickHouse refused: %s with %s", sql, params)
            raise ClickHouseError(f"ClickHouse refused a statement: {reason(exc)}") from exc
        return bytes(result.bytes()) if result is not None else b""

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._session.close()


class HttpConnection:
    """A ClickHouse server (or cluster's load balancer) over HTTP, through clickhouse-connect."""

    def __init__(self, target: ClickHouseTarget) -> None:
        try:
            import clickhouse_connect
        except ImportError as exc:
            needs = "clickhouse.url http(s)://… needs clickhouse-connect"
            raise StorageUnavailable(f"{needs}; {INSTALL_HINT}") from exc
        self.target = target
        try:
            # `default` first: the database may not exist yet.
            bootstrap = clickhouse_connect.get_client(**self._client_options("default"))
            bootstrap.command(f"CREATE DATABASE IF NOT EXISTS {target.database}{self._on_cluster()}")
            bootstrap.close()
            self._client = clickhouse_connect.get_client(**self._client_options(target.database))
        except Exception as exc:
            raise ClickHouseError(f"Cannot reach ClickHouse at {target.display()}: {exc}") from exc

    def _on_cluster(self) -> str:
        return f" ON CLUSTER {self.target.cluster}" if self.target.cluster else ""

    def _client_options(self, database: str) -> dict[str, Any]:
        target = self.target
        return {
            "host": target.host,
            "port": target.port,
            "username": target.user,
            "password": target.password,
            "database": database,
            "secure": target.secure,
            "ca_cert": target.ca_file or None,
            "settings": QUERY_SETTINGS,
            "connect_timeout": target.connect_timeout_seconds,
            "send_receive_timeout": target.query_timeout_seconds,
            # One pool per process; each thread's request takes a connection of it.
            "autogenerate_session_id": False,
        }

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.query_named(sql, params)[1]

    def query_named(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[Row]]:
        text, named = bind(sql, params)
        try:
            result = self._client.query(text, parameters=named or None)
        except Exception as exc:
            raise ClickHouseError(f"ClickHouse refused a statement: {reason(exc)}") from exc
        return list(result.column_names), [tuple(row) for row in result.result_rows]

    def command(self, sql: str, params: Sequence[Any] = ()) -> None:
        text, named = bind(sql, params)
        try:
            self._client.command(text, parameters=named or None)
        except Exception as exc:
            raise ClickHouseError(f"ClickHouse refused a statement: {reason(exc)}") from exc

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Row], *, token: str = "") -> None:
        if not rows:
            return
        settings = dict(INSERT_SETTINGS)
        if token:
            settings["insert_deduplication_token"] = token
        try:
            block = json_rows(rows)
            self._client.raw_insert(table, list(columns), block, settings=settings, fmt="JSONCompactEachRow")
        except Exception as exc:
            raise ClickHouseError(f"ClickHouse refused an insert into {table}: {reason(exc)}") from exc

    def raw(self, sql: str, params: Sequence[Any], fmt: str) -> bytes:
        text, named = bind(sql, params)
        try:
            return bytes(self._client.raw_query(text, parameters=named or None, fmt=fmt))
        except Exception as exc:
            raise ClickHouseError(f"ClickHouse refused a statement: {reason(exc)}") from exc

    def close(self) -> None:
        self._client.close()


def _parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _converter(kind: str) -> Any:
    """How a JSON value of ClickHouse type `kind` becomes the Python value DuckDB would give."""
    inner = kind.removeprefix("Nullable(").removesuffix(")") if kind.startswith("Nullable(") else kind
    if inner.startswith(("DateTime", "Date")):
        return _parse_datetime if inner.startswith("DateTime") else _parse_date
    if inner.startswith(("Int", "UInt")) and inner[-2:] in ("64", "28", "56"):
        return int  # 64-bit and wider integers come quoted in JSON
    if inner.startswith("Float"):
        return float  # a whole number comes as 15000, which JSON reads as an int: DuckDB's is 15000.0
    if inner.startswith("Array("):
        element = _converter(inner[len("Array(") : -1])
        return None if element is None else _each(element)
    if inner.startswith("Tuple("):
        # Named fields (`touched_at DateTime64(3), …`) come as a JSON object, plain ones as a list.
        fields = [_field(part) for part in _top_level(inner[len("Tuple(") : -1])]
        if all(convert is None for _, convert in fields):
            return None
        return _fields(fields)
    return None


def _each(convert: Any) -> Any:
    return lambda values: [None if value is None else convert(value) for value in values]


def _fields(fields: list[tuple[str, Any]]) -> Any:
    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            converters = dict(fields)
            return {name: item if converters.get(name) is None or item is None else converters[name](item)
                    for name, item in value.items()}  # fmt: skip
        return [
            item if c is None or item is None else c(item)
            for (_, c), item in zip(fields, value, strict=False)
        ]

    return convert


def _field(text: str) -> tuple[str, Any]:
    """A tuple field's name (empty when unnamed) and converter: `name Type` or `Type`."""
    name, _, kind = text.strip().partition(" ")
    if not kind or "(" in name:
        return "", _converter(text.strip())
    return name, _converter(kind.strip())


def _top_level(text: str) -> list[str]:
    """`text` split at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _parse_date(text: str) -> Any:
    from datetime import date

    return date.fromisoformat(text)

"""`clickhouse.url` read into where ClickHouse is: a server over HTTP(S), or chDB on a folder."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec

from pulsegate.errors import ConfigError

DEFAULT_DATABASE = "pulsegate"
# A database or cluster name goes into DDL as an identifier: plain names only.
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
URL_FORMS = "http(s)://user:password@host:8123/database or chdb:///path/to/folder[?database=name]"
# clickhouse:// and clickhouses://, as other ClickHouse clients write a server's URL, mean the
# HTTP interface here (clickhouse-connect speaks HTTP only).
_HTTP_SCHEMES = {"http": "http", "https": "https", "clickhouse": "http", "clickhouses": "https"}


class ClickHouseTarget(msgspec.Struct, frozen=True, kw_only=True):
    """Where the ClickHouse store lives, as `clickhouse.url` and `clickhouse.cluster` say."""

    kind: Literal["http", "chdb"]
    database: str = DEFAULT_DATABASE
    # http
    host: str = ""
    port: int = 8123
    secure: bool = False
    user: str = "default"
    password: str = ""
    cluster: str = ""
    connect_timeout_seconds: float = 10.0
    query_timeout_seconds: float = 300.0
    ca_file: str = ""  # certificate authorities to trust for https (PEM); empty: the system's
    # chdb
    path: str = ""

    def display(self) -> str:
        """The target without its password, for messages and logs."""
        if self.kind == "chdb":
            database = "" if self.database == DEFAULT_DATABASE else f"?database={self.database}"
            return f"chdb://{self.path}{database}"
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.database}"


def parse_target(url: str, *, cluster: str = "") -> ClickHouseTarget:
    """Read `clickhouse.url`; ConfigError names what is wrong with it."""
    if cluster and not IDENTIFIER.match(cluster):
        raise ConfigError(f"Invalid setting clickhouse.cluster: {cluster!r} is not a plain name")
    parts = urlsplit(url.strip())
    if parts.scheme == "chdb":
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise ConfigError(f"Invalid setting clickhouse.url: chdb:// needs a folder, as in {URL_FORMS}")
        if cluster:
            raise ConfigError("Invalid setting clickhouse.cluster: chDB is one process, not on a cluster")
        # One folder holds several databases (a process opens one folder only: tests share it).
        query = parse_qs(parts.query)
        if unknown := sorted(set(query) - {"database"}):
            unknown_text = f"chdb takes ?database=name, not {unknown[0]!r}"
            raise ConfigError(f"Invalid setting clickhouse.url: {unknown_text}")
        return ClickHouseTarget(kind="chdb", path=path, database=_database(query.get("database", [""])[-1]))
    if parts.scheme not in _HTTP_SCHEMES:
        raise ConfigError(f"Invalid setting clickhouse.url: {_shown(url)!r} is not one of {URL_FORMS}")
    if not parts.hostname:
        raise ConfigError(f"Invalid setting clickhouse.url: no host in {_shown(url)!r}")
    database = _database(unquote(parts.path.strip("/")))
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"Invalid setting clickhouse.url: {exc}") from exc
    secure = _HTTP_SCHEMES[parts.scheme] == "https"
    return ClickHouseTarget(
        kind="http",
        host=parts.hostname,
        port=port or (8443 if secure else 8123),
        secure=secure,
        user=unquote(parts.username) if parts.username else "default",
        password=unquote(parts.password) if parts.password else "",
        database=database,
        cluster=cluster,
    )


def _database(name: str) -> str:
    """The database named in the URL (the default when none is), a plain name."""
    database = name or DEFAULT_DATABASE
    if not IDENTIFIER.match(database):
        raise ConfigError(f"Invalid setting clickhouse.url: the database {database!r} is not a plain name")
    return database


def _shown(url: str) -> str:
    """The URL with any password replaced, so an error never prints it."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)

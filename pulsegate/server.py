"""`pulsegate serve`: checks that the port and the database are free, then runs Granian."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable

from pulsegate.config import RESOLVED_SETTINGS_ENV, Settings, settings_to_json
from pulsegate.errors import ConfigError
from pulsegate.store.database import Database
from pulsegate.store.projects import project_domains

APP_FACTORY = "pulsegate.app:app_from_environment"


def check_port_free(host: str, port: int) -> None:
    """Raise ConfigError with a one-line reason if `host:port` cannot be listened on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"Cannot listen on {host}: {exc.strerror}") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # The same option Granian sets, so a port in TIME_WAIT is not reported as taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"Port {port} on {host} is already in use: stop the other server or choose "
                    "another port with --port"
                ) from exc
            if exc.errno == errno.EACCES:
                raise ConfigError(
                    f"Not allowed to listen on {host}:{port} (ports below 1024 need root)"
                ) from exc
            raise ConfigError(f"Cannot listen on {host}:{port}: {exc.strerror}") from exc


def check_database(settings: Settings) -> dict[str, list[str]]:
    """Open, migrate and close the database, so a held or unwritable file fails here, clearly;
    returns the registered projects and their domains (for the banner)."""
    if settings.storage.engine == "clickhouse":
        return _check_clickhouse(settings)
    storage = settings.storage
    database = Database.open(
        settings.database_path, threads=storage.duckdb_threads, memory_limit=storage.duckdb_memory_limit
    )
    try:
        return project_domains(database.connection)
    finally:
        database.close()


def _check_clickhouse(settings: Settings) -> dict[str, list[str]]:
    """Reach and migrate the ClickHouse store; chDB in a spawned process, since a process forked
    after chDB started (Granian's worker) hangs at its first query."""
    resolved = settings_to_json(settings)
    if settings.clickhouse_target.kind != "chdb":
        return clickhouse_projects(resolved)
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        projects: dict[str, list[str]] = pool.apply(clickhouse_projects, (resolved,))
        return projects


def clickhouse_projects(resolved_settings: bytes) -> dict[str, list[str]]:
    """Open (and migrate) the ClickHouse store of these settings; its projects."""
    from pulsegate.config import settings_from_json
    from pulsegate.store.clickhouse.store import ClickHouseStore

    store = ClickHouseStore.open(settings_from_json(resolved_settings).clickhouse_target)
    try:
        return project_domains(store.connection)  # type: ignore[arg-type]  # the DuckDB interface
    finally:
        store.close()


def serve(settings: Settings, *, announce: Callable[[dict[str, list[str]]], None] = lambda _: None) -> None:
    """Run the server in the foreground until SIGINT or SIGTERM; `announce` is told the
    registered projects once the port and the file are known to be free."""
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    check_port_free(settings.server.host, settings.server.port)
    announce(check_database(settings))
    # The worker is a forked process: hand it the settings resolved here, flags included.
    os.environ[RESOLVED_SETTINGS_ENV] = settings_to_json(settings).decode()
    Granian(
        APP_FACTORY,
        factory=True,
        address=settings.server.host,
        port=settings.server.port,
        interface=Interfaces.ASGI,
        # One worker process: DuckDB lets exactly one process open the file for writing, and a
        # second worker adds nothing on two cores (DESIGN.md, measured).
        workers=1,
        # uvloop, not Granian's default rloop: rloop cannot serve the Unix control socket.
        loop=Loops.uvloop,
        log_level=LogLevels(settings.server.log_level),
        # A SIGTERM'd worker gets this long to commit its queue and checkpoint before a kill.
        workers_kill_timeout=30,
    ).serve()

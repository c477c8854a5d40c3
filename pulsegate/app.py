"""create_app(settings): the Litestar application, its routes, and the resources its lifespan owns."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.openapi import OpenAPIConfig

from pulsegate import __version__
from pulsegate.config import RESOLVED_SETTINGS_ENV, Settings, settings_from_json
from pulsegate.domain.sessions import OpenSessions
from pulsegate.http.cors import add_cors_headers
from pulsegate.http.errors import EXCEPTION_HANDLERS
from pulsegate.http.health import health
from pulsegate.http.tracking import TrackingController
from pulsegate.process import die_with_parent
from pulsegate.services.tracking import TrackingService
from pulsegate.store.database import Database
from pulsegate.store.tracking import load_open_sessions
from pulsegate.store.writer import Writer

logger = logging.getLogger("pulsegate")


def create_app(settings: Settings) -> Litestar:
    """The PulseGate ASGI app for `settings`; the database opens when the lifespan starts."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        storage = settings.storage
        database = Database.open(
            settings.database_path, threads=storage.duckdb_threads, memory_limit=storage.duckdb_memory_limit
        )
        writer = Writer(database.connection, max_pending_rows=storage.max_pending_rows)
        try:
            open_sessions = OpenSessions()
            for session in database.read_now(load_open_sessions):
                open_sessions.add(session)
            salt = database.secret("visitor_salt", configured=settings.privacy.visitor_salt)
            writer.start()
            app.state.settings = settings
            app.state.database = database
            app.state.writer = writer
            app.state.tracking = TrackingService(database, writer, open_sessions, visitor_salt=salt)
            # Everything built so far lives as long as the process: freezing it keeps the
            # collector's full passes short, which is most of the tail latency (DESIGN.md).
            gc.collect()
            gc.freeze()
            logger.info(
                "PulseGate %s ready on %s (%d open sessions)", __version__, database.path, len(open_sessions)
            )
            yield
        finally:
            await writer.stop()
            database.close()
            logger.info("Database committed, checkpointed and closed")

    return Litestar(
        route_handlers=[TrackingController, health],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[add_cors_headers],
        openapi_config=OpenAPIConfig(title="PulseGate", version=__version__),
        logging_config=None,
    )


def app_from_environment() -> Litestar:
    """Granian's factory: runs in the worker process with settings handed over by `pulsegate serve`."""
    die_with_parent()
    settings = settings_from_json(os.environ[RESOLVED_SETTINGS_ENV])
    logging.basicConfig(
        level=settings.server.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return create_app(settings)

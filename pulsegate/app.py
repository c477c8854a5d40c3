"""create_app(settings): the Litestar application, its routes, and the resources its lifespan owns."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import duckdb
from litestar import Litestar
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from pulsegate import __version__
from pulsegate.admin import ControlServer, control_socket_path
from pulsegate.background import run_every
from pulsegate.config import RESOLVED_SETTINGS_ENV, Settings, settings_from_json
from pulsegate.domain.api_keys import KeyRing
from pulsegate.domain.client_ip import parse_networks
from pulsegate.domain.geo import GeoResolver
from pulsegate.domain.rate_limit import FixedWindowLimiter
from pulsegate.domain.sessions import OpenSessions
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.http.analytics import AnalyticsController, anomalies
from pulsegate.http.assets import asset_routes
from pulsegate.http.body_deadlines import BodyDeadlines
from pulsegate.http.cors import add_cors_headers
from pulsegate.http.dashboard import dashboard_routes
from pulsegate.http.errors import EXCEPTION_HANDLERS
from pulsegate.http.health import health
from pulsegate.http.leads import LEAD_ROUTES
from pulsegate.http.openapi import complete_openapi
from pulsegate.http.rate_limits import RateLimitMiddleware
from pulsegate.http.tracking import TRACKING_PREFIX, tracking_routes
from pulsegate.ops.context import OpContext
from pulsegate.ops.storage import PruneArgs, prune
from pulsegate.process import die_with_parent, exit_soon
from pulsegate.services.alerts import AlertScanner
from pulsegate.services.analytics import AnalyticsService
from pulsegate.services.delivery import DeliveryTarget, DeliveryWorker
from pulsegate.services.lead_views import LeadViews
from pulsegate.services.leads import LeadService
from pulsegate.services.operations import OperationRunner
from pulsegate.services.tracking import TrackingService
from pulsegate.store.api_keys import last_used_rows
from pulsegate.store.database import Database
from pulsegate.store.disk_space import MEGABYTE, DiskSpaceGuard
from pulsegate.store.tracking import load_open_sessions
from pulsegate.store.writer import Writer

logger = logging.getLogger("pulsegate")
KEY_USAGE_FLUSH_SECONDS = 60
DELIVERY_POLL_SECONDS = 1.0


def create_app(settings: Settings) -> Litestar:
    """The PulseGate ASGI app for `settings`; the database opens when the lifespan starts."""
    trusted_proxies = parse_networks(settings.network.trusted_proxies)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:  # closes in reverse: jobs, socket, writer, file
            await _start(app, settings, stack)
            # Everything built so far lives as long as the process: freezing it keeps the
            # collector's full passes short, which is most of the tail latency (DESIGN.md).
            gc.collect()
            gc.freeze()
            logger.info("PulseGate %s ready on %s", __version__, settings.database_path)
            yield
        logger.info("Database committed, checkpointed and closed")

    middleware = []
    if settings.rate_limits.enabled:
        middleware.append(
            DefineMiddleware(
                RateLimitMiddleware, limiters=_tracking_limiters(settings), trusted_proxies=trusted_proxies
            )
        )
    app = Litestar(
        route_handlers=[
            *tracking_routes(settings.web.tracking_prefix),
            *LEAD_ROUTES,
            AnalyticsController,
            anomalies,
            health,
            *asset_routes(settings.web),
            *dashboard_routes(),
        ],
        lifespan=[lifespan],
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[add_cors_headers],
        openapi_config=OpenAPIConfig(title="PulseGate", version=__version__),
        logging_config=None,
    )
    app.state.trusted_proxies = trusted_proxies
    complete_openapi(app)
    return app


async def _start(app: Litestar, settings: Settings, stack: AsyncExitStack) -> None:
    """Open the database and start everything that uses it, registering each shutdown step."""
    storage = settings.storage
    database = Database.open(
        settings.database_path,
        threads=storage.duckdb_threads,
        memory_limit=storage.duckdb_memory_limit,
        archive_dir=settings.archive_path if settings.retention.query_archive else None,
    )
    stack.callback(database.close)
    geo = _geo_resolver(settings)
    geo.load()  # now, not on the first request
    open_sessions = OpenSessions()
    resume_within_ms = settings.sessions.idle_timeout_minutes * 60_000
    for session in database.read_now(load_open_sessions, now_ms() - resume_within_ms):
        open_sessions.add(session)
    salt = database.secret("visitor_salt", configured=settings.privacy.visitor_salt)
    disk_guard = DiskSpaceGuard(settings.database_path.parent, storage.min_free_disk_mb * MEGABYTE)
    writer = Writer(
        database.connection,
        max_pending_rows=storage.max_pending_rows,
        disk_guard=disk_guard,
        on_fatal=lambda _exc: exit_soon(),  # restart to reopen the file (README, "Durability")
    )
    writer.start()
    stack.push_async_callback(writer.stop)
    tracking = TrackingService(
        database,
        writer,
        open_sessions,
        geo,
        visitor_salt=salt,
        resume_within_ms=resume_within_ms,
        max_open=settings.sessions.max_open,
    )
    app.state.settings = settings
    app.state.body_deadlines = BodyDeadlines(settings.server.body_timeout_seconds)
    app.state.database = database
    app.state.writer = writer
    app.state.tracking = tracking
    app.state.analytics = AnalyticsService(database)
    app.state.lead_views = LeadViews(database)
    app.state.leads = LeadService(
        database, writer, settings.leads, forward_to_crm=bool(settings.crm.webhook_url)
    )
    app.state.key_usage = {}

    def replace_key_ring(ring: KeyRing) -> None:
        app.state.key_ring = ring

    operations = OperationRunner(
        settings,
        database,
        writer,
        started_ms=now_ms(),
        open_sessions=lambda: tracking.open_sessions,
        remembered_sessions=lambda: tracking.remembered_sessions,
        on_keys_changed=replace_key_ring,
    )
    replace_key_ring(await operations.load_key_ring())

    async def flush_key_usage() -> None:
        used, app.state.key_usage = app.state.key_usage, {}
        if used:
            await writer.write(last_used_rows({key: utc_datetime(ms) for key, ms in used.items()}))

    stack.push_async_callback(flush_key_usage)  # the last uses, before the writer stops
    control = ControlServer(control_socket_path(settings.database_path), operations.execute)
    await control.start()
    stack.push_async_callback(control.stop)
    if storage.checkpoint_interval_seconds:

        async def checkpoint() -> None:
            try:
                await writer.run(lambda connection: connection.execute("CHECKPOINT"))
            except duckdb.TransactionException as exc:
                # A read was in a transaction at that instant: DuckDB declines rather than wait.
                # Nothing is lost; the next tick checkpoints.
                logger.debug("Checkpoint skipped: %s", exc)

        await stack.enter_async_context(
            run_every(storage.checkpoint_interval_seconds, checkpoint, name="checkpoint")
        )
    idle_minutes = settings.sessions.idle_timeout_minutes
    await stack.enter_async_context(
        run_every(
            settings.sessions.sweep_interval_seconds,
            lambda: tracking.end_idle_sessions(idle_minutes),
            name="idle session sweep",
        )
    )
    # Key use is batched: one update a minute instead of a write per analytics request.
    await stack.enter_async_context(
        run_every(KEY_USAGE_FLUSH_SECONDS, flush_key_usage, name="key usage flush")
    )
    targets = _delivery_targets(settings)
    if targets:
        deliveries = DeliveryWorker(database, writer, targets, timeout_seconds=settings.crm.timeout_seconds)
        stack.push_async_callback(deliveries.close)
        # Pending deliveries survive restarts in the outbox table: this resumes them.
        await stack.enter_async_context(
            run_every(DELIVERY_POLL_SECONDS, deliveries.deliver_due, name="webhook deliveries")
        )
    retention = settings.retention
    if retention.events_older_than_days:
        prune_args = PruneArgs(
            older_than_days=retention.events_older_than_days,
            archive_dir=str(settings.archive_path) if settings.archive_path else None,
        )

        async def prune_old_events() -> None:
            pruned = await writer.run(lambda connection: prune(OpContext(connection), prune_args))
            database.refresh_readers()
            logger.info(
                "Retention: deleted %d events older than %d days", pruned.events, prune_args.older_than_days
            )

        interval = retention.run_every_hours * 3600
        # The first run a minute after start (not a day later), out of the way of start-up.
        await stack.enter_async_context(
            run_every(interval, prune_old_events, name="retention", first_delay=min(60, interval))
        )
    if settings.alerts.webhook_url:
        alerts = AlertScanner(database, writer, settings.alerts)
        await stack.enter_async_context(
            run_every(settings.alerts.scan_interval_seconds, alerts.scan_and_queue, name="anomaly alerts")
        )


def _delivery_targets(settings: Settings) -> dict[str, DeliveryTarget]:
    targets = {}
    crm, alerts = settings.crm, settings.alerts
    if crm.webhook_url:
        targets["crm"] = DeliveryTarget(
            crm.webhook_url, crm.signing_secret, crm.max_attempts, crm.first_retry_seconds
        )
    if alerts.webhook_url:
        targets["alerts"] = DeliveryTarget(
            alerts.webhook_url, alerts.signing_secret, alerts.max_attempts, alerts.first_retry_seconds
        )
    return targets


def _geo_resolver(settings: Settings) -> GeoResolver:
    geo = settings.geo
    return GeoResolver(
        country_mmdb=Path(geo.country_mmdb).expanduser() if geo.country_mmdb else None,
        asn_mmdb=Path(geo.asn_mmdb).expanduser() if geo.asn_mmdb else None,
    )


def _tracking_limiters(settings: Settings) -> dict[str, FixedWindowLimiter]:
    limits = settings.rate_limits

    def limiter(limit: int) -> FixedWindowLimiter:
        return FixedWindowLimiter(limit, limits.window_seconds, max_keys=limits.max_tracked_clients)

    leads = limiter(settings.leads.rate_limit)  # one budget across the capture route and its aliases
    limiters = {"/lead.capture": leads, "/lead": leads, "/": leads}
    # One budget per route under both prefixes: the extra prefix is another name, not more quota.
    tracking = {
        "/session/start": limiter(limits.session_start),
        "/event": limiter(limits.event),
        "/events/batch": limiter(limits.events_batch),
        "/session/end": limiter(limits.session_end),
    }
    for prefix in (TRACKING_PREFIX, settings.web.tracking_prefix):
        if prefix:
            limiters.update({prefix + path: limit for path, limit in tracking.items()})
    return limiters


def app_from_environment() -> Litestar:
    """Granian's factory: runs in the worker process with settings handed over by `pulsegate serve`."""
    die_with_parent()
    settings = settings_from_json(os.environ[RESOLVED_SETTINGS_ENV])
    logging.basicConfig(
        level=settings.server.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return create_app(settings)

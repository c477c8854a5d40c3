"""The running server's parts, typed: built and closed by `open_runtime`, read by every handler.

`open_runtime(settings)` opens the database, starts the writer, the services, the control socket
and the background jobs, and yields one `Runtime`; leaving it stops them in reverse order. The
app's lifespan stores it once on the app; handlers get it as the `runtime` dependency (Litestar
routes) or through `runtime_of(app)` (the raw ASGI tracking routes). A new service is one field
here and one line in `open_runtime`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias, cast

import duckdb
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from pulsegate.background import run_every
from pulsegate.config import Settings
from pulsegate.control.protocol import control_socket_path
from pulsegate.control.server import ControlServer
from pulsegate.deadlines import BodyDeadlines
from pulsegate.domain.client_ip import IPNetwork, parse_networks
from pulsegate.domain.sessions import OpenSessions
from pulsegate.domain.timestamps import now_ms, utc_datetime
from pulsegate.errors import NotOnThisEngine
from pulsegate.ops.context import OpContext
from pulsegate.ops.executor import OperationExecutor
from pulsegate.ops.storage import PruneArgs, Pruned, prune
from pulsegate.process import exit_soon
from pulsegate.services.alerts import AlertScanner
from pulsegate.services.analytics import AnalyticsService
from pulsegate.services.anomalies import AnomalyService
from pulsegate.services.api_keys import ApiKeys
from pulsegate.services.attribution import VisitorHistories
from pulsegate.services.delivery import DeliveryTarget, DeliveryWorker
from pulsegate.services.email_reports import EmailReports
from pulsegate.services.geo import GeoResolver
from pulsegate.services.health import HealthCheck
from pulsegate.services.lead_views import LeadViews
from pulsegate.services.leads import LeadService
from pulsegate.services.projects import ProjectGate
from pulsegate.services.shares import ShareLinks
from pulsegate.services.stateless_leads import StatelessLeadService, delivery_claims, send_claims
from pulsegate.services.stateless_tracking import StatelessTrackingService
from pulsegate.services.tracking import TrackingService
from pulsegate.store import rollup
from pulsegate.store.clickhouse import once
from pulsegate.store.clickhouse.store import ClickHouseStore, ClickHouseWriter
from pulsegate.store.database import Database
from pulsegate.store.disk_space import MEGABYTE, DiskSpaceGuard
from pulsegate.store.email_reports import replace_config_schedules
from pulsegate.store.goals import replace_config_goals
from pulsegate.store.tracking import load_open_sessions
from pulsegate.store.writer import RowWrite, Writer

logger = logging.getLogger("pulsegate")
KEY_USAGE_FLUSH_SECONDS = 60
ATTRIBUTION_SWEEP_SECONDS = 300
DELIVERY_POLL_SECONDS = 1.0
_STATE_KEY = "runtime"


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything a request handler may use, made once per server process."""

    settings: Settings
    trusted_proxies: tuple[IPNetwork, ...]
    body_deadlines: BodyDeadlines
    database: Database | ClickHouseStore
    writer: Writer | ClickHouseWriter
    tracking: TrackingService | StatelessTrackingService
    leads: LeadService
    analytics: AnalyticsService
    lead_views: LeadViews
    anomalies: AnomalyService
    api_keys: ApiKeys
    projects: ProjectGate
    shares: ShareLinks
    health: HealthCheck
    operations: OperationExecutor


def runtime_of(app: Litestar) -> Runtime:
    """The app's runtime (set by the lifespan before the first request)."""
    runtime: Runtime = app.state[_STATE_KEY]
    return runtime


def provide_runtime(state: State) -> Runtime:
    """The `runtime` dependency of every Litestar route."""
    runtime: Runtime = state[_STATE_KEY]
    return runtime


# Not validated per request: it is the object the lifespan made (and msgspec could not convert it).
RuntimeDependency: TypeAlias = NamedDependency[SkipValidation[Runtime]]


@asynccontextmanager
async def attached_runtime(app: Litestar, settings: Settings) -> AsyncIterator[Runtime]:
    """`open_runtime`, stored on `app` (tests read it after the lifespan too)."""
    async with open_runtime(settings) as runtime:
        app.state[_STATE_KEY] = runtime
        yield runtime


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """Open the database and start everything that uses it; stop it all, in reverse, on exit."""
    async with AsyncExitStack() as stack:  # closes in reverse: jobs, socket, writer, file
        runtime = await _start(settings, stack)
        yield runtime


async def _start(settings: Settings, stack: AsyncExitStack) -> Runtime:
    if settings.storage.engine == "clickhouse":
        return await _start_on_clickhouse(settings, stack)
    storage = settings.storage
    database = Database.open(
        settings.database_path,
        threads=storage.duckdb_threads,
        memory_limit=storage.duckdb_memory_limit,
        archive_dir=settings.archive_path if settings.retention.query_archive else None,
    )
    stack.callback(database.close)
    replace_config_goals(database.connection, settings.declared_goals, utc_datetime(now_ms()))
    replace_config_schedules(database.connection, settings.declared_reports, utc_datetime(now_ms()))
    geo = _geo_resolver(settings)
    geo.load()  # now, not on the first request
    open_sessions = OpenSessions()
    resume_within_ms = settings.sessions.idle_timeout_minutes * 60_000
    for session in database.read_now(load_open_sessions, now_ms() - resume_within_ms):
        open_sessions.add(session)
    salt = database.secret("visitor_salt", configured=settings.privacy.visitor_salt)
    share_secret = database.secret("share_cookies")  # signs share links' password cookies
    disk_guard = DiskSpaceGuard(settings.database_path.parent, storage.min_free_disk_mb * MEGABYTE)
    writer = Writer(
        database.connection,
        max_pending_rows=storage.max_pending_rows,
        disk_guard=disk_guard,
        on_fatal=lambda _exc: exit_soon(),  # restart to reopen the file (README, "Durability")
    )
    writer.start()
    stack.push_async_callback(writer.stop)
    histories = VisitorHistories(database, settings.attribution, now_ms)
    tracking = TrackingService(
        database,
        writer,
        open_sessions,
        geo,
        visitor_salt=salt,
        resume_within_ms=resume_within_ms,
        max_open=settings.sessions.max_open,
        on_form_start=histories.form_started,
    )
    api_keys = ApiKeys(database, writer)
    await api_keys.reload()
    projects = ProjectGate(database)
    await projects.reload()
    stack.push_async_callback(api_keys.flush_usage)  # the last uses, before the writer stops
    leads = LeadService(
        database,
        writer,
        settings.leads,
        forward_to_crm=bool(settings.crm.webhook_url),
        attribution=settings.attribution,
        open_sessions=open_sessions,
        histories=histories,
        visitor_salt=salt,
    )
    operations = OperationExecutor(
        settings,
        database,
        writer,
        started_ms=now_ms(),
        open_sessions=lambda: tracking.open_sessions,
        remembered_sessions=lambda: tracking.remembered_sessions,
        on_keys_changed=api_keys.reload,
        on_projects_changed=projects.reload,
        refused_requests=lambda: projects.refused_total,
        dropped_properties=lambda: dict(tracking.dropped_properties),
        settled=leads.attributions.settled,
    )
    runtime = Runtime(
        settings=settings,
        trusted_proxies=tuple(parse_networks(settings.network.trusted_proxies)),
        body_deadlines=BodyDeadlines(settings.server.body_timeout_seconds),
        database=database,
        writer=writer,
        tracking=tracking,
        leads=leads,
        analytics=AnalyticsService(database, settled=leads.attributions.settled),
        lead_views=LeadViews(database, leads.attributions.settled),
        anomalies=AnomalyService(database),
        api_keys=api_keys,
        projects=projects,
        shares=ShareLinks(database, share_secret),
        health=HealthCheck(writer),
        operations=operations,
    )
    control = ControlServer(control_socket_path(settings.database_path), operations.execute)
    await control.start()
    stack.push_async_callback(control.stop)
    await _start_background_jobs(runtime, database, writer, stack)
    return runtime


async def _start_background_jobs(
    runtime: Runtime, database: Database, writer: Writer, stack: AsyncExitStack
) -> None:
    """The periodic work of a server: checkpoints, idle sessions, key use, deliveries, retention, alerts."""
    settings = runtime.settings
    storage = settings.storage
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
    if storage.rollup_interval_seconds:
        await stack.enter_async_context(_rollup_job(storage.rollup_interval_seconds, writer.run))
    idle_minutes = settings.sessions.idle_timeout_minutes
    await stack.enter_async_context(
        run_every(
            settings.sessions.sweep_interval_seconds,
            lambda: runtime.tracking.end_idle_sessions(idle_minutes),
            name="idle session sweep",
        )
    )
    # A crash between a lead's commit and its attribution's leaves it without one: at start, and
    # then every few minutes for a write that failed, the sweep stores it (AttributionWrites).
    await stack.enter_async_context(
        run_every(ATTRIBUTION_SWEEP_SECONDS, runtime.leads.attributions.sweep, name="attribution sweep",
                  first_delay=0)
    )  # fmt: skip
    # Key use is batched: one update a minute instead of a write per analytics request.
    await stack.enter_async_context(
        run_every(KEY_USAGE_FLUSH_SECONDS, runtime.api_keys.flush_usage, name="key usage flush")
    )
    await _start_outbox(settings, stack, database, writer)
    await _start_retention(settings, stack, writer.run, database.refresh_readers)


async def _start_retention(
    settings: Settings,
    stack: AsyncExitStack,
    run: Callable[[Callable[..., Pruned]], Awaitable[Pruned]],
    refresh_readers: Callable[[], None] = lambda: None,
) -> None:
    """Retention's schedule (retention.events_older_than_days), each prune `run(work)`: on DuckDB's
    writer thread; on ClickHouse on a reader thread of every process (its deletes are the store's,
    and a second run deletes nothing more)."""
    retention = settings.retention
    if not retention.events_older_than_days:
        return
    prune_args = PruneArgs(
        older_than_days=retention.events_older_than_days,
        archive_dir=str(settings.archive_path) if settings.archive_path else None,
    )

    async def prune_old_events() -> None:
        pruned = await run(lambda connection: prune(OpContext(connection), prune_args))
        refresh_readers()
        logger.info(
            "Retention: deleted %d events older than %d days", pruned.events, prune_args.older_than_days
        )

    interval = retention.run_every_hours * 3600
    # The first run a minute after start (not a day later), out of the way of start-up.
    await stack.enter_async_context(
        run_every(interval, prune_old_events, name="retention", first_delay=min(60, interval))
    )


async def _start_outbox(
    settings: Settings,
    stack: AsyncExitStack,
    database: Database,
    writer: Writer,
    shared: ClickHouseWriter | None = None,
) -> None:
    """The jobs that send: webhook deliveries, scheduled email reports, anomaly alerts. With
    `shared`, the ClickHouse writer of a store several processes share: every process runs them,
    and each send is claimed first, so one process makes it (services/stateless_leads.py)."""
    targets = _delivery_targets(settings)
    if targets:
        timeout = settings.crm.timeout_seconds
        deliveries = DeliveryWorker(
            database, writer, targets, timeout_seconds=timeout,
            claim=delivery_claims(shared, timeout) if shared else None,
        )  # fmt: skip
        stack.push_async_callback(deliveries.close)
        # Pending deliveries survive restarts in the outbox table: this resumes them.
        await stack.enter_async_context(
            run_every(DELIVERY_POLL_SECONDS, deliveries.deliver_due, name="webhook deliveries")
        )
    if settings.email.host:
        # Scheduled email reports: each schedule's report once per period, failures retried.
        email = EmailReports(
            database,
            writer,
            settings.email,
            claim=send_claims(shared) if shared else None,
        )
        await stack.enter_async_context(
            run_every(settings.email.check_interval_seconds, email.send_due, name="email reports")
        )
    if settings.alerts.webhook_url:
        insert_once = functools.partial(_insert_once, shared) if shared else None
        alerts = AlertScanner(database, writer, settings.alerts, insert_once=insert_once)
        await stack.enter_async_context(
            run_every(settings.alerts.scan_interval_seconds, alerts.scan_and_queue, name="anomaly alerts")
        )


async def _insert_once(writer: ClickHouseWriter, write: RowWrite, names: tuple[object, ...]) -> None:
    """AlertScanner's `insert_once` on ClickHouse: `write` kept once per `names`, by any process."""
    await writer.insert_once(write, once.token(*names))


def _rollup_job(interval: float, run: Callable[..., Awaitable[Any]]) -> AbstractAsyncContextManager[Any]:
    """The event rollup's periodic turns, each `run(work)` (on DuckDB's writer thread; on a
    ClickHouse reader thread, since its inserts are the store's own and any process may take a
    turn: store/rollup.py says why that is safe)."""

    async def roll_up() -> None:
        # A turn adds at most HOURS_PER_TURN hours, so a backfill never holds ingest up long;
        # then the goal facts of one goal rule per turn (a goal added since, or one whose facts a
        # turn taken meanwhile by another process left behind).
        while await run(lambda connection: rollup.advance(connection, utc_datetime(now_ms()))):
            pass
        while await run(rollup.hold_goals):
            pass

    return run_every(interval, roll_up, name="event rollup", first_delay=1)


class _NotOnClickHouse:
    """A service the ClickHouse engine has no use for: every call answers 501 naming it. The
    control socket: on ClickHouse the CLI works on the store itself, which every process reads."""

    def __init__(self, feature: str) -> None:
        self._feature = feature

    def __getattr__(self, name: str) -> Any:
        feature = self._feature

        async def refuse(*_args: Any, **_kwargs: Any) -> Any:
            raise NotOnThisEngine(
                f"{feature} is not used on storage.engine = 'clickhouse' (docs/scaling.md lists what "
                "runs there)"
            )

        return refuse


async def _start_on_clickhouse(settings: Settings, stack: AsyncExitStack) -> Runtime:
    """The runtime on the ClickHouse store: any number of these processes may share it, so none
    keeps state that correctness depends on (services/stateless_tracking.py)."""
    store = ClickHouseStore.open(settings.clickhouse_target)
    stack.callback(store.close)
    # The config file's goals, as on DuckDB (no write when the store has them already; processes
    # first started at the same instant with a changed file could each write them: restart one).
    replace_config_goals(store.connection, settings.declared_goals, utc_datetime(now_ms()))  # type: ignore[arg-type]
    replace_config_schedules(store.connection, settings.declared_reports, utc_datetime(now_ms()))  # type: ignore[arg-type]
    geo = _geo_resolver(settings)
    geo.load()
    salt = store.secret("visitor_salt", configured=settings.privacy.visitor_salt)
    writer = ClickHouseWriter(store.connection, max_pending_rows=settings.storage.max_pending_rows)
    writer.start()
    stack.push_async_callback(writer.stop)
    tracking = StatelessTrackingService(
        store, writer, geo, visitor_salt=salt, idle_timeout_ms=settings.sessions.idle_timeout_minutes * 60_000
    )
    api_keys = ApiKeys(store, writer)  # type: ignore[arg-type]  # the store's interface is Database's
    await api_keys.reload()
    projects = ProjectGate(store)  # type: ignore[arg-type]
    await projects.reload()
    stack.push_async_callback(api_keys.flush_usage)
    runtime = Runtime(
        settings=settings,
        trusted_proxies=tuple(parse_networks(settings.network.trusted_proxies)),
        body_deadlines=BodyDeadlines(settings.server.body_timeout_seconds),
        database=store,
        writer=writer,
        tracking=tracking,
        leads=StatelessLeadService(
            store,
            writer,
            settings.leads,
            forward_to_crm=bool(settings.crm.webhook_url),
            attribution=settings.attribution,
            visitor_salt=salt,
        ),
        analytics=AnalyticsService(store),  # type: ignore[arg-type]  # the store reads as Database does
        lead_views=LeadViews(store),  # type: ignore[arg-type]
        anomalies=AnomalyService(store),  # type: ignore[arg-type]
        api_keys=api_keys,
        projects=projects,
        shares=ShareLinks(store, store.secret("share_cookies")),  # type: ignore[arg-type]
        health=HealthCheck(writer),  # type: ignore[arg-type]
        operations=cast(OperationExecutor, _NotOnClickHouse("The control socket")),
    )

    async def reload_control_tables() -> None:
        await api_keys.reload()
        await projects.reload()

    await stack.enter_async_context(
        # Another server, or the CLI on another machine, may have changed them: no socket says so.
        run_every(settings.clickhouse.reload_seconds, reload_control_tables, name="keys and projects reload")
    )
    await stack.enter_async_context(
        run_every(KEY_USAGE_FLUSH_SECONDS, api_keys.flush_usage, name="key usage flush")
    )
    if settings.storage.rollup_interval_seconds:
        await stack.enter_async_context(
            _rollup_job(settings.storage.rollup_interval_seconds, lambda work: store.read(work))
        )
    idle_minutes = settings.sessions.idle_timeout_minutes
    await stack.enter_async_context(
        run_every(
            settings.sessions.sweep_interval_seconds,
            lambda: tracking.end_idle_sessions(idle_minutes),
            name="idle session sweep",
        )
    )
    await _start_outbox(settings, stack, store, writer, shared=writer)  # type: ignore[arg-type]  # as Database
    await _start_retention(settings, stack, store.read)
    return runtime


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

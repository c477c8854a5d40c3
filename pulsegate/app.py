"""create_app(settings): the Litestar application and its routes; its lifespan opens the runtime."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin
from litestar.types import Receive, Scope, Send

from pulsegate import __version__
from pulsegate.config import RESOLVED_SETTINGS_ENV, Settings, settings_from_json
from pulsegate.domain.client_ip import parse_networks
from pulsegate.http.analytics import AnalyticsController
from pulsegate.http.anomalies import anomalies
from pulsegate.http.assets import REDOC_SCRIPT_PATH, SCHEMA_FAVICON, asset_routes
from pulsegate.http.cors import add_cors_headers
from pulsegate.http.dashboard import dashboard_routes
from pulsegate.http.errors import EXCEPTION_HANDLERS
from pulsegate.http.health import health
from pulsegate.http.lead_views import LeadViewsController
from pulsegate.http.leads import LEAD_ROUTES, add_deprecation_headers
from pulsegate.http.openapi import complete_openapi
from pulsegate.http.rate_limits import RateLimitMiddleware, route_limiters
from pulsegate.http.shares import share_routes
from pulsegate.http.tracking import TrackingEndpoint, serve_tracking, tracking_endpoints, tracking_routes
from pulsegate.process import create_files_with_mode, die_with_parent
from pulsegate.runtime import attached_runtime, provide_runtime, runtime_of

logger = logging.getLogger("pulsegate")


class PulseGateApp(Litestar):
    """Litestar, with POSTs to the tracking routes answered before its router (`http/tracking.py`
    says why); every other request, and the lifespan, is Litestar's."""

    tracking: dict[str, TrackingEndpoint]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            endpoint = self.tracking.get(scope["path"])
            if endpoint is not None:
                await serve_tracking(scope, receive, send, endpoint, runtime_of(self))
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings) -> PulseGateApp:
    """The PulseGate ASGI app for `settings`; the database opens when the lifespan starts."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with attached_runtime(app, settings):
            # Everything built so far lives as long as the process: freezing it keeps the
            # collector's full passes short, which is most of the tail latency (DESIGN.md).
            gc.collect()
            gc.freeze()
            store = (
                settings.clickhouse_target.display()
                if settings.storage.engine == "clickhouse"
                else settings.database_path
            )
            logger.info("PulseGate %s ready on %s", __version__, store)
            yield
        logger.info("Database committed, checkpointed and closed")

    limiters = route_limiters(settings) if settings.rate_limits.enabled else {}
    tracking = tracking_endpoints(settings.web.tracking_prefix, limiters)
    middleware = []
    if settings.rate_limits.enabled:
        middleware.append(
            DefineMiddleware(
                RateLimitMiddleware,  # the other limited routes: the tracking routes limit themselves
                limiters={path: limiter for path, limiter in limiters.items() if path not in tracking},
                trusted_proxies=parse_networks(settings.network.trusted_proxies),
            )
        )
    app = PulseGateApp(
        route_handlers=[
            *tracking_routes(tracking, settings.web.tracking_prefix),
            *LEAD_ROUTES,
            AnalyticsController,
            LeadViewsController,
            anomalies,
            health,
            *asset_routes(settings.web),
            *dashboard_routes(),
            *share_routes(settings),
        ],
        dependencies={"runtime": Provide(provide_runtime, sync_to_thread=False)},
        lifespan=[lifespan],
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[add_cors_headers, add_deprecation_headers],
        openapi_config=OpenAPIConfig(
            title="PulseGate",
            version=__version__,
            # Redoc from this server, with system fonts: /schema works without internet.
            render_plugins=[
                RedocRenderPlugin(
                    path=["/", "/redoc"], js_url=REDOC_SCRIPT_PATH, google_fonts=False, favicon=SCHEMA_FAVICON
                )
            ],
        ),
        logging_config=None,
    )
    app.tracking = tracking
    complete_openapi(app)
    return app


def app_from_environment() -> PulseGateApp:
    """Granian's factory: runs in the worker process with settings handed over by `pulsegate serve`."""
    die_with_parent()
    settings = settings_from_json(os.environ[RESOLVED_SETTINGS_ENV])
    create_files_with_mode(settings.storage.file_mode_bits)
    logging.basicConfig(
        level=settings.server.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return create_app(settings)

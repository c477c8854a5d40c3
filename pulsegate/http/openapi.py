"""Completing the OpenAPI document at /schema with what Litestar cannot see by itself.

The tracking routes are raw ASGI handlers and the analytics routes read their query string
themselves, so Litestar's generated document lacks their bodies, parameters and security. This
module adds them, with body schemas generated from the same msgspec Structs that decode requests.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)

from pulsegate.domain.attribution_reports import ATTRIBUTION_DIMENSIONS, ATTRIBUTION_METRICS, MODELS
from pulsegate.domain.form_reports import FORM_METRIC_NAMES
from pulsegate.domain.funnels import MAX_STEPS, MIN_STEPS
from pulsegate.domain.intervals import INTERVALS
from pulsegate.domain.leads import LEAD_STATUSES, CrmCallback, LeadSubmission
from pulsegate.domain.periods import DEFAULT_LIMIT, MAX_LIMIT, PERIODS
from pulsegate.domain.reports import COMPARISONS, DIMENSIONS, METRICS
from pulsegate.domain.tracking import TrackingReceipt
from pulsegate.http.leads import CAPTURE_PATHS
from pulsegate.http.tracking import TRACKING_PREFIX, TRACKING_ROUTES

_REF = "#/components/schemas/{name}"
_ERROR = "Error"
TRACKING_ERRORS = {
    "400": "Wrong content type, malformed JSON or an invalid field (the message names it)",
    "403": "Projects are registered and this page is not one of the project's (session start)",
    "404": "Unknown or ended session",
    "405": "Only POST and OPTIONS",
    "413": "Body over the route's size cap",
    "429": "Rate limited (Retry-After, X-RateLimit-Remaining, X-RateLimit-Reset)",
    "503": "Write queue full or database unavailable (Retry-After)",
}
LEAD_REFUSED = "Projects are registered and this page is not one of the project's"
_STRING = Schema(type=OpenAPIType.STRING)
ANALYTICS_PARAMETERS = (
    Parameter(name="from", param_in="query", schema=_STRING, required=False,
              description="Start: ISO date (a whole day in tz), ISO datetime, or epoch ms"),
    Parameter(name="to", param_in="query", schema=_STRING, required=False,
              description="End: ISO date (inclusive), ISO datetime, or epoch ms; default now"),
    Parameter(name="period", param_in="query", required=False, description="Instead of from/to; default 30d",
              schema=Schema(type=OpenAPIType.STRING, enum=list(PERIODS))),
    Parameter(name="tz", param_in="query", schema=_STRING, required=False,
              description="IANA time zone for day boundaries; default UTC"),
    Parameter(name="project", param_in="query", schema=_STRING, required=False,
              description="Only this project (must be one the key may see)"),
    Parameter(name="limit", param_in="query", required=False,
              description=f"Rows per page, default {DEFAULT_LIMIT}",
              schema=Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=MAX_LIMIT)),
    Parameter(name="page", param_in="query", required=False, description="Page of a ranked list, from 1",
              schema=Schema(type=OpenAPIType.INTEGER, minimum=1)),
)  # fmt: skip


# Litestar routes that read their body themselves: the Struct each one decodes.
RAW_BODIES: dict[str, type[msgspec.Struct]] = {
    **dict.fromkeys(CAPTURE_PATHS, LeadSubmission),
    "/lead.capture/crm-callback": CrmCallback,
}
LEAD_LIST_PARAMETERS = (
    Parameter(name="status", param_in="query", required=False, description="Only leads with this status",
              schema=Schema(type=OpenAPIType.STRING, enum=list(LEAD_STATUSES))),
    Parameter(name="source", param_in="query", schema=_STRING, required=False,
              description="Only this form source"),
    Parameter(name="q", param_in="query", schema=_STRING, required=False,
              description="Text to find in name, email or company"),
)  # fmt: skip


INTERVAL_PARAMETER = Parameter(
    name="interval", param_in="query", required=False,
    description="Bucket size; default hour for windows up to two days, else day (hours: at most 31 days)",
    schema=Schema(type=OpenAPIType.STRING, enum=list(INTERVALS)),
)  # fmt: skip


_FILTER = Parameter(
    name="filter",
    param_in="query",
    schema=Schema(type=OpenAPIType.ARRAY, items=_STRING),
    required=False,
    explode=True,
    description="DIMENSION OP VALUE without spaces, OP one of == != ~ (contains) !~; `|` separates "
    "alternatives (\\| is a bar); repeat to require several. Dimensions: "
    + ", ".join(DIMENSIONS)
    + ", prop:KEY; goal==NAME keeps the sessions that converted on a goal",
)
_COMPARE = Parameter(
    name="compare",
    param_in="query",
    required=False,
    description="Add each metric's value in the window just before (previous) or a year earlier (year)",
    schema=Schema(type=OpenAPIType.STRING, enum=list(COMPARISONS)),
)
_INCLUDE_IMPORTED = Parameter(
    name="include_imported",
    param_in="query",
    required=False,
    description="Add the days of imported history where they answer the report (default true)",
    schema=Schema(type=OpenAPIType.STRING, enum=["true", "false"]),
)
_METRICS = Parameter(
    name="metrics",
    param_in="query",
    schema=_STRING,
    required=False,
    description="Comma-separated: " + ", ".join(METRICS) + " (event dimensions offer visitors, sessions, "
    "events; page also pageviews and avg_engaged_ms)",
)
_DIMENSION = Parameter(
    name="dimension",
    param_in="query",
    required=True,
    description="What the rows are values of",
    schema=Schema(type=OpenAPIType.STRING, examples=[*DIMENSIONS, "prop:plan"]),
)
_ORDER = Parameter(
    name="order",
    param_in="query",
    schema=_STRING,
    required=False,
    description="METRIC:desc or METRIC:asc, one of the asked metrics; default the first metric, descending",
)
_ATTRIBUTION_PARAMETERS = (
    Parameter(name="model", param_in="query", required=False,
              description="Which touches get a lead: first, last (default) or linear (an equal share each)",
              schema=Schema(type=OpenAPIType.STRING, enum=list(MODELS))),
    Parameter(name="dimension", param_in="query", required=False,
              description="What the rows are values of (default source)",
              schema=Schema(type=OpenAPIType.STRING, enum=list(ATTRIBUTION_DIMENSIONS))),
    Parameter(name="metrics", param_in="query", required=False, schema=_STRING,
              description=f"Comma-separated, of {', '.join(ATTRIBUTION_METRICS)}; default all"),
    Parameter(name="order", param_in="query", required=False, schema=_STRING,
              description="METRIC:desc or METRIC:asc, one of the asked metrics but revenue; "
                          "default the first, descending"),
)  # fmt: skip
_FORM_PARAMETERS = (
    Parameter(name="form", param_in="query", required=False, schema=_STRING,
              description="One form's label, to break it down by `dimension`"),
    Parameter(name="dimension", param_in="query", required=False,
              description="A session dimension to break `form` down by",
              schema=Schema(type=OpenAPIType.STRING, examples=["source", "country"])),
    Parameter(name="order", param_in="query", required=False, schema=_STRING,
              description=f"METRIC:desc or METRIC:asc, of {', '.join(FORM_METRIC_NAMES)}; "
                          "default views:desc"),
)  # fmt: skip
_EVENT = Parameter(
    name="event", param_in="query", schema=_STRING, required=True, description="A custom event's name"
)
_STEP = Parameter(
    name="step",
    param_in="query",
    schema=Schema(type=OpenAPIType.ARRAY, items=_STRING, min_items=MIN_STEPS, max_items=MAX_STEPS),
    required=False,
    explode=True,
    description="The funnel's steps in order (2-8): page:PATTERN (* any characters), event:NAME, "
    "goal:NAME or lead; required unless `name` is given",
)
_FUNNEL_PARAMETERS = (
    _STEP,
    Parameter(name="within", param_in="query", required=False,
              description="session (default): the steps in one session; visitor: across a visitor's sessions",
              schema=Schema(type=OpenAPIType.STRING, enum=["session", "visitor"])),
    Parameter(name="window", param_in="query", schema=_STRING, required=False,
              description="With within=visitor: how long after the first step the others count, "
              "30m, 12h or 7d (default 7d, at most 90d)"),
    Parameter(name="name", param_in="query", schema=_STRING, required=False,
              description="Run the saved funnel of this name (pulsegate funnels add) instead of `step`"),
)  # fmt: skip
# The parameters each analytics route takes besides the window and paging (ANALYTICS_PARAMETERS).
ROUTE_PARAMETERS: dict[str, tuple[Parameter, ...]] = {
    "/analytics/overview": (_FILTER, _COMPARE, _INCLUDE_IMPORTED),
    "/analytics/breakdown": (_DIMENSION, _METRICS, _ORDER, _FILTER, _COMPARE, _INCLUDE_IMPORTED),
    "/analytics/timeseries": (INTERVAL_PARAMETER, _METRICS, _FILTER, _COMPARE, _INCLUDE_IMPORTED),
    **dict.fromkeys(
        ("/analytics/sessions/daily", "/analytics/pages/top", "/analytics/geo", "/analytics/sources"),
        (_FILTER, _INCLUDE_IMPORTED),
    ),
    **dict.fromkeys(("/analytics/engagement", "/analytics/realtime"), (_FILTER,)),
    "/analytics/leads": (*LEAD_LIST_PARAMETERS, _FILTER),
    "/analytics/properties": (_EVENT, _FILTER),
    "/analytics/goals": (_FILTER, _COMPARE),
    "/analytics/attribution": (*_ATTRIBUTION_PARAMETERS, _FILTER, _COMPARE),
    "/analytics/forms": (*_FORM_PARAMETERS, _FILTER, _COMPARE),
    "/analytics/funnel": (*_FUNNEL_PARAMETERS, _FILTER),
}  # fmt: skip


def _json(schema: Reference) -> dict[str, OpenAPIMediaType]:
    return {"application/json": OpenAPIMediaType(schema=schema)}


def _ref(name: str) -> Reference:
    return Reference(ref=_REF.format(name=name))


def complete_openapi(app: Litestar) -> None:
    """Add the tracking routes, the analytics parameters and the API-key security to /schema."""
    schema = app.openapi_schema
    components: dict[str, Any] = schema.components.schemas  # type: ignore[assignment]
    _, generated = msgspec.json.schema_components(
        [route.payload for route in TRACKING_ROUTES] + [TrackingReceipt, *set(RAW_BODIES.values())],
        ref_template=_REF,
    )
    components.update(generated)
    components[_ERROR] = {
        "type": "object",
        "properties": {"error": {"type": "string", "description": "What went wrong, for a human"}},
        "required": ["error"],
    }
    errors = {
        code: OpenAPIResponse(description=text, content=_json(_ref(_ERROR)))
        for code, text in TRACKING_ERRORS.items()
    }
    for route in TRACKING_ROUTES:  # the operator's extra prefix is left out, as the script alias is
        schema.paths[TRACKING_PREFIX + route.path] = PathItem(  # type: ignore[index]
            post=Operation(
                tags=["tracking"],
                operation_id=route.operation_id,
                summary=route.summary,
                request_body=RequestBody(content=_json(_ref(route.payload.__name__)), required=True),
                responses={
                    "200": OpenAPIResponse(description="Committed", content=_json(_ref("TrackingReceipt"))),
                    **errors,
                },
            )
        )
    for path, struct in RAW_BODIES.items():
        item = schema.paths.get(path) if schema.paths else None
        if item is not None and item.post is not None:
            content = _json(_ref(struct.__name__))
            if path in CAPTURE_PATHS:  # a plain HTML form posts the same fields
                content["application/x-www-form-urlencoded"] = OpenAPIMediaType(schema=_ref(struct.__name__))
            item.post.request_body = RequestBody(content=content, required=True)
            if path in CAPTURE_PATHS:
                refused = OpenAPIResponse(description=LEAD_REFUSED, content=_json(_ref(_ERROR)))
                item.post.responses = {**(item.post.responses or {}), "403": refused}
    for path, parameters in ROUTE_PARAMETERS.items():
        item = schema.paths.get(path) if schema.paths else None
        if item is not None and item.get is not None:
            item.get.parameters = [*(item.get.parameters or []), *parameters]
    schema.components.security_schemes = {
        "bearer": SecurityScheme(type="http", scheme="bearer", description="Authorization: Bearer <API key>"),
        "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header"),
    }
    for path, item in schema.paths.items():  # type: ignore[union-attr]
        item.head = None  # HEAD answers as GET does (http/methods.py): one operation, one id
        if path.startswith("/analytics/") and item.get is not None:
            item.get.parameters = [*(item.get.parameters or []), *ANALYTICS_PARAMETERS]
            item.get.security = [{"bearer": []}, {"apiKey": []}]
            item.get.responses = {
                **(item.get.responses or {}),
                "400": OpenAPIResponse(description="A bad parameter (named)", content=_json(_ref(_ERROR))),
                "401": OpenAPIResponse(
                    description="Missing, unknown or revoked key", content=_json(_ref(_ERROR))
                ),
            }

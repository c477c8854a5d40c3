"""The OpenAPI document at /schema describes the whole API, raw tracking routes included."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient


def test_schema_lists_every_route_with_bodies_and_security(client: TestClient[Any]) -> None:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    for route in ("/track/session/start", "/track/event", "/track/events/batch", "/track/session/end"):
        body = paths[route]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert body.startswith("#/components/schemas/")
        assert body.rsplit("/", 1)[1] in document["components"]["schemas"]
        assert "413" in paths[route]["post"]["responses"]
    batch = document["components"]["schemas"]["EventBatch"]["properties"]["events"]
    assert batch["maxItems"] == 100
    for route in (
        "overview",
        "sessions/daily",
        "pages/top",
        "geo",
        "engagement",
        "sources",
        "realtime",
        "storage",
    ):
        operation = paths[f"/analytics/{route}"]["get"]
        assert {p["name"] for p in operation["parameters"]} >= {
            "from",
            "to",
            "period",
            "tz",
            "project",
            "limit",
        }
        assert {"bearer": []} in operation["security"]
    assert set(document["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert "/health" in paths


def test_the_documentation_page_loads_nothing_from_outside(client: TestClient[Any]) -> None:
    page = client.get("/schema")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert re.findall(r"(?:src|href)=['\"](https?:)?//", page.text) == []  # no CDN script, font or icon
    script = client.get("/assets/redoc.standalone.js", headers={"Accept-Encoding": "identity"})
    assert script.status_code == 200 and script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert b"Redoc" in script.content and b"cdn.redoc.ly" not in script.content

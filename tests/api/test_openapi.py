"""The OpenAPI document at /schema describes the whole API, raw tracking routes included."""

from __future__ import annotations

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

"""Only the sites you registered: tracking and leads from other pages are refused and counted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.config import Settings
from pulsegate.ops import projects
from pulsegate.ops.runner import run_operation
from tests.helpers import app_rows, invoke, new_api_key


def register(settings: Settings, name: str, *domains: str) -> None:
    run_operation(settings, projects.ADD, projects.AddProject(name=name, domains=list(domains)))


@pytest.fixture
def registered(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient[Any], Settings]]:
    settings = make_settings()
    register(settings, "acme", "acme.com", "*.acme.com")
    with TestClient(create_app(settings)) as client:
        yield client, settings


def start(client: TestClient[Any], url: str, project: str | None = "acme", origin: str | None = None) -> Any:
    body: dict[str, Any] = {"url": url} | ({"project": project} if project else {})
    return client.post("/track/session/start", json=body, headers={"Origin": origin} if origin else {})


def test_a_project_s_pages_are_taken_and_others_refused(registered: tuple[TestClient[Any], Settings]) -> None:
    client, settings = registered
    assert start(client, "https://acme.com/").status_code == 200
    assert start(client, "https://shop.acme.com/cart", origin="https://shop.acme.com").status_code == 200
    named_by_domain = start(client, "https://www.acme.com/", project=None)
    assert named_by_domain.status_code == 200
    refused = [
        start(client, "https://copycat.net/"),  # someone pasted acme's snippet
        start(client, "https://acme.com/", origin="https://copycat.net"),  # a page elsewhere, lying
        start(client, "https://initech.com/", project="initech"),  # not registered
        start(client, "https://copycat.net/", project=None),
    ]
    for response in refused:
        assert response.status_code == 403 and response.json()["error"], response.text
        assert response.headers["access-control-allow-origin"] == "*"  # the page can read why
    stored = app_rows(client, "SELECT project, entry_url FROM sessions ORDER BY started_at")
    assert stored == [
        ("acme", "https://acme.com/"),
        ("acme", "https://shop.acme.com/cart"),
        ("acme", "https://www.acme.com/"),
    ]
    storage = client.get("/analytics/storage", headers={"X-API-Key": new_api_key(settings)}).json()
    assert storage["registered_projects"] == ["acme"] and storage["refused_requests"] == len(refused)


def test_leads_from_other_pages_are_refused(registered: tuple[TestClient[Any], Settings]) -> None:
    client, _ = registered
    lead = {"submission_id": "proj-0001", "email": "a@example.com", "project": "acme"}
    assert (
        client.post("/lead.capture", json={**lead, "page_url": "https://acme.com/contact"}).status_code == 200
    )
    other = client.post(
        "/lead.capture", json={**lead, "submission_id": "proj-0002", "page_url": "https://copycat.net/"}
    )
    assert other.status_code == 403 and "copycat.net" in other.json()["error"]
    forged = client.post("/lead.capture", json={**lead, "submission_id": "proj-0003", "page_url": "https://acme.com/"},
                         headers={"Origin": "https://copycat.net"})  # fmt: skip
    assert forged.status_code == 403
    assert app_rows(client, "SELECT submission_id FROM leads") == [("proj-0001",)]


def test_registering_while_serving_applies_at_once_and_status_counts_refusals(
    make_settings: Callable[..., Settings], database_path: Any
) -> None:
    settings = make_settings()
    with TestClient(create_app(settings)) as client:
        assert start(client, "https://copycat.net/").status_code == 200  # open: no project registered
        register(settings, "acme", "acme.com")  # through the control socket, inside the server
        assert start(client, "https://copycat.net/").status_code == 403
        assert start(client, "https://acme.com/").status_code == 200
        status = invoke(database_path, "status")
        assert "Projects: data is taken only from acme (acme.com)" in status.stdout
        assert "1 tracking and lead requests refused since start" in status.stdout
        listed = invoke(database_path, "projects", "remove", "acme")
        assert "any site may send data" in listed.stdout
        assert start(client, "https://copycat.net/").status_code == 200  # open again


def test_scoped_keys_must_name_registered_projects(
    make_settings: Callable[..., Settings], database_path: Any
) -> None:
    settings = make_settings()
    assert (
        invoke(database_path, "keys", "create", "any", "--project", "globex").exit_code == 0
    )  # open: any name
    register(settings, "acme", "acme.com")
    refused = invoke(database_path, "keys", "create", "g", "--project", "globex")
    assert refused.exit_code == 2 and "'globex' is not a registered project (acme)" in refused.stderr
    assert invoke(database_path, "keys", "create", "a", "--project", "acme").exit_code == 0

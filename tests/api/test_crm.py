"""CRM forwarding through the outbox, against a real local HTTP receiver, and the callback's auth."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from pulsegate.app import create_app
from pulsegate.ops.leads import RETRY, RetryDeliveries
from pulsegate.ops.runner import run_operation
from tests.crm_receiver import CrmReceiver
from tests.engines import make_settings_on_both_engines  # noqa: F401  (the fixture)
from tests.helpers import app_rows, new_api_key, wait_for

SECRET = "signing-secret-for-tests"
LEAD = {"submission_id": "sub-000001", "name": "Ann Lee", "email": "ann@example.com", "elapsed_ms": 8000}


def crm_settings(make_settings: Callable[..., Any], url: str, **crm: Any) -> Any:
    return make_settings(
        crm={"webhook_url": url, "signing_secret": SECRET, "first_retry_seconds": 0.05, **crm}
    )


def test_leads_are_forwarded_signed_and_spam_is_not(make_settings: Callable[..., Any]) -> None:
    with CrmReceiver() as crm, TestClient(create_app(crm_settings(make_settings, crm.url))) as client:
        client.post("/lead.capture", json={**LEAD, "submission_id": "spam-00001", "website": "x"})
        lead = client.post("/lead.capture", json=LEAD).json()
        wait_for(lambda: app_rows(client, "SELECT status FROM leads WHERE status = 'forwarded'"))
        assert len(crm.received) == 1  # the spam lead was never sent
        post = crm.received[0]
        expected = hmac.new(SECRET.encode(), post.body, hashlib.sha256).hexdigest()
        assert post.headers["x-pulsegate-signature"] == f"sha256={expected}"
        assert post.headers["idempotency-key"] == lead["lead_id"]
        payload = json.loads(post.body)
        assert (payload["lead_id"], payload["email"], payload["name"]) == (
            lead["lead_id"],
            "ann@example.com",
            "Ann Lee",
        )
        assert app_rows(client, "SELECT status, attempts, last_status FROM deliveries") == [
            ("delivered", 1, 200)
        ]


def test_failures_are_retried_with_the_same_body(make_settings: Callable[..., Any]) -> None:
    with (
        CrmReceiver(fail_first=2, fail_status=503) as crm,
        TestClient(create_app(crm_settings(make_settings, crm.url))) as client,
    ):
        client.post("/lead.capture", json=LEAD)
        wait_for(lambda: app_rows(client, "SELECT 1 FROM leads WHERE status = 'forwarded'"))
        assert len(crm.received) == 3
        assert len({r.body for r in crm.received}) == 1
        assert app_rows(client, "SELECT attempts, last_status FROM deliveries") == [(3, 200)]
        assert app_rows(client, "SELECT status FROM leads") == [("forwarded",)]


def test_gives_up_after_max_attempts_then_retry_failed_sends_again(make_settings: Callable[..., Any]) -> None:
    settings = crm_settings(make_settings, "", max_attempts=2)
    with CrmReceiver(fail_first=1000) as crm:
        settings.crm.webhook_url = crm.url
        with TestClient(create_app(settings)) as client:
            client.post("/lead.capture", json=LEAD)
            # The lead's status is written after its delivery's (on ClickHouse, not in the same
            # commit): once it is there, both are.
            wait_for(lambda: app_rows(client, "SELECT 1 FROM leads WHERE status = 'failed'"))
            assert app_rows(client, "SELECT status FROM deliveries") == [("failed",)]
            assert len(crm.received) == 2
            crm.fail_first = 0
            requeued = run_operation(settings, RETRY, RetryDeliveries(include_failed=True))
            assert requeued.deliveries == 1
            wait_for(lambda: app_rows(client, "SELECT 1 FROM leads WHERE status = 'forwarded'"))
            assert app_rows(client, "SELECT status FROM deliveries") == [("delivered",)]


def test_a_4xx_from_the_crm_is_not_retried(make_settings: Callable[..., Any]) -> None:
    with (
        CrmReceiver(fail_first=1000, fail_status=400) as crm,
        TestClient(create_app(crm_settings(make_settings, crm.url))) as client,
    ):
        client.post("/lead.capture", json=LEAD)
        wait_for(lambda: app_rows(client, "SELECT 1 FROM deliveries WHERE status = 'failed'"))
        assert len(crm.received) == 1


def test_callback_needs_its_secret(make_settings: Callable[..., Any]) -> None:
    with TestClient(create_app(make_settings())) as unconfigured:
        response = unconfigured.post("/lead.capture/crm-callback", json={"lead_id": "x", "crm_lead_id": "y"})
        assert response.status_code == 503 and "callback_secret" in response.json()["error"]
    with TestClient(create_app(make_settings(crm={"callback_secret": "cb-secret"}))) as client:
        lead = client.post("/lead.capture", json=LEAD).json()
        body = {"lead_id": lead["lead_id"], "crm_lead_id": "CRM-42"}
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            refused = client.post("/lead.capture/crm-callback", json=body, headers=headers)
            assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
        good = {"Authorization": "Bearer cb-secret"}
        first = client.post("/lead.capture/crm-callback", json=body, headers=good)
        assert first.status_code == 200 and first.json()["changed"] is True
        again = client.post("/lead.capture/crm-callback", json=body, headers=good)
        assert again.status_code == 200 and again.json()["changed"] is False
        assert again.json()["crm_synced_at"] == first.json()["crm_synced_at"]
        unknown = client.post("/lead.capture/crm-callback", json={**body, "lead_id": "nope"}, headers=good)
        assert unknown.status_code == 404
        assert app_rows(client, "SELECT crm_lead_id, status FROM leads") == [("CRM-42", "synced")]


@pytest.mark.parametrize("url", ["ftp://crm.example/hook", "crm.example"])
def test_webhook_must_be_http_and_needs_a_signing_secret(make_settings: Callable[..., Any], url: str) -> None:
    from pulsegate.errors import ConfigError

    with pytest.raises(ConfigError, match=r"crm\.webhook_url"):
        make_settings(crm={"webhook_url": url, "signing_secret": "s"})
    with pytest.raises(ConfigError, match=r"crm\.signing_secret"):
        make_settings(crm={"webhook_url": "https://hook.example/x"})


def test_a_callback_stops_a_pending_delivery(make_settings: Callable[..., Any]) -> None:
    """Make.com timed out on us but created the record and called back: no second post."""
    with CrmReceiver(fail_first=1000, fail_status=503) as crm:
        settings = crm_settings(make_settings, crm.url, callback_secret="cb", first_retry_seconds=0.3)
        with TestClient(create_app(settings)) as client:
            lead = client.post("/lead.capture", json=LEAD).json()
            wait_for(lambda: len(crm.received) >= 1)
            synced = client.post(
                "/lead.capture/crm-callback",
                json={"lead_id": lead["lead_id"], "crm_lead_id": "CRM-9"},
                headers={"Authorization": "Bearer cb"},
            )
            assert synced.status_code == 200
            posts = len(crm.received)
            time.sleep(2.5)  # several worker rounds and retry times
            assert len(crm.received) == posts
            assert app_rows(client, "SELECT status FROM deliveries") == [("delivered",)]
            assert app_rows(client, "SELECT status, crm_lead_id FROM leads") == [("synced", "CRM-9")]


def test_a_webhook_url_with_a_bad_port_is_refused(make_settings: Callable[..., Any]) -> None:
    from pulsegate.errors import ConfigError

    with pytest.raises(ConfigError, match=r"crm\.webhook_url"):
        make_settings(crm={"webhook_url": "https://hook.example:443x/x", "signing_secret": "s"})


def test_the_crm_reports_stages_kept_as_a_history(make_settings: Callable[..., Any]) -> None:
    good = {"Authorization": "Bearer cb-secret"}
    settings = make_settings(crm={"callback_secret": "cb-secret"})
    key = new_api_key(settings)  # before the server starts, which reads the keys then
    with TestClient(create_app(settings)) as client:
        lead = client.post("/lead.capture", json=LEAD).json()

        def callback(body: dict[str, Any]) -> Any:
            return client.post("/lead.capture/crm-callback", json=body, headers=good)

        def stages() -> list[tuple[Any, ...]]:
            return app_rows(
                client,
                "SELECT stage, value, currency, epoch_ms(happened_at) FROM lead_stages "
                "ORDER BY received_at, rowid",
            )

        assert callback({"lead_id": lead["lead_id"], "crm_lead_id": "CRM-7"}).json()["stage"] is None
        qualified = callback({"crm_lead_id": "CRM-7", "stage": " Qualified ", "at": 1_000})
        assert qualified.status_code == 200 and qualified.json()["stage"] == "qualified"
        won = {"lead_id": lead["lead_id"], "stage": "won", "value": 1200.5, "currency": "eur", "at": 2_000}
        first = callback(won).json()
        assert (first["changed"], first["stage"], first["stage_value"], first["stage_currency"]) == (
            True, "won", 1200.5, "EUR",
        )  # fmt: skip
        again = callback(won).json()
        assert again["changed"] is False and again["stage"] == "won"  # the same callback twice is one entry
        late = callback({"lead_id": lead["lead_id"], "stage": "qualified", "at": 1_500}).json()
        assert late["changed"] is True and late["stage"] == "won"  # reported late, happened earlier
        assert stages() == [("qualified", None, None, 1_000), ("won", 1200.5, "EUR", 2_000),
                            ("qualified", None, None, 1_500)]  # fmt: skip
        assert app_rows(client, "SELECT stage, stage_value, stage_currency, crm_lead_id FROM leads") == [
            ("won", 1200.5, "EUR", "CRM-7")
        ]
        for body, status, named in (
            ({"stage": "won"}, 400, "lead_id"),
            ({"lead_id": lead["lead_id"]}, 400, "stage"),
            ({"lead_id": lead["lead_id"], "stage": "won", "value": 10}, 400, "currency"),
            ({"lead_id": lead["lead_id"], "stage": "won", "value": -1, "currency": "EUR"}, 400, "$.value"),
            ({"lead_id": lead["lead_id"], "stage": "won", "value": 1, "currency": "EURO"}, 400, "$.currency"),
            ({"lead_id": lead["lead_id"], "stage": ""}, 400, "$.stage"),
            ({"lead_id": lead["lead_id"], "stage": "   "}, 400, "stage"),
            ({"lead_id": "no-such-lead", "stage": "won"}, 404, "Unknown lead"),
            ({"crm_lead_id": "CRM-unknown", "stage": "won"}, 404, "Unknown lead"),
        ):
            refused = callback(body)
            assert refused.status_code == status and named in refused.json()["error"], (body, refused.text)
        assert len(stages()) == 3  # nothing changed on error
        detail = client.get(f"/analytics/leads/{lead['lead_id']}", headers={"X-API-Key": key}).json()
        assert [(s["stage"], s["at"]) for s in detail["stages"]] == [("qualified", 1_000), ("won", 2_000),
                                                                       ("qualified", 1_500)]  # fmt: skip
        assert detail["lead"]["stage"] == "won"

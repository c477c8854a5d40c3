"""Every route of the OpenAPI document, fuzzed by schemathesis against a real server.

No answer may be a 5xx, and every 4xx carries the error body and the CORS headers. The number
of examples per route is bounded (PULSEGATE_FUZZ_EXAMPLES, default 25) so CI stays quick; raise
it for a longer hunt.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from tests.e2e.running_server import RunningServer, pulsegate_command

pytestmark = pytest.mark.e2e
EXAMPLES = int(os.environ.get("PULSEGATE_FUZZ_EXAMPLES", "25"))
CALLBACK_SECRET = "fuzz-callback-secret"
CORS = {"access-control-allow-origin": "*", "access-control-allow-methods": "GET, POST, OPTIONS"}


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    folder = tmp_path_factory.mktemp("fuzz")
    database = folder / "fuzz.duckdb"
    key = subprocess.run(
        pulsegate_command("keys", "create", "fuzz", "--quiet", "--database", str(database)),
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()  # fmt: skip
    env = {
        "PULSEGATE_RATE_LIMITS__ENABLED": "false",  # the fuzzer sends thousands of calls from one address
        "PULSEGATE_CRM__CALLBACK_SECRET": CALLBACK_SECRET,  # so the callback route is exercised, not 503
    }
    server = RunningServer(database, folder, env=env).start()
    yield server, key
    server.stop()


def _operations(server: RunningServer) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/schema/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_no_route_fails_and_every_refusal_says_why(fuzzed_server: tuple[RunningServer, str]) -> None:
    """For each route: generated valid and invalid requests (schemathesis strategies, driven by
    hypothesis here so the server can be a fixture)."""
    server, key = fuzzed_server
    operations = _operations(server)
    assert len(operations) >= 20  # the whole API, not an empty schema

    def check(case: Any) -> None:
        secret = CALLBACK_SECRET if case.path == "/lead.capture/crm-callback" else key
        headers = {"X-API-Key": key, "Authorization": f"Bearer {secret}"}
        response = case.call(base_url=server.base_url, headers=headers)
        where = (case.method, case.path, response.status_code, response.text[:300])
        assert response.status_code < 500, where
        for name, value in CORS.items():
            assert response.headers.get(name) in (value, [value]), (where, name)
        if response.status_code >= 400:
            body = response.json()
            assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"], where

    unbreakable: list[str] = []
    fuzz = settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):  # schema-valid, then schema-breaking
            try:
                fuzz(given(operation.as_strategy(generation_mode=mode))(check))()
            except Unsatisfiable:
                # A route with nothing to break (no parameters, no body) has no invalid requests.
                assert mode is GenerationMode.NEGATIVE, operation.label
                unbreakable.append(operation.label)
    assert len(unbreakable) < len(operations) / 2, unbreakable


def test_the_fuzzed_server_logged_no_tracebacks(fuzzed_server: tuple[RunningServer, str]) -> None:
    server, _ = fuzzed_server
    log = Path(server.log_dir).glob(f"server-{server.port}-*.log")
    assert not any("Traceback" in path.read_text() for path in log)

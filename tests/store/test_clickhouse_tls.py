"""ClickHouse over HTTPS (`clickhouse.url = "https://…"`, `clickhouse.ca_file`): the network path
through clickhouse-connect against the chDB HTTP endpoint served with TLS, its certificate issued
by a certificate authority of the test's own (trustme), as a self-hosted server's private CA."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.clickhouse_endpoint import ClickHouseEndpoint, start_endpoint
from tests.helpers import clickhouse_environ, invoke_with


@pytest.fixture(scope="module")
def tls_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ClickHouseEndpoint, Path]]:
    """The endpoint answering HTTPS only, and the PEM file of the CA that issued its certificate."""
    folder = tmp_path_factory.mktemp("clickhouse-tls")
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    authority.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(folder / "server.pem"))
    endpoint = start_endpoint(folder, tls_cert=folder / "server.pem", ca_file=folder / "ca.pem")
    yield endpoint, folder / "ca.pem"
    endpoint.stop()


def test_the_server_s_ca_file_makes_https_work_and_without_it_the_store_is_refused(
    tls_endpoint: tuple[ClickHouseEndpoint, Path], unique_database: str, tmp_path: Path
) -> None:
    endpoint, ca_file = tls_endpoint
    url = endpoint.url(unique_database)
    assert url.startswith("https://")
    trusted = {**clickhouse_environ(url), "PULSEGATE_CLICKHOUSE__CA_FILE": str(ca_file)}
    unused = tmp_path / "unused.duckdb"  # on ClickHouse the CLI opens no file
    created = invoke_with(trusted, unused, "keys", "create", "over-tls", "--quiet")
    assert created.exit_code == 0, created.output
    listed = invoke_with(trusted, unused, "keys", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [key["name"] for key in json.loads(listed.stdout)] == ["over-tls"]
    assert not unused.exists()

    # The system's authorities do not know the endpoint's: its certificate is not trusted.
    refused = invoke_with(clickhouse_environ(url), unused, "keys", "list", "--json")
    assert refused.exit_code != 0 and refused.stdout == ""
    assert "certificate verify failed" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert "endpoint-secret" not in refused.stderr  # the URL's password is never printed


@pytest.mark.parametrize(
    ("scheme", "ca_file", "said"),
    [
        ("https", "missing.pem", "Invalid setting clickhouse.ca_file: no file at"),
        ("http", "ca.pem", "Invalid setting clickhouse.ca_file: clickhouse.url is not https://"),
    ],
)
def test_a_ca_file_that_cannot_be_used_is_one_line_and_exit_2(
    tmp_path: Path, scheme: str, ca_file: str, said: str
) -> None:
    (tmp_path / "ca.pem").write_text("not used: the settings are refused first")
    environ = {
        **clickhouse_environ(f"{scheme}://default@127.0.0.1:9/db"),
        "PULSEGATE_CLICKHOUSE__CA_FILE": str(tmp_path / ca_file),
    }
    done = invoke_with(environ, tmp_path / "unused.duckdb", "keys", "list")
    assert done.exit_code == 2 and done.stdout == ""
    assert done.stderr.startswith(said) or f": {said}" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1

"""Reading clickhouse.url and clickhouse.cluster; the settings that turn the engine on."""

from __future__ import annotations

import pytest

from pulsegate.config import load_settings
from pulsegate.domain.clickhouse_target import parse_target
from pulsegate.errors import ConfigError


def test_a_server_url_gives_host_port_credentials_and_database() -> None:
    target = parse_target("https://ana:p%40ss@ch.internal:9443/analytics", cluster="main")
    assert (target.kind, target.host, target.port, target.secure) == ("http", "ch.internal", 9443, True)
    assert (target.user, target.password, target.database, target.cluster) == (
        "ana",
        "p@ss",
        "analytics",
        "main",
    )
    assert "p@ss" not in target.display() and "ana@ch.internal:9443/analytics" in target.display()


def test_defaults_fill_what_a_short_url_leaves_out() -> None:
    target = parse_target("http://localhost")
    assert (target.port, target.user, target.password, target.database) == (8123, "default", "", "pulsegate")
    assert parse_target("https://localhost").port == 8443


def test_clickhouse_schemes_mean_its_http_interface() -> None:
    plain, secure = parse_target("clickhouse://u:p@ch:8123/db"), parse_target("clickhouses://ch/db")
    assert (plain.kind, plain.secure, plain.port, plain.user, plain.database) == (
        "http",
        False,
        8123,
        "u",
        "db",
    )
    assert (secure.kind, secure.secure, secure.port) == ("http", True, 8443)


def test_a_chdb_url_names_a_folder() -> None:
    target = parse_target("chdb:///var/lib/pulsegate/ch")
    assert (target.kind, target.path) == ("chdb", "/var/lib/pulsegate/ch")
    assert parse_target("chdb://relative/folder").path == "relative/folder"
    assert target.database == "pulsegate" and target.display() == "chdb:///var/lib/pulsegate/ch"


def test_a_chdb_url_may_name_its_database() -> None:
    target = parse_target("chdb:///srv/ch?database=site_b")
    assert (target.path, target.database) == ("/srv/ch", "site_b")
    assert target.display() == "chdb:///srv/ch?database=site_b"
    assert parse_target(target.display()) == target


@pytest.mark.parametrize(
    ("url", "cluster", "says"),
    [
        ("postgres://x@y/z", "", "is not one of"),
        ("http:///db", "", "no host"),
        ("http://h/my-db", "", "not a plain name"),
        ("http://h:99999/db", "", "clickhouse.url"),
        ("chdb://", "", "needs a folder"),
        ("chdb:///x?database=no-dashes", "", "not a plain name"),
        ("chdb:///x?db=a", "", "chdb takes .database=name, not"),
        ("chdb:///x", "main", "not on a cluster"),
        ("http://h/db", "main; DROP", "clickhouse.cluster"),
    ],
)
def test_a_bad_url_or_cluster_is_named(url: str, cluster: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_target(url, cluster=cluster)


def test_an_error_never_prints_the_password() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_target("ftp://ana:hunter2@h/db")
    assert "hunter2" not in str(raised.value)


def test_the_clickhouse_engine_needs_a_url() -> None:
    with pytest.raises(ConfigError, match=r"clickhouse\.url: required"):
        load_settings(None, environ={"PULSEGATE_STORAGE__ENGINE": "clickhouse"})
    settings = load_settings(
        None,
        environ={"PULSEGATE_STORAGE__ENGINE": "clickhouse", "PULSEGATE_CLICKHOUSE__URL": "chdb:///tmp/x"},
    )
    assert settings.storage.engine == "clickhouse" and settings.clickhouse_target.path == "/tmp/x"


def test_a_bad_url_stops_start_up_even_on_duckdb() -> None:
    with pytest.raises(ConfigError, match=r"clickhouse\.url"):
        load_settings(None, environ={"PULSEGATE_CLICKHOUSE__URL": "mysql://h/db"})


def test_what_clickhouse_does_not_do_is_refused_not_ignored() -> None:
    on_clickhouse = {"PULSEGATE_STORAGE__ENGINE": "clickhouse", "PULSEGATE_CLICKHOUSE__URL": "chdb:///tmp/x"}
    with pytest.raises(
        ConfigError, match=r"retention\.archive_dir: the Parquet archive is for the DuckDB file"
    ):
        load_settings(None, environ={**on_clickhouse, "PULSEGATE_RETENTION__ARCHIVE_DIR": "/var/archive"})
    # On DuckDB, the same setting is fine; retention, the CRM's and the alerts' webhooks and email
    # reports are on ClickHouse too.
    assert load_settings(None, environ={"PULSEGATE_RETENTION__ARCHIVE_DIR": "/var/archive"}).retention
    ported = {"PULSEGATE_CRM__WEBHOOK_URL": "https://crm.test/hook", "PULSEGATE_CRM__SIGNING_SECRET": "s" * 32,
              "PULSEGATE_ALERTS__WEBHOOK_URL": "https://alerts.test/hook", "PULSEGATE_EMAIL__HOST": "smtp.test",
              "PULSEGATE_EMAIL__FROM": "pulse@example.com", "PULSEGATE_RETENTION__EVENTS_OLDER_THAN_DAYS": "400"}  # fmt: skip
    assert load_settings(None, environ={**on_clickhouse, **ported}).email.host

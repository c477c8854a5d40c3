"""Settings: defaults < config TOML < environment (PULSEGATE_*) < command-line flags."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta, Struct

from pulsegate.domain.attribution import LastTouchRule
from pulsegate.domain.clickhouse_target import ClickHouseTarget, parse_target
from pulsegate.domain.client_ip import DEFAULT_TRUSTED_PROXIES, parse_networks
from pulsegate.domain.email_reports import Schedule, ScheduleOptions, check_sender
from pulsegate.domain.goals import Goal, GoalOptions
from pulsegate.errors import ConfigError, InvalidInput

DEFAULT_CONFIG_FILE = "pulsegate.toml"
DEFAULT_DATABASE = "pulsegate-data/pulsegate.duckdb"
ENV_PREFIX = "PULSEGATE_"
# Shorthand variables for the settings people change most; everything else is
# PULSEGATE_<SECTION>__<KEY>, e.g. PULSEGATE_STORAGE__MAX_PENDING_ROWS=50000.
ENV_SHORTHANDS: dict[str, tuple[str, str]] = {
    "PULSEGATE_DATABASE": ("storage", "database"),
    "PULSEGATE_HOST": ("server", "host"),
    "PULSEGATE_PORT": ("server", "port"),
}
# How `pulsegate serve` hands the resolved settings to its Granian worker process.
RESOLVED_SETTINGS_ENV = "_PULSEGATE_RESOLVED_SETTINGS"

Port = Annotated[int, Meta(ge=1, le=65535)]
PositiveInt = Annotated[int, Meta(ge=1)]


class ServerSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Where the HTTP server listens."""

    host: str = "127.0.0.1"
    port: Port = 8787
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # A request body not fully received after this long gets 408 (Granian itself times out
    # request headers after 30 s), so stalled or trickling clients hold nothing for long.
    body_timeout_seconds: Annotated[float, Meta(gt=0, le=300)] = 10.0


class StorageSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """The DuckDB file and the write queue in front of it."""

    # "duckdb": the embedded file below. "clickhouse": the server or chDB folder of [clickhouse],
    # for more than one machine or process (docs/scaling.md).
    engine: Literal["duckdb", "clickhouse"] = "duckdb"
    database: str = DEFAULT_DATABASE
    max_pending_rows: Annotated[int, Meta(ge=100)] = 100_000
    duckdb_threads: Annotated[int, Meta(ge=1, le=64)] = 2
    duckdb_memory_limit: str = "64MB"
    # Fold the write-ahead log into the file this often (0: only when DuckDB decides), so the
    # WAL stays small: short checkpoints instead of rare long ones, and a fast replay after a crash.
    checkpoint_interval_seconds: Annotated[float, Meta(ge=0, le=3600)] = 5.0
    # Add settled hours to the event rollup this often (store/rollup.py; 0: never, so event
    # reports read raw events: tests that write history by hand use it to decide when to roll up).
    rollup_interval_seconds: Annotated[float, Meta(ge=0, le=3600)] = 60.0
    # Writes are refused (503) while the database's disk has less free space than this (0: never).
    min_free_disk_mb: Annotated[int, Meta(ge=0)] = 100
    # Mode of the files PulseGate creates (they hold contact details): the owner's alone by default.
    file_mode: Annotated[str, Meta(pattern=r"^0?[0-7]{3}$")] = "0600"

    @property
    def file_mode_bits(self) -> int:
        return int(self.file_mode, 8)


class ClickHouseSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """The ClickHouse store, used when storage.engine = "clickhouse" (docs/scaling.md)."""

    # http(s)://user:password@host:8123/database (a server, or a cluster's load balancer), or
    # chdb:///path/to/folder (ClickHouse's engine in this process, for one machine and tests).
    url: str = ""
    # Run migrations ON CLUSTER with Replicated tables (the cluster's name in its remote_servers).
    cluster: str = ""
    # Certificate authorities to trust for https:// (PEM), for a server with a CA of its own;
    # empty: the system's.
    ca_file: str = ""
    connect_timeout_seconds: Annotated[float, Meta(gt=0, le=300)] = 10.0
    query_timeout_seconds: Annotated[float, Meta(gt=0, le=3600)] = 300.0
    # Each server reads the API keys and projects again this often: a change made by the CLI or
    # another server applies everywhere within this time.
    reload_seconds: Annotated[float, Meta(gt=0, le=3600)] = 10.0


class TrackingSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Limits on what browsers may send to /track/*."""

    max_event_bytes: Annotated[int, Meta(ge=1024)] = 16 * 1024
    max_batch_bytes: Annotated[int, Meta(ge=1024)] = 512 * 1024


class WebSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """The browser scripts, the extra names they can be reached by, and the demo site."""

    # Block lists know /pulse.js and /track/: these serve the same script and routes under
    # names of the operator's choosing as well (the reference paths keep working).
    script_alias: Annotated[str, Meta(pattern=r"^$|^/[A-Za-z0-9_-][A-Za-z0-9._/-]*\.js$")] = ""
    tracking_prefix: Annotated[str, Meta(pattern=r"^$|^(/[A-Za-z0-9_.-]+)+$")] = ""
    # How long browsers and CDNs may reuse a script before asking again (with its ETag).
    script_max_age_seconds: Annotated[int, Meta(ge=0, le=7 * 24 * 3600)] = 3600
    demo: bool = False


class SessionSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """When an open session counts as over."""

    # A session with no activity for this long is ended by the background sweep.
    idle_timeout_minutes: Annotated[int, Meta(ge=1, le=24 * 60)] = 30
    sweep_interval_seconds: Annotated[int, Meta(ge=1, le=3600)] = 60
    # Open sessions kept in memory at most (about 1 KB each); past it the least recently active
    # are ended at once, as the idle sweep would, so a flood of starts cannot grow memory.
    max_open: Annotated[int, Meta(ge=100)] = 100_000


class RateLimitSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Per-client fixed-window limits on the tracking routes (requests per window)."""

    enabled: bool = True
    window_seconds: PositiveInt = 60
    session_start: PositiveInt = 10
    session_end: PositiveInt = 10
    event: PositiveInt = 120
    events_batch: PositiveInt = 30
    # Password tries on share links (POST /share/<token>) per client and window, across links.
    share_password: PositiveInt = 5
    # Clients remembered per window; past this the oldest are forgotten (memory stays bounded).
    max_tracked_clients: Annotated[int, Meta(ge=100)] = 100_000


class LeadSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Lead capture."""

    # Submissions faster than this (from the form being shown) are stored as spam.
    min_fill_ms: Annotated[int, Meta(ge=0, le=600_000)] = 2000
    # Captures allowed per client per rate-limit window, on /lead.capture and its aliases.
    rate_limit: PositiveInt = 10
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 64 * 1024
    # "accept": POST /lead and POST / keep taking leads (with deprecation headers);
    # "gone": they answer 410 and point to /lead.capture.
    deprecated_routes: Literal["accept", "gone"] = "accept"
    # Where a plain HTML form's `redirect` field may send the browser after a capture (origins
    # such as "https://acme.com"); any other target gets the server's own thank-you page.
    redirect_origins: list[Annotated[str, Meta(pattern=r"^https?://[^/?#\s]+$")]] = msgspec.field(
        default_factory=list
    )


class AttributionSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Which sessions a lead is credited to (pulsegate/domain/attribution.py has the rules)."""

    # The visitor's sessions this many days before a lead count as its touches.
    lookback_days: Annotated[int, Meta(ge=1, le=730)] = 90
    # "last_non_direct": the latest touch that was not Direct; "last": the converting session.
    last_touch: LastTouchRule = "last_non_direct"
    # false: a lead is credited to the session it came from alone, never to earlier visits.
    cross_visit: bool = True


class CrmSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Forwarding leads to a CRM webhook (Make.com or any HTTPS endpoint)."""

    webhook_url: str = ""  # empty: leads are kept here only
    signing_secret: str = ""  # HMAC-SHA256 key for the X-PulseGate-Signature header
    callback_secret: str = ""  # bearer token Make.com sends to /lead.capture/crm-callback
    max_attempts: Annotated[int, Meta(ge=1, le=100)] = 8
    timeout_seconds: Annotated[float, Meta(gt=0, le=120)] = 10.0
    first_retry_seconds: Annotated[float, Meta(gt=0, le=3600)] = 5.0


class AlertSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Scheduled anomaly scans, with new findings posted to a webhook (Slack-compatible)."""

    webhook_url: str = ""  # empty: no scheduled scan
    signing_secret: str = ""  # optional X-PulseGate-Signature on alert posts
    scan_interval_seconds: Annotated[int, Meta(ge=1, le=86_400)] = 900
    window_hours: Annotated[int, Meta(ge=1, le=72)] = 6
    sensitivity: Literal["low", "normal", "high"] = "normal"
    # The same finding (kind and project) is not posted again within this time.
    repeat_after_hours: Annotated[float, Meta(ge=0, le=24 * 30)] = 12.0
    max_attempts: Annotated[int, Meta(ge=1, le=100)] = 5
    first_retry_seconds: Annotated[float, Meta(gt=0, le=3600)] = 30.0


class EmailSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """The SMTP server scheduled reports are sent through (empty host: none are sent)."""

    host: str = ""
    port: Port = 587
    # starttls: plain connection upgraded (port 587); tls: TLS from the start (465); none: local relays only.
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password: str = ""  # or PULSEGATE_EMAIL__PASSWORD, kept out of the file
    sender: str = msgspec.field(default="", name="from")  # "PulseGate <reports@example.com>"
    timeout_seconds: Annotated[float, Meta(gt=0, le=300)] = 30.0
    # Certificates to trust besides the system's (PEM), for a relay with its own CA.
    ca_file: str = ""
    # A failed send is tried again after 1, 2, 4 … minutes (this first), up to max_attempts.
    first_retry_seconds: Annotated[float, Meta(gt=0, le=3600)] = 60.0
    max_attempts: Annotated[int, Meta(ge=1, le=100)] = 8
    # How often the server looks for a report that is due (and a failed one to try again).
    check_interval_seconds: Annotated[float, Meta(gt=0, le=3600)] = 60.0
    # Where the report's "Open the dashboard" link points (empty: no link).
    dashboard_url: str = ""


class RetentionSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Deleting old raw events on a schedule, optionally archiving them to Parquet first."""

    events_older_than_days: Annotated[int, Meta(ge=0, le=100_000)] = 0  # 0: keep everything
    archive_dir: str = ""  # empty: pruned events are deleted without an archive
    # Analytics read archived events too (a view over the table and the Parquet files).
    query_archive: bool = True
    run_every_hours: Annotated[float, Meta(gt=0, le=24 * 30)] = 24.0


class NetworkSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Which peers may tell us the client's address (X-Forwarded-For, CF-Connecting-IP)."""

    trusted_proxies: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_TRUSTED_PROXIES))


class GeoSettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Optional MaxMind databases used instead of the bundled geoip2fast data."""

    country_mmdb: str = ""  # e.g. GeoLite2-Country.mmdb
    asn_mmdb: str = ""  # e.g. GeoLite2-ASN.mmdb


class PrivacySettings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Secrets that make visitor ids unlinkable outside this server."""

    # Empty: a random salt is generated once and kept in the database's meta table.
    visitor_salt: str = ""


class Settings(Struct, forbid_unknown_fields=True, kw_only=True):
    """Every setting PulseGate reads, grouped as in config.example.toml."""

    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    storage: StorageSettings = msgspec.field(default_factory=StorageSettings)
    clickhouse: ClickHouseSettings = msgspec.field(default_factory=ClickHouseSettings)
    tracking: TrackingSettings = msgspec.field(default_factory=TrackingSettings)
    web: WebSettings = msgspec.field(default_factory=WebSettings)
    sessions: SessionSettings = msgspec.field(default_factory=SessionSettings)
    rate_limits: RateLimitSettings = msgspec.field(default_factory=RateLimitSettings)
    leads: LeadSettings = msgspec.field(default_factory=LeadSettings)
    crm: CrmSettings = msgspec.field(default_factory=CrmSettings)
    attribution: AttributionSettings = msgspec.field(default_factory=AttributionSettings)
    alerts: AlertSettings = msgspec.field(default_factory=AlertSettings)
    email: EmailSettings = msgspec.field(default_factory=EmailSettings)
    retention: RetentionSettings = msgspec.field(default_factory=RetentionSettings)
    network: NetworkSettings = msgspec.field(default_factory=NetworkSettings)
    geo: GeoSettings = msgspec.field(default_factory=GeoSettings)
    privacy: PrivacySettings = msgspec.field(default_factory=PrivacySettings)
    # Goals declared here are written to the database at every start (server or CLI), replacing
    # those declared here before: `goals add` and `goals remove` leave them alone.
    goals: list[GoalOptions] = msgspec.field(default_factory=list)
    # Scheduled email reports, written to the database at every start like goals ([[reports]]).
    reports: list[ScheduleOptions] = msgspec.field(default_factory=list)

    @property
    def declared_goals(self) -> list[Goal]:
        """The config file's goals, checked (load_settings already refused bad ones)."""
        return [declared.goal() for declared in self.goals]

    @property
    def declared_reports(self) -> list[Schedule]:
        """The config file's report schedules, checked (load_settings already refused bad ones)."""
        return [declared.schedule() for declared in self.reports]

    @property
    def archive_path(self) -> Path | None:
        """The Parquet archive folder as an absolute path, if one is configured."""
        return Path(self.retention.archive_dir).expanduser().resolve() if self.retention.archive_dir else None

    @property
    def clickhouse_target(self) -> ClickHouseTarget:
        """Where the ClickHouse store is (load_settings has checked the URL when it is in use)."""
        clickhouse = self.clickhouse
        target = parse_target(clickhouse.url, cluster=clickhouse.cluster)
        return msgspec.structs.replace(
            target,
            connect_timeout_seconds=clickhouse.connect_timeout_seconds,
            query_timeout_seconds=clickhouse.query_timeout_seconds,
            ca_file=str(Path(clickhouse.ca_file).expanduser().resolve()) if clickhouse.ca_file else "",
        )

    @property
    def database_path(self) -> Path:
        """The database file as an absolute path."""
        return Path(self.storage.database).expanduser().resolve()


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Resolve settings from defaults, the config file, the environment and flag overrides.

    The config file is `config_file`, else $PULSEGATE_CONFIG, else ./pulsegate.toml when it
    exists. Any unknown key or wrong type raises ConfigError naming it and where it came from.
    """
    environ = os.environ if environ is None else environ
    layers: list[tuple[str, dict[str, Any]]] = []
    path = _config_path(config_file, environ)
    if path is not None:
        layers.append((f"config file {path}", _read_toml(path)))
    layers.append(("environment", _environment_layer(environ)))
    layers.append(("command-line flags", _clean(overrides or {})))

    merged: dict[str, Any] = {}
    for source, layer in layers:
        _convert(layer, source)  # validate each layer alone so the error names its source
        for section, values in layer.items():
            if isinstance(values, list):  # [[goals]]: a later layer's list replaces an earlier one's
                merged[section] = values
            else:
                merged.setdefault(section, {}).update(values)
    settings = _convert(merged, "settings")
    _check_values(settings)
    # Relative database paths are relative to where the command runs; pin them now so the
    # server's worker process and the CLI agree on the file.
    settings.storage.database = str(settings.database_path)
    return settings


def settings_from_json(data: bytes | str) -> Settings:
    """Decode settings that `pulsegate serve` serialised for its worker."""
    return msgspec.json.decode(data, type=Settings)


def settings_to_json(settings: Settings) -> bytes:
    """Serialise resolved settings for a worker process."""
    return msgspec.json.encode(settings)


def _config_path(config_file: Path | None, environ: Mapping[str, str]) -> Path | None:
    if config_file is not None:
        if not _is_file(config_file):
            raise ConfigError(f"Config file not found: {config_file}")
        return config_file
    from_env = environ.get("PULSEGATE_CONFIG")
    if from_env:
        path = Path(from_env)
        if not _is_file(path):
            raise ConfigError(f"Config file not found: {path} (from PULSEGATE_CONFIG)")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if _is_file(default) else None


def _is_file(path: Path) -> bool:
    """Whether `path` is a file; a folder on the way this user may not enter is said plainly."""
    try:
        return path.is_file()
    except PermissionError:
        raise ConfigError(
            f"Cannot read config file {path}: this user (uid {os.getuid()}) may not open it or a folder "
            "above it; give it to the server's user (`pulsegate init --owner USER`) or fix the folder's mode"
        ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = msgspec.toml.decode(path.read_bytes())
    except (msgspec.DecodeError, OSError) as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"Config file {path} must be a TOML table")
    return data


def _environment_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, dict[str, Any]] = {}
    for name, value in environ.items():
        if name in ENV_SHORTHANDS:
            section, key = ENV_SHORTHANDS[name]
        elif name.startswith(ENV_PREFIX) and "__" in name:
            section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        else:
            continue
        layer.setdefault(section, {})[key] = _environment_value(name, value)
    return layer


def _environment_value(name: str, value: str) -> Any:
    """Lists come as JSON (`["10.0.0.0/8", "::1/128"]`); everything else as plain text."""
    if not value.lstrip().startswith("["):
        return value
    try:
        return msgspec.json.decode(value)
    except msgspec.DecodeError as exc:
        raise ConfigError(f"Invalid setting in environment: {name} is not a JSON list: {exc}") from exc


def _clean(overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Drop flags the user did not pass (None)."""
    cleaned: dict[str, dict[str, Any]] = {}
    for section, values in overrides.items():
        kept = {key: value for key, value in values.items() if value is not None}
        if kept:
            cleaned[section] = kept
    return cleaned


def _convert(data: Mapping[str, Any], source: str) -> Settings:
    try:
        # strict=False lets environment strings such as "9000" or "true" become int and bool.
        return msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"Invalid setting in {source}: {_describe(exc)}") from exc


def _check_values(settings: Settings) -> None:
    """Checks a type cannot express: CIDR syntax, files that must exist."""
    try:
        parse_networks(settings.network.trusted_proxies)
    except ValueError as exc:
        raise ConfigError(f"Invalid setting network.trusted_proxies: {exc}") from exc
    crm = settings.crm
    if crm.webhook_url:
        _check_url("crm.webhook_url", crm.webhook_url)
        if not crm.signing_secret:
            raise ConfigError(
                "Invalid setting crm.signing_secret: required when crm.webhook_url is set "
                "(`pulsegate init` writes a random one)"
            )
    if settings.alerts.webhook_url:
        _check_url("alerts.webhook_url", settings.alerts.webhook_url)
    _check_web_paths(settings.web)
    _check_storage(settings)
    _check_goals(settings.goals)
    _check_reports(settings)
    for name in ("country_mmdb", "asn_mmdb"):
        value = getattr(settings.geo, name)
        if value and not Path(value).expanduser().is_file():
            raise ConfigError(f"Invalid setting geo.{name}: file not found: {value}")


# Paths the extra script name and tracking prefix must not shadow.
RESERVED_PATHS = (
    "/track",
    "/analytics",
    "/lead",
    "/lead.capture",
    "/health",
    "/schema",
    "/dashboard",
    "/demo",
)
SCRIPT_PATHS = ("/tracker.js", "/form.js", "/pulse.js")


def _check_storage(settings: Settings) -> None:
    if settings.storage.engine != "clickhouse" and not settings.clickhouse.url:
        return
    if not settings.clickhouse.url:
        raise ConfigError(
            "Invalid setting clickhouse.url: required when storage.engine is 'clickhouse' "
            "(http(s)://user:password@host:8123/database, or chdb:///path/to/folder)"
        )
    target = settings.clickhouse_target  # parsing it raises ConfigError naming the problem
    if target.ca_file and not Path(target.ca_file).is_file():
        raise ConfigError(f"Invalid setting clickhouse.ca_file: no file at {target.ca_file}")
    if target.ca_file and not target.secure:
        raise ConfigError("Invalid setting clickhouse.ca_file: clickhouse.url is not https://")
    if settings.storage.engine == "clickhouse":
        _check_clickhouse_features(settings)


def _check_clickhouse_features(settings: Settings) -> None:
    """Refuse what would be set and silently not done on ClickHouse: a team must not believe its
    old events archived when they are not."""
    if settings.retention.archive_dir:
        raise ConfigError(
            "Invalid setting retention.archive_dir: the Parquet archive is for the DuckDB file (each "
            "process would write its own); on ClickHouse, keep old events on cheaper storage with "
            "ClickHouse's own TTL … TO VOLUME (docs/scaling.md)"
        )


def _check_reports(settings: Settings) -> None:
    _check_declared("reports", settings.reports, lambda declared: declared.schedule().name)
    email = settings.email
    if email.host or email.sender:
        try:
            check_sender(email.sender)
        except InvalidInput as exc:
            raise ConfigError(f"Invalid setting {exc}") from exc
    if not (email.username + email.password).isascii():
        raise ConfigError("Invalid setting email.username or email.password: SMTP logins carry ASCII only")


def _check_goals(goals: list[GoalOptions]) -> None:
    _check_declared("goals", goals, lambda declared: declared.goal().name)


def _check_declared(section: str, declared: Sequence[Any], checked_name: Callable[[Any], str]) -> None:
    """Each `[[section]]` table is valid (`checked_name` raises InvalidInput otherwise) and names a
    thing once."""
    seen: set[str] = set()
    for n, table in enumerate(declared):
        try:
            name = checked_name(table)
        except InvalidInput as exc:
            raise ConfigError(f"Invalid setting {section}[{n}] ({table.name!r}): {exc}") from exc
        if name in seen:
            raise ConfigError(f"Invalid setting {section}[{n}]: the name {name!r} is declared twice")
        seen.add(name)


def _check_web_paths(web: WebSettings) -> None:
    if web.script_alias in SCRIPT_PATHS or any(
        web.script_alias.startswith(reserved + "/") for reserved in RESERVED_PATHS
    ):
        raise ConfigError(f"Invalid setting web.script_alias: {web.script_alias} is already a PulseGate path")
    prefix = web.tracking_prefix
    if prefix and any(
        prefix == reserved or prefix.startswith(reserved + "/") or reserved.startswith(prefix + "/")
        for reserved in RESERVED_PATHS
    ):
        raise ConfigError(f"Invalid setting web.tracking_prefix: {prefix} overlaps a PulseGate path")


def _check_url(name: str, url: str) -> None:
    """An http(s) URL with a host and, if any, a valid port."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError as exc:
        raise ConfigError(f"Invalid setting {name}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"Invalid setting {name}: must be an http(s) URL with a host")


def _describe(exc: msgspec.ValidationError) -> str:
    """Turn msgspec's `... - at `$.server.port`` into `server.port: ...`."""
    message = str(exc)
    text, sep, where = message.rpartition(" - at `$.")
    if not sep:
        return message
    return f"{where.rstrip('`')}: {text}"

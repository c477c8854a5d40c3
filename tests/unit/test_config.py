"""Settings precedence (defaults < TOML < env < flags) and errors that name the bad setting."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pytest

from pulsegate.config import Settings, load_settings, settings_from_json, settings_to_json
from pulsegate.domain.email_reports import ScheduleOptions
from pulsegate.domain.goals import GoalOptions
from pulsegate.errors import ConfigError
from pulsegate.resources import shipped_file


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, environ={})
    assert settings.server.host == "127.0.0.1"
    assert settings.server.port == 8787
    assert settings.database_path == tmp_path / "pulsegate-data" / "pulsegate.duckdb"
    assert Path(settings.storage.database).is_absolute()


def test_precedence_toml_then_env_then_flags(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.toml", '[server]\nport = 9001\nhost = "0.0.0.0"\n[storage]\nmax_pending_rows = 500\n'
    )
    settings = load_settings(
        config, environ={"PULSEGATE_PORT": "9002", "PULSEGATE_STORAGE__MAX_PENDING_ROWS": "700"}
    )
    assert settings.server.port == 9002  # env beats TOML
    assert settings.server.host == "0.0.0.0"  # TOML beats defaults
    assert settings.storage.max_pending_rows == 700
    flagged = load_settings(config, environ={"PULSEGATE_PORT": "9002"}, overrides={"server": {"port": 9003}})
    assert flagged.server.port == 9003  # flags beat env


def test_flags_left_unset_do_not_override(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "[server]\nport = 9001\n")
    settings = load_settings(config, environ={}, overrides={"server": {"port": None, "host": None}})
    assert settings.server.port == 9001


def test_config_path_from_environment_and_from_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = write(tmp_path / "named.toml", "[server]\nport = 9100\n")
    assert load_settings(None, environ={"PULSEGATE_CONFIG": str(named)}).server.port == 9100
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pulsegate.toml", "[server]\nport = 9200\n")
    assert load_settings(None, environ={}).server.port == 9200


def test_unknown_key_in_toml_is_named(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "[server]\nprot = 9001\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert str(config) in caught.value.message
    assert "server" in caught.value.message and "prot" in caught.value.message


def test_unknown_section_is_named(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "[sever]\nport = 1\n")
    with pytest.raises(ConfigError, match="sever"):
        load_settings(config, environ={})


def test_wrong_type_is_named_with_its_path(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", '[server]\nport = "eighty"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert "server.port" in caught.value.message
    assert "Expected `int`" in caught.value.message


def test_out_of_range_value_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_settings(None, environ={"PULSEGATE_PORT": "70000"})


def test_bad_environment_value_names_the_environment() -> None:
    with pytest.raises(ConfigError, match="environment"):
        load_settings(None, environ={"PULSEGATE_SERVER__PORT": "abc"})
    with pytest.raises(ConfigError, match="bogus"):
        load_settings(None, environ={"PULSEGATE_SERVER__BOGUS": "1"})


def test_missing_or_malformed_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml", environ={})
    broken = write(tmp_path / "broken.toml", "[server\nport=1")
    with pytest.raises(ConfigError, match="Cannot read config file"):
        load_settings(broken, environ={})


def test_example_config_lists_every_setting_with_its_default() -> None:
    text = shipped_file("config.example.toml").read_text()
    example = msgspec.toml.decode(text.encode())
    defaults = msgspec.to_builtins(Settings())
    # No goals by default: the example shows them in comments, and each commented one is valid.
    assert defaults.pop("goals") == [] and "goals" not in example
    assert defaults.pop("reports") == [] and "reports" not in example
    assert example == defaults
    commented = "\n".join(line[2:] for line in text.splitlines() if line.startswith("# ") or line == "#")
    tables = commented[commented.index("[[goals]]") :]
    declared = msgspec.toml.decode("\n".join(line.split("  #")[0] for line in tables.splitlines()).encode())
    assert [GoalOptions(**goal).goal().name for goal in declared["goals"]] == [
        "Signup", "Thank you page", "Demo request",
    ]  # fmt: skip
    assert [ScheduleOptions(**report).schedule().name for report in declared["reports"]] == ["weekly"]


def test_settings_survive_the_handoff_to_the_worker(tmp_path: Path) -> None:
    settings = load_settings(None, environ={"PULSEGATE_PORT": "9999"})
    assert settings_from_json(settings_to_json(settings)) == settings


def test_lists_from_the_environment_are_json() -> None:
    settings = load_settings(
        None, environ={"PULSEGATE_NETWORK__TRUSTED_PROXIES": '["10.0.0.0/8", "::1/128"]'}
    )
    assert settings.network.trusted_proxies == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(ConfigError, match="not a JSON list"):
        load_settings(None, environ={"PULSEGATE_NETWORK__TRUSTED_PROXIES": "[10.0.0.0/8"})


def test_bad_trusted_proxy_and_missing_mmdb_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"network\.trusted_proxies"):
        load_settings(None, environ={"PULSEGATE_NETWORK__TRUSTED_PROXIES": '["10.0.0.0/99"]'})
    with pytest.raises(ConfigError, match=r"geo\.country_mmdb: file not found"):
        load_settings(None, environ={"PULSEGATE_GEO__COUNTRY_MMDB": str(tmp_path / "absent.mmdb")})


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_a_config_this_user_may_not_reach_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """As the service's user (nobody here) facing root's private folder, as a wrong deployment does."""
    private = tmp_path / "etc"
    private.mkdir(mode=0o700)
    os.chmod(private, 0o700)
    config = private / "pulsegate.toml"
    config.write_text("")
    os.chmod(tmp_path, 0o755)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked child
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            load_settings(config, environ={})
            message = "no error"
        except ConfigError as exc:
            message = exc.message
        except BaseException as exc:
            message = f"{type(exc).__name__}: {exc}"
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        message = answer.read()
    os.waitpid(child, 0)
    assert message.startswith(f"Cannot read config file {config}: this user (uid 65534) may not open it"), (
        message
    )

"""`pulsegate snippet`: the tags a site pastes, shaped by the options and the server's settings."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def snippet(*args: str, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, ["snippet", *args], env={"COLUMNS": "200", **(env or {})})
    assert result.exit_code == 0, result.output
    return result.output


def test_a_project_gives_one_deferred_tag_with_data_attributes() -> None:
    out = snippet("--project", "acme", "--url", "https://analytics.example.com/")
    assert '<script src="https://analytics.example.com/pulse.js" data-project="acme" defer></script>' in out
    assert "PulseGate.init" not in out and "<form" not in out


def test_the_default_address_is_the_configured_one() -> None:
    out = snippet("--project", "acme", env={"PULSEGATE_HOST": "0.0.0.0", "PULSEGATE_PORT": "9000"})
    assert 'src="http://127.0.0.1:9000/pulse.js"' in out


def test_init_style_queues_calls_until_the_deferred_script_runs() -> None:
    out = snippet("--project", "acme", "--init", "--respect-dnt", "--url", "https://a.example")
    assert '<script src="https://a.example/pulse.js" defer></script>' in out
    assert "PulseGate.q.push([m, arguments])" in out
    assert 'PulseGate.init({"project": "acme", "respectDoNotTrack": true});' in out


def test_dnt_with_data_attributes_and_the_example_form() -> None:
    out = snippet("--project", "acme", "--respect-dnt", "--form", "--url", "https://a.example")
    assert 'data-project="acme" data-respect-dnt="true" defer' in out
    assert '<form data-pulsegate-project="acme" data-pulsegate-source="contact">' in out
    assert 'type="email" name="email"' in out


def test_the_operator_s_script_name_is_used() -> None:
    out = snippet(
        "--project", "acme", "--url", "https://a.example", env={"PULSEGATE_WEB__SCRIPT_ALIAS": "/js/app.js"}
    )
    assert 'src="https://a.example/js/app.js"' in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "a b"], "--project: 1 to 64 letters"),
        (["--project", '"><script>'], "--project: 1 to 64 letters"),
        (["--url", "analytics.example.com"], "--url must be the server's http(s) address"),
        (["--url", "https://a.example/?x=1"], "--url must be the server's http(s) address"),
    ],
)
def test_bad_options_are_refused_with_a_message(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["snippet", *args], env={"COLUMNS": "200"})
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("origin", "warned"),
    [("http://127.0.0.1:8787", True), ("http://localhost:8787", True), ("http://[::1]:8787", True),
     ("http://127.1.2.3", True), ("https://analytics.example.com", False), ("http://10.0.0.5:8787", False)],
)  # fmt: skip
def test_a_loopback_address_is_warned_about(origin: str, warned: bool) -> None:
    from pulsegate.ops.snippet import reachability_warning

    warning = reachability_warning(origin)
    assert (warning is not None) == warned
    if warning:
        assert origin in warning and "--url" in warning


def test_the_cli_warns_on_stderr_and_says_where_each_part_goes() -> None:
    result = runner.invoke(app, ["snippet", "--project", "acme", "--form"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Warning:" in result.stderr and "visitors' browsers cannot reach it" in result.stderr
    assert "Warning" not in result.stdout  # the snippet itself stays pasteable
    head_comment, form_comment = [line for line in result.stdout.splitlines() if line.startswith("<!--")]
    assert "<head>" in head_comment and "<body>" in form_comment and "</head>" not in form_comment
    quiet = runner.invoke(app, ["snippet", "--url", "https://a.example.com"], env={"COLUMNS": "200"})
    assert quiet.exit_code == 0 and quiet.stderr == ""

"""How the CLI talks to people: one console, and PulseGate errors as one red line and an exit code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ParamSpec, TypeVar

import msgspec
import typer
from rich.console import Console
from rich.markup import escape

from pulsegate.errors import PulseGateError

P = ParamSpec("P")
R = TypeVar("R")

# No :emoji: codes: a key or project named ":fire:" is printed as typed (and rich's table of
# codes is not loaded on every start).
console = Console(soft_wrap=True, emoji=False)
JsonOption = Annotated[bool, typer.Option("--json", help="Print the answer as JSON, for scripts.")]
error_console = Console(stderr=True, soft_wrap=True, emoji=False)


def format_ms(epoch_ms: int | None) -> str:
    """Epoch milliseconds as a UTC time a person reads (`2026-01-31 14:05`), or a dash."""
    if epoch_ms is None:
        return "-"
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def projects_line(projects: dict[str, list[str]]) -> str:
    """Which sites the server takes data from, as `serve` and `status` say it."""
    if not projects:
        return "Projects: none registered, so any site may send data"
    listed = "; ".join(f"{name} ({', '.join(domains)})" for name, domains in projects.items())
    return f"Projects: data is taken only from {listed}"


def print_json(answer: Any) -> None:
    """An operation's answer as one JSON document on stdout (times as epoch ms, as the API)."""
    typer.echo(msgspec.json.encode(answer).decode())


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a PulseGateError into `Error: <message>` on stderr and its exit code, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except PulseGateError as exc:
            error_console.print(f"[bold red]Error:[/] {escape(exc.message)}", highlight=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def last_send_line(last: Any) -> str:
    """A scheduled report's latest send for people: `sent 2026-03-09 08:00`, `failed (…), next try
    …`, `given up (…)`, `sending (the server stopped during it: not sent again by itself)`."""
    if last is None:
        return "never sent yet"
    if last.status == "sent":
        return f"sent {format_ms(last.sent_ms)}"
    if last.status == "failed":
        retry = format_ms(last.next_attempt_ms)
        return f"failed after {last.attempts} tries ({last.error}), next try {retry} UTC"
    if last.status == "given_up":
        return f"given up after {last.attempts} tries ({last.error})"
    return "sending when the server stopped: not sent again by itself (reports send --name sends it)"

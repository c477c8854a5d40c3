"""How the CLI talks to people: one console, and PulseGate errors as one red line and an exit code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from pulsegate.errors import PulseGateError

P = ParamSpec("P")
R = TypeVar("R")

console = Console(soft_wrap=True)
error_console = Console(stderr=True, soft_wrap=True)


def format_ms(epoch_ms: int | None) -> str:
    """Epoch milliseconds as a UTC time a person reads (`2026-01-31 14:05`), or a dash."""
    if epoch_ms is None:
        return "-"
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


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

"""The --config and --database options every command takes, and settings resolved from them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # imported by settings_for: a command's --help reads no settings
    from pulsegate.config import Settings

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file (TOML). Default: $PULSEGATE_CONFIG, else ./pulsegate.toml if present.",
        show_default=False,
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        help="DuckDB file. Default: $PULSEGATE_DATABASE, else pulsegate-data/pulsegate.duckdb.",
        show_default=False,
    ),
]


def settings_for(config: Path | None, database: str | None, **flags: dict[str, Any]) -> Settings:
    """Settings from defaults < config file < environment < these flags."""
    from pulsegate.config import load_settings
    from pulsegate.process import create_files_with_mode

    overrides: dict[str, dict[str, Any]] = {"storage": {"database": database}, **flags}
    settings = load_settings(config, overrides=overrides)
    create_files_with_mode(settings.storage.file_mode_bits)  # what this command writes is private
    return settings


def announce_new_database(settings: Settings) -> None:
    """Say on stderr that a command is about to create the database, and where (a mistyped path
    shows at once, instead of a key landing in a file no server reads)."""
    if settings.storage.engine == "duckdb" and not settings.database_path.exists():
        from cli.output import error_console

        error_console.print(f"Creating a new database at {settings.database_path}", highlight=False)

"""The --config and --database options every command takes, and settings resolved from them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from pulsegate.config import Settings, load_settings

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
    overrides: dict[str, dict[str, Any]] = {"storage": {"database": database}, **flags}
    return load_settings(config, overrides=overrides)

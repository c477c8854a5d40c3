"""`pulsegate keys …`: API keys for the analytics API."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.lazy import PulseTyper
from cli.output import JsonOption, console, format_ms, print_json, reports_errors
from cli.settings import ConfigOption, DatabaseOption, announce_new_database, settings_for

app = PulseTyper(help="Create, list and revoke API keys for the analytics API.", no_args_is_help=True)


@app.command("create")
@reports_errors
def create(
    name: Annotated[str, typer.Argument(help="A name to recognise the key by, e.g. 'dashboard'.")],
    project: Annotated[
        list[str] | None,
        typer.Option(
            "--project", "-p", help="Limit the key to this project (repeat for several). Default: all."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the secret, for scripts.")] = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Create a key and print its secret, once: it is stored only as a hash.

    Works whether or not `pulsegate serve` is running on the database.

    Example:

        pulsegate keys create dashboard --project acme
    """
    from pulsegate.ops import keys
    from pulsegate.ops.runner import run_operation

    settings = settings_for(config, database)
    announce_new_database(settings)
    created = run_operation(settings, keys.CREATE, keys.CreateKey(name=name, projects=project or []))
    if quiet:
        typer.echo(created.secret)
        return
    scope = ", ".join(created.key.projects) or "all projects"
    # Names are the user's text: escaped, or "[/]" in a name would break Rich's markup.
    console.print(
        f"Created API key [bold]{created.key.key_id}[/] ({escape(created.key.name)}) for {scope}:\n"
    )
    console.print(f"    {created.secret}\n", highlight=False)
    console.print("Copy it now: it is shown only this once. Use it as `Authorization: Bearer <key>`.")


@app.command("list")
@reports_errors
def list_(json: JsonOption = False, config: ConfigOption = None, database: DatabaseOption = None) -> None:
    """List every key (never their secrets), revoked ones included."""
    from pulsegate.ops import keys as key_ops
    from pulsegate.ops.context import NoArguments
    from pulsegate.ops.runner import run_operation

    keys = run_operation(settings_for(config, database), key_ops.LIST, NoArguments())
    if json:
        print_json(keys)
        return
    if not keys:
        console.print("No API keys yet. Create one with: pulsegate keys create NAME")
        return
    table = Table("id", "name", "prefix", "projects", "created (UTC)", "last used", "revoked")
    for column in table.columns[:3]:
        column.no_wrap = True
    for key in keys:
        table.add_row(
            key.key_id,
            escape(key.name),
            key.prefix + "…",
            ", ".join(key.projects) or "all",
            format_ms(key.created_ms),
            format_ms(key.last_used_ms),
            format_ms(key.revoked_ms),
        )
    console.print(table)


@app.command("revoke")
@reports_errors
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `pulsegate keys list` shows it.")],
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Revoke a key: a running server refuses it from the next request on."""
    from pulsegate.ops import keys
    from pulsegate.ops.runner import run_operation

    revoked = run_operation(settings_for(config, database), keys.REVOKE, keys.RevokeKey(key_id=key_id))
    key = revoked.key
    if revoked.already:
        console.print(
            f"{key.key_id} ({escape(key.name)}) was already revoked, at {format_ms(key.revoked_ms)} UTC: "
            "nothing changed."
        )
    else:
        console.print(f"Revoked {key.key_id} ({escape(key.name)}) at {format_ms(key.revoked_ms)} UTC.")

"""`pulsegate share …`: read-only share links to one project's dashboard."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.lazy import PulseTyper
from cli.output import JsonOption, console, format_ms, print_json, reports_errors
from cli.settings import ConfigOption, DatabaseOption, settings_for
from pulsegate.errors import InvalidInput

app = PulseTyper(
    help="Share one project's dashboard, read-only, by a link: create, list and revoke links.",
    no_args_is_help=True,
)
PASSWORD_ENV = "PULSEGATE_SHARE_PASSWORD"


def _password(prompt: bool, from_stdin: bool) -> str | None:
    """The link's password: typed twice without echo, one line of stdin, or the environment."""
    from pulsegate.domain.shares import check_password

    if prompt and from_stdin:
        raise InvalidInput("--password and --password-stdin: give one")
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif prompt:
        password = os.environ.get(PASSWORD_ENV) or typer.prompt(
            "Password for the link", hide_input=True, confirmation_prompt=True
        )
    else:
        return None
    return check_password(password)


@app.command("create")
@reports_errors
def create(
    project: Annotated[str, typer.Option("--project", "-p", help="The project the link shows.")],
    name: Annotated[
        str, typer.Option("--name", help="A label to recognise the link by in `share list`.")
    ] = "",
    expires: Annotated[
        str | None,
        typer.Option("--expires", help="Stop working after this long: 90m, 12h, 30d, 2w. Default: never."),
    ] = None,
    password: Annotated[
        bool,
        typer.Option(
            "--password",
            help="Ask for a password (typed twice, hidden) that viewers must give; taken from "
            f"${PASSWORD_ENV} instead when that is set. Or use --password-stdin.",
        ),
    ] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    embed_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--embed-origin",
            help="A site that may show the link in an <iframe> (with ?embed=1), e.g. "
            "https://wiki.example.com; repeat for several. Default: none may.",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            help="This server's public address, e.g. https://analytics.example.com (default: host:port)."
        ),
    ] = None,
    json: JsonOption = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Create a link to a read-only dashboard of one project, and print it once.

    Whoever has the link sees that project's numbers (every panel, filters and periods) and
    nothing else: no other project, no lead's name, email, phone or message, no storage figures.
    The link holds 256 random bits and is stored only as a hash: copy it now. Add ?embed=1 to
    show it without the page's header inside an <iframe> on an --embed-origin site.

    Examples:

        pulsegate share create --project acme --expires 30d --name "board meeting"

        pulsegate share create --project acme --password --embed-origin https://wiki.example.com
    """
    from pulsegate.domain.shares import hash_password
    from pulsegate.ops import shares
    from pulsegate.ops.runner import run_operation
    from pulsegate.ops.snippet import public_origin

    settings = settings_for(config, database)
    origin = public_origin(settings, url)  # checked before a password is asked for
    secret = _password(password, password_stdin)
    args = shares.CreateShare(
        project=project,
        name=name,
        expires=expires,
        password_hash=hash_password(secret) if secret is not None else None,
        embed_origins=embed_origin or [],
    )
    created = run_operation(settings, shares.CREATE, args)
    link = origin + created.path
    if json:
        print_json({"url": link, "embed_url": link + "?embed=1", **_builtins(created.share)})
        return
    share = created.share
    facts = [f"project {share.project}", f"expires {format_ms(share.expires_ms)} UTC" if share.expires_ms else
             "never expires", "password" if share.password else "no password"]  # fmt: skip
    console.print(f"Created share link [bold]{share.share_id}[/] ({escape(', '.join(facts))}):\n")
    console.print(f"    {link}\n", highlight=False, soft_wrap=True)
    if share.embed_origins:
        console.print(f"Embed with {link}?embed=1 on {', '.join(share.embed_origins)}.", highlight=False)
    console.print(
        f"Copy it now: it is shown only this once. `pulsegate share revoke {share.share_id}` ends it."
    )


def _builtins(share: object) -> dict[str, object]:
    import msgspec

    built: dict[str, object] = msgspec.to_builtins(share)
    return built


@app.command("list")
@reports_errors
def list_(json: JsonOption = False, config: ConfigOption = None, database: DatabaseOption = None) -> None:
    """List every share link (never their tokens), revoked and expired ones included."""
    from pulsegate.ops import shares as share_ops
    from pulsegate.ops.context import NoArguments
    from pulsegate.ops.runner import run_operation

    links = run_operation(settings_for(config, database), share_ops.LIST, NoArguments())
    if json:
        print_json(links)
        return
    if not links:
        console.print("No share links yet. Create one with: pulsegate share create --project NAME")
        return
    table = Table("id", "name", "project", "state", "password", "embed on", "created (UTC)", "expires")
    table.columns[0].no_wrap = True
    for link in links:
        table.add_row(
            link.share_id,
            escape(link.name),
            link.project,
            link.state,
            "yes" if link.password else "no",
            ", ".join(link.embed_origins) or "-",
            format_ms(link.created_ms),
            format_ms(link.expires_ms) if link.expires_ms else "never",
        )
    console.print(table)


@app.command("revoke")
@reports_errors
def revoke(
    share_id: Annotated[str, typer.Argument(help="The link's id, as `pulsegate share list` shows it.")],
    json: JsonOption = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Revoke a link: a running server refuses it (page and data) from the next request on."""
    from pulsegate.ops import shares
    from pulsegate.ops.runner import run_operation

    revoked = run_operation(
        settings_for(config, database), shares.REVOKE, shares.RevokeShare(share_id=share_id)
    )
    if json:
        print_json(revoked)
        return
    link = revoked.share
    if revoked.already:
        console.print(
            f"{link.share_id} was already revoked, at {format_ms(link.revoked_ms)} UTC: nothing changed."
        )
    else:
        console.print(f"Revoked {link.share_id} ({link.project}) at {format_ms(link.revoked_ms)} UTC.")

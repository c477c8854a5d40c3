"""`pulsegate snippet`: print the tags a website adds to load PulseGate."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from cli.output import console, error_console, reports_errors
from cli.settings import ConfigOption, DatabaseOption, settings_for


@reports_errors
def snippet(
    project: Annotated[
        str | None, typer.Option(help="The site's project name, as analytics filter on it.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            help="This server's public address, e.g. https://analytics.example.com (default: host:port)."
        ),
    ] = None,
    init: Annotated[
        bool, typer.Option("--init", help="Configure with PulseGate.init(...) instead of data- attributes.")
    ] = False,
    respect_dnt: Annotated[
        bool,
        typer.Option(
            "--respect-dnt", help="Do not track visitors who send Do Not Track or Global Privacy Control."
        ),
    ] = False,
    form: Annotated[bool, typer.Option("--form", help="Add an example lead form.")] = False,
    config: ConfigOption = None,
    database: DatabaseOption = None,
) -> None:
    """Print the script tag to paste into every page of a site, in its <head> (with --form, also
    a form to paste into a page's body).

    Without --url the address is where the running server listens (else where it would): a
    warning says when that is this machine's own address, which visitors cannot reach.

    Against ad blockers, set web.script_alias and web.tracking_prefix: the snippet uses them.

    Example:

        pulsegate snippet --project acme --url https://analytics.example.com
    """
    from pulsegate.ops.live import live_server
    from pulsegate.ops.snippet import SnippetOptions, public_origin, reachability_warning, site_snippet

    settings = settings_for(config, database)
    options = SnippetOptions(url=url, project=project, init=init, respect_dnt=respect_dnt, form=form)
    server = live_server(settings) if url is None else None
    text = site_snippet(settings, options, server)
    console.print(text, end="", highlight=False, markup=False, soft_wrap=True)
    warning = reachability_warning(public_origin(settings, url, server))
    if warning:
        error_console.print(f"[yellow]Warning:[/] {escape(warning)}", highlight=False)

"""`pulsegate snippet`: print the tags a website adds to load PulseGate."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.output import console, reports_errors
from cli.settings import ConfigOption, settings_for


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
) -> None:
    """Print the HTML to paste into every page of a site, before </head>.

    Against ad blockers, set web.script_alias and web.tracking_prefix: the snippet uses them.

    Example:

        pulsegate snippet --project acme --url https://analytics.example.com
    """
    from pulsegate.ops.snippet import SnippetOptions, site_snippet

    settings = settings_for(config, None)
    options = SnippetOptions(url=url, project=project, init=init, respect_dnt=respect_dnt, form=form)
    text = site_snippet(settings, options)
    console.print(text, end="", highlight=False, markup=False, soft_wrap=True)

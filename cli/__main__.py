"""`python -m cli`: the same as the `pulsegate` command."""

from cli.main import run

run()

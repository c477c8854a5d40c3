"""The `pulsegate` command line: a thin Typer layer over pulsegate.ops."""

"""Option values converted without Pydantic where plain Python gives Typer's own answer.

Typer converts each option's value through a Pydantic TypeAdapter that it builds the first time
the option is processed (given or not); importing Pydantic alone takes about as long as
everything else `pulsegate keys list` imports besides DuckDB (issue 21, bench/startup.py). The
annotations PulseGate's commands use are plain (str, int, Path, list[str]; no bounds, parsers or
path checks), so a value Typer would take as it is gets converted here. Anything else (a word
for an int, a path Typer would refuse, another annotation) goes to Typer's own conversion, so
its answers and its errors are Typer's. With a Typer that converts otherwise (no
`typer._coercion`), nothing is changed: only the start-up is slower, and
tests/cli/test_lazy_imports.py says so.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

INTEGER = re.compile(r"-?[0-9]+")
NOT_PLAIN = object()


class PlainConversion:
    """Stands in for Typer's runtime conversion of one parameter (`_TyperParameter._runtime_param`)."""

    def __init__(self) -> None:
        self._typer: Any = None  # Typer's own conversion, built on the first value it must take

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:  # as Typer's RuntimeParam.coerce: nothing given
            return () if param.multiple or param.nargs == -1 else None
        converted = plain_value(param.type_descriptor, value)
        if converted is not NOT_PLAIN:
            return converted
        if self._typer is None:
            from typer._coercion import build_runtime_param

            self._typer = build_runtime_param(param.type_descriptor)
        return self._typer.coerce(value, param=param, ctx=ctx)


def plain_value(descriptor: Any, value: Any) -> Any:
    """`value` as Typer would convert it for this parameter, or NOT_PLAIN when Typer must."""
    annotation, info = descriptor.annotation, descriptor.parameter_info
    if info.parser is not None or descriptor.file_annotation is not None:
        return NOT_PLAIN
    if annotation is str:
        return value if isinstance(value, str) else NOT_PLAIN
    if annotation is int:
        bounded = info.min is not None or info.max is not None
        return (
            int(value) if not bounded and isinstance(value, str) and INTEGER.fullmatch(value) else NOT_PLAIN
        )
    if annotation == list[str]:
        words = isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)
        return list(value) if words else NOT_PLAIN
    if (
        annotation is Path
        and isinstance(value, str)
        and _unchecked_path(info)
        and _readable_or_missing(value)
    ):
        return Path(value)
    return NOT_PLAIN


def _unchecked_path(info: Any) -> bool:
    """Typer checks nothing of such a path but that it can be read when it exists."""
    return (
        not info.exists
        and info.file_okay
        and info.dir_okay
        and not info.writable
        and not info.resolve_path
        and not info.allow_dash
        and info.path_type is None
    )


def _readable_or_missing(value: str) -> bool:
    try:
        os.stat(value)
    except OSError:
        return True
    return os.access(value, os.R_OK)


def install(params: list[Any]) -> None:
    """Give these parameters of a command the plain conversion (when this Typer converts through
    `typer._coercion`)."""
    try:
        import typer._coercion  # noqa: F401
    except ImportError:
        return
    for param in params:
        if hasattr(param, "type_descriptor") and getattr(param, "_runtime_param", False) is None:
            param._runtime_param = PlainConversion()

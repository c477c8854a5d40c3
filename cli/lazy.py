"""Commands imported when they run, and help in plain text: what keeps the CLI's start-up short.

`pulsegate` lists its commands from a table (`LazyCommand`: name, where it lives, one line of
help) and imports a command's module only when that command runs or its own --help is asked, so
`pulsegate --help` imports none of them, and `pulsegate keys list` cli/keys.py alone.

Help is Click's plain text, not Typer's Rich panels: Typer's Rich help (typer.rich_utils) imports
rich.markdown with markdown-it, rich.traceback with Pygments and more. The --help of a Typer app of
two commands took 2.7 times as long as `python -c "import typer, rich"` with Rich help, 1.2 times
with plain help, against the 1.5 of issue 21 (bench/startup.py measures PulseGate's). The text is
the same: every command with its whole first paragraph, every option, a command's examples as
written.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from cli import coercion

RAW = "\b"  # Click: the paragraph after this line is printed as it is, not rewrapped


def summary(help_text: str | None) -> str:
    """A command's first paragraph on one line: what its group's help lists."""
    first = inspect.cleandoc(help_text or "").partition("\f")[0].split("\n\n")[0]
    return " ".join(first.split())


def keep_examples(text: str) -> str:
    """Indented paragraphs (the examples) marked to be printed line for line, as written."""
    paragraphs = text.split("\n\n")
    return "\n\n".join(f"{RAW}\n{p}" if p.startswith((" ", "\t")) else p for p in paragraphs)


class PlainHelp:
    """Help text with its examples unwrapped (Click would join and rewrap their lines), and option
    values converted without Pydantic where they can be (cli/coercion.py)."""

    help: str | None

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        coercion.install(self.get_params(ctx))  # type: ignore[attr-defined]
        return super().parse_args(ctx, args)  # type: ignore[misc,no-any-return]

    def format_help_text(self, ctx: Any, formatter: Any) -> None:
        text = inspect.cleandoc(self.help or "").partition("\f")[0]
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(keep_examples(text))


class PlainCommand(PlainHelp, TyperCommand):
    """A command of PulseGate's CLI."""


class PlainGroup(PlainHelp, TyperGroup):
    """A group of commands, each listed with its whole first paragraph (Click cuts it short)."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [
            (name, help_text) for name in self.list_commands(ctx) if (help_text := self.listed(ctx, name))
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def listed(self, ctx: Any, name: str) -> str | None:
        """The line of help the group lists for command `name` (None: not listed)."""
        command = self.get_command(ctx, name)
        if command is None or command.hidden:
            return None
        return summary(command.short_help or command.help) or " "


class PulseTyper(typer.Typer):
    """A Typer whose help is plain text: the app of each `cli/` module."""

    def __init__(self, **settings: Any) -> None:
        settings.setdefault("cls", PlainGroup)
        settings.setdefault("rich_markup_mode", None)
        settings.setdefault("add_completion", False)  # only `pulsegate` itself offers completion
        super().__init__(**settings)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **settings: Any
    ) -> Any:
        return super().command(name, cls=cls or PlainCommand, **settings)


class LazyCommand(NamedTuple):
    """A command of a `LazyGroup`, listed without importing its module."""

    name: str
    target: str  # "module:attribute": a Typer app (a group of commands) or a command function
    help: str  # its help's first paragraph (tests/cli/test_lazy_imports.py checks they agree)

    def load(self) -> Any:
        """The Click command, imported and built now."""
        module, _, attribute = self.target.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        command: Any
        if isinstance(found, typer.Typer):
            command = typer.main.get_group(found)  # a group even of one command (`anomalies scan`)
        else:
            single = PulseTyper()
            single.command(self.name)(found)
            command = typer.main.get_command(single)
        command.name = self.name
        return command


class LazyGroup(PlainGroup):
    """A group whose commands (`lazy`) are imported only when asked for."""

    lazy: tuple[LazyCommand, ...] = ()

    def list_commands(self, ctx: Any) -> list[str]:
        lazy = [entry.name for entry in self.lazy]  # in the table's order, loaded or not
        return [*(name for name in super().list_commands(ctx) if name not in lazy), *lazy]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            entry = next((entry for entry in self.lazy if entry.name == cmd_name), None)
            if entry is not None:
                command = self.commands[cmd_name] = entry.load()
        return command

    def listed(self, ctx: Any, name: str) -> str | None:
        entry = next((entry for entry in self.lazy if entry.name == name), None)
        return entry.help if entry is not None else super().listed(ctx, name)

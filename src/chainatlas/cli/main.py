"""The `chainatlas` command. Each `cli/cmd_<topic>.py` module adds its commands through `register(app)`.

Modules are imported on use, not at start-up: the database, web and Excel stacks cost ~2 s to import, which a
batch command such as `chainatlas classify` never needs. A command named like its module (`classify` in
cmd_classify.py) loads that module alone; any other name, and any listing (help, completion, tests walking
the commands), registers every module as before, in the same order.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup
from typer.main import get_group

import chainatlas.cli as cli_package

if TYPE_CHECKING:  # typer carries its own click: the click package is not needed at run time (0.01 s to import)
    from typer._click.core import Command

_SETTINGS = {"rich_markup_mode": None}


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(cli_package.__path__) if m.name.startswith("cmd_"))


def _format_commands_whole(self, ctx, formatter) -> None:  # type: ignore[no-untyped-def]
    """Click cuts each command's description to the window's width less the name ("…"), which leaves a Chinese
    description unreadable; here it is printed whole and wrapped instead."""
    rows = []
    for name in self.list_commands(ctx):
        cmd = self.get_command(ctx, name)
        if cmd is not None and not cmd.hidden:
            rows.append((name, cmd.get_short_help_str(limit=10_000)))
    if rows:
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _commands_of(modules: list[str]) -> dict[str, Command]:
    """The click commands and groups that `register` of these modules adds to an app (commands first, then
    groups, as Typer orders them); groups list their commands whole."""
    app = typer.Typer(**_SETTINGS)  # type: ignore[arg-type]
    for name in modules:
        importlib.import_module(f"{cli_package.__name__}.{name}").register(app)
    commands = dict(get_group(app).commands)
    for cmd in commands.values():
        if hasattr(cmd, "list_commands"):
            cmd.format_commands = types.MethodType(_format_commands_whole, cmd)  # type: ignore[method-assign]
    return commands


class _LazyCommands(MutableMapping[str, "Command"]):
    """The root group's commands, imported when first asked for."""

    def __init__(self) -> None:
        self._some: dict[str, Command] = {}
        self._all: dict[str, Command] | None = None

    def _everything(self) -> dict[str, Command]:
        if self._all is None:
            self._all = _commands_of(_modules())
        return self._all

    def __getitem__(self, name: str) -> Command:
        if self._all is None:
            module = f"cmd_{name}"
            if name not in self._some and module in _modules():
                self._some.update(_commands_of([module]))
            if name in self._some:
                return self._some[name]
        return self._everything()[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._everything()[name] = command

    def __delitem__(self, name: str) -> None:
        del self._everything()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._everything())

    def __len__(self) -> int:
        return len(self._everything())


class _LazyGroup(TyperGroup):
    def __init__(self, **attrs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**attrs)
        self.commands = _LazyCommands()

    format_commands = _format_commands_whole


app = typer.Typer(
    name="chainatlas",
    cls=_LazyGroup,
    help="链图 ChainAtlas：产业链精准招商系统 (industrial-chain precision investment attraction).",
    no_args_is_help=True,
    add_completion=False,
    # Local variables in a traceback can hold passwords or confidential rows: never print them.
    pretty_exceptions_show_locals=False,
    **_SETTINGS,  # type: ignore[arg-type]
)


@app.callback()
def _root() -> None:
    """Root of the command tree; its commands come from `_LazyCommands`."""


if __name__ == "__main__":
    app()

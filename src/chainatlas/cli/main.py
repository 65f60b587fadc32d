"""The `chainatlas` command. Each `cli/cmd_<topic>.py` module adds its commands through `register(app)`."""

from __future__ import annotations

import importlib
import pkgutil

import typer

import chainatlas.cli as cli_package

app = typer.Typer(
    name="chainatlas",
    help="链图 ChainAtlas：产业链精准招商系统 (industrial-chain precision investment attraction).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    # Local variables in a traceback can hold passwords or confidential rows: never print them.
    pretty_exceptions_show_locals=False,
)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"chainatlas.cli.{info.name}").register(app)


_register_all()

if __name__ == "__main__":
    app()

"""How a command ends on a problem the user can fix: its message (Chinese first) on stderr, and exit code 1."""

from __future__ import annotations

from typing import NoReturn

import typer


def fail(message: str) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(1)

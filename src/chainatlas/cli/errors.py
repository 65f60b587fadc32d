"""How a command ends on a problem the user can fix: its message (Chinese first) and exit code 1."""

from __future__ import annotations

from typing import NoReturn

import typer


def fail(message: str, *, err: bool = True) -> NoReturn:
    """`err`: on stderr, so that a command's output on stdout (a CSV, a JSON) is never mixed with it; the import
    commands say everything on stdout, where their progress and summary are."""
    typer.echo(f"错误：{message}", err=err)
    raise typer.Exit(1)

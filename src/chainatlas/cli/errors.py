"""How a command ends on a problem the user can fix: its message (Chinese first) and exit code 1."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer

T = TypeVar("T")


def fail(message: str, *, err: bool = True) -> NoReturn:
    """`err`: on stderr, so that a command's output on stdout (a CSV, a JSON) is never mixed with it; the import
    commands say everything on stdout, where their progress and summary are."""
    typer.echo(f"错误：{message}", err=err)
    raise typer.Exit(1)


def user_name(user: str | None) -> str:
    """Who a write is recorded for: --user, else the login name, else "cli" (a container without a passwd entry)."""
    if user:
        return user
    try:
        return getpass.getuser() or "cli"
    except (OSError, KeyError):
        return "cli"


def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """One unit of work on a migrated database; a problem the user can fix (the services raise LookupError or
    ValueError subclasses with a Chinese message) ends the command with that message, having written nothing."""
    from chainatlas.store import db  # the database stack only for commands that open it

    db.migrate()
    try:
        with db.session_scope() as session:
            return fn(session, *args, **kwargs)
    except (LookupError, ValueError) as exc:
        fail(str(exc))

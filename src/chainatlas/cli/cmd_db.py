"""`chainatlas init`: create or migrate the database."""

from __future__ import annotations

import typer

from chainatlas import config
from chainatlas.store import db


def init() -> None:
    """创建或升级数据库 (create or migrate the database at CHAINATLAS_DATABASE_URL)."""
    revision = db.migrate()
    typer.echo(f"数据库已就绪 (database ready): {_safe_url(config.database_url())} @ {revision}")


def _safe_url(url: str) -> str:
    # Never print a password into a terminal or a log.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


def register(app: typer.Typer) -> None:
    app.command("init")(init)

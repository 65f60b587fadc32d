"""`chainatlas init`: create or migrate the database."""

from __future__ import annotations

import typer

from chainatlas import config
from chainatlas.services.ingest import load_reference
from chainatlas.store import db


def init(
    reference: bool = typer.Option(True, "--reference/--no-reference",
                                   help="载入全国参考企业集（上市公司公开信息），作为区外招商目标 (load the reference set of real firms)"),
) -> None:
    """创建或升级数据库 (create or migrate the database at CHAINATLAS_DATABASE_URL)."""
    revision = db.migrate()
    typer.echo(f"数据库已就绪 (database ready): {_safe_url(config.database_url())} @ {revision}")
    if reference:
        with db.session_scope() as session:
            added = load_reference(session, config.default_chain())
        if added:
            typer.echo(f"已载入全国参考企业 {added} 家（上市公司公开信息，区外招商目标）")


def _safe_url(url: str) -> str:
    # Never print a password into a terminal or a log.
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


def register(app: typer.Typer) -> None:
    app.command("init")(init)

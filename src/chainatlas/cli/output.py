"""How commands print: rich tables fitted to a terminal, every cell whole when the output goes to a file or a pipe
(a table cut to "…" in a log is useless), and the demo notice wherever demo data is shown."""

from __future__ import annotations

import sys

from rich.console import Console
from sqlalchemy import select

from chainatlas.store import db
from chainatlas.store.models import Enterprise, Project

DEMO_NOTE = "[bold yellow]注意：结果含演示数据（demo），不代表真实情况。[/]"
WHOLE_WIDTH = 100_000  # wide enough that no cell is wrapped or cut


def console() -> Console:
    if sys.stdout.isatty():
        return Console()
    return Console(width=WHOLE_WIDTH, no_color=True, highlight=False)


def node_ids(chain_id: str, texts: list[str]) -> list[str]:
    """--node values as node ids: ids and Chinese names both accepted; an unknown one ends the command in Chinese."""
    import typer

    from chainatlas.domain.chain import load_chain

    chain = load_chain(chain_id)
    try:
        return [chain.resolve_node(t) for t in texts]
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def has_demo_data() -> bool:
    """Whether the database holds demo firms or projects (then every result may rest on them)."""
    with db.session_scope() as s:
        return any(s.scalar(select(m.id).where(m.source == "demo").limit(1)) is not None for m in (Enterprise, Project))


def demo_notice(out: Console) -> None:
    if has_demo_data():
        out.print(DEMO_NOTE)

"""How commands print: rich tables fitted to a terminal, every cell whole when the output goes to a file or a pipe
(a table cut to "…" in a log is useless), and the demo notice wherever demo data is shown."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from enum import Enum

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from chainatlas.domain.cells import csv_cell
from chainatlas.store import db
from chainatlas.store.models import Enterprise, Project

DEMO_NOTE = "[bold yellow]注意：结果含演示数据（demo），不代表真实情况。[/]"
WHOLE_WIDTH = 100_000  # wide enough that no cell is wrapped or cut


def console() -> Console:
    if sys.stdout.isatty():
        return Console()
    return Console(width=WHOLE_WIDTH, no_color=True, highlight=False)


class Format(str, Enum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"


FORMAT_HELP = "输出格式：table 表格 / csv / tsv / json（写入文件或管道时用 csv、tsv 或 json）(output format)"


def emit(out: Console, fmt: Format, title: str, headers: Sequence[str], rows: Sequence[Sequence[object]],
         extra: dict | None = None) -> None:
    """One table in the chosen format: a rich table, or CSV / TSV (header row first), or JSON {title, rows[, …]}."""
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    if fmt is Format.table:
        table = Table(title=title)
        for h in headers:
            table.add_column(h, overflow="fold")
        for row in cells:
            table.add_row(*row)
        out.print(table)
    elif fmt is Format.json:
        body = {"title": title, "rows": [dict(zip(headers, row)) for row in cells]} | (extra or {})
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter="\t" if fmt is Format.tsv else ",", lineterminator="\n")
        writer.writerow(headers)
        writer.writerows([csv_cell(c) for c in row] for row in cells)  # names from users' files: never a formula
        typer.echo(buf.getvalue(), nl=False)


def note(out: Console, fmt: Format, text: str) -> None:
    """A remark beside a table: on the console for a table, on stderr for data formats (their stdout stays data)."""
    if fmt is Format.table:
        out.print(text)
    else:
        typer.echo(Console(no_color=True).render_str(text).plain if "[" in text else text, err=True)


def node_ids(chain_id: str, texts: list[str]) -> list[str]:
    """--node values as node ids: ids and Chinese names both accepted; an unknown one ends the command in Chinese."""
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


def demo_notice(out: Console, fmt: Format = Format.table) -> None:
    if has_demo_data():
        note(out, fmt, DEMO_NOTE)

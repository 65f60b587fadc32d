"""`chainatlas search TEXT`: firms by name, former / English / short name or USCC, as the web's 企业搜索 finds them."""

from __future__ import annotations

import json
from enum import Enum

import typer
from rich.table import Table

from chainatlas.cli import output
from chainatlas.cli.errors import fail
from chainatlas.store import db

DEMO_NOTE = "[bold yellow]注意：结果含演示数据（demo），不代表真实情况。[/]"


class Format(str, Enum):
    table = "table"
    json = "json"


def as_json(data: dict) -> str:
    """The same dict the web API returns, dates as YYYY-MM-DD."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=lambda v: v.isoformat())


def search_cmd(
    text: str = typer.Argument(..., help="名称、曾用名、英文名、简称或统一社会信用代码 (name, alias or USCC)"),
    limit: int = typer.Option(50, "--limit", help="最多列出几家 (results at most)"),
    fmt: Format = typer.Option(Format.table, "--format", help="输出格式：table 表格 / json (output format)"),
) -> None:
    """企业搜索：按名称、曾用名、英文名、简称或信用代码查找企业，已合并的重复记录不列出 (search firms)."""
    from chainatlas.services import enterprises

    db.migrate()
    if not text.strip():
        fail("请给出要查找的企业名称或信用代码。")
    try:
        with db.session_scope() as session:
            found = enterprises.search(session, text, limit=limit)
    except enterprises.SearchError as exc:
        fail(str(exc))
    if fmt is Format.json:
        typer.echo(as_json(found))
        return
    console = output.console()
    if not found["results"]:
        console.print(f"没有找到名称或信用代码含“{found['q']}”的企业。")
        return
    table = Table(title=f"企业搜索“{found['q']}”：{len(found['results'])} 家")
    for col in ("编号", "企业", "统一社会信用代码", "注册资本", "匹配", "链主"):
        table.add_column(col, overflow="fold")
    for r in found["results"]:
        table.add_row(str(r["id"]), r["name"] + ("（演示）" if r["is_demo"] else ""), r["uscc"] or "—",
                      r["capital_zh"], r["matched"] or "名称", "是" if r["is_leader"] else "")
    console.print(table)
    if found["is_demo"]:
        console.print(DEMO_NOTE)


def register(app: typer.Typer) -> None:
    app.command("search", help="企业搜索：名称、曾用名、英文名或信用代码 (search firms)")(search_cmd)

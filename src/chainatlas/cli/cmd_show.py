"""`chainatlas show ENTERPRISE`: one firm in full, the same facts as the web's enterprise page."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from chainatlas import config
from chainatlas.cli import output
from chainatlas.cli.cmd_search import DEMO_NOTE, Format, as_json
from chainatlas.cli.errors import fail
from chainatlas.domain.chain import ChainFileError, load_chain
from chainatlas.services import enterprises
from chainatlas.store import db

def show_cmd(
    enterprise: str = typer.Argument(..., help="企业编号、统一社会信用代码或名称 (id, USCC or name)"),
    chain: str = typer.Option(None, "--chain", help="产业链 id，默认 CHAINATLAS_CHAIN (chain id)"),
    fmt: Format = typer.Option(Format.table, "--format", help="输出格式：table 表格 / json (output format)"),
) -> None:
    """企业详情：登记信息、别名、资质、产品、在产业链上的位置及依据、供应关系和投资项目 (one firm in full)."""
    try:
        chain_obj = load_chain(chain or config.default_chain())
    except ChainFileError as exc:
        fail(str(exc))
    db.migrate()
    with db.session_scope() as session:
        try:
            detail = enterprises.enterprise_detail(session, chain_obj,
                                                   enterprises.find_enterprise(session, enterprise))
        except enterprises.EnterpriseNotFound as exc:
            fail(str(exc))
    if fmt is Format.json:
        typer.echo(as_json(detail))
        return
    _print(output.console(), detail)


def _print(console: Console, d: dict) -> None:
    e = d["enterprise"]
    console.print(f"[bold]{e['name']}[/]（编号 {e['id']}）" + ("  [yellow]演示数据[/]" if e["is_demo"] else ""))
    facts = Table(show_header=False, box=None)
    for f in d["fields"]:
        facts.add_row(f["label"], str(f["value"]))
    console.print(facts)
    if d["aliases"]:
        console.print("别名：" + "、".join(a["alias"] for a in d["aliases"]))
    if d["designations"]:
        console.print("资质：" + "、".join(f"{x['name']}（{x['year']}）" if x["year"] else x["name"]
                                         for x in d["designations"]))
    if d["products"]:
        console.print("产品：" + "、".join(d["products"]))
    chain_name = d["chain"]["name_zh"]
    if d["off_chain"]:
        console.print(f"产业链位置：已确认不在“{chain_name}”产业链上。")
    elif d["effective"]:
        placed = Table(title=f"在“{chain_name}”产业链上的位置")
        for col in ("节点", "方法", "置信度", "依据"):
            placed.add_column(col, overflow="fold")
        for p in d["effective"]:
            placed.add_row(p["node"]["name_zh"] if p["node"] else p["node_id"], enterprises.method_label(p["method"], p["evidence"]),
                           f"{p['confidence']:.2f}", "；".join(enterprises.evidence_label(x) for x in p["evidence"]))
        console.print(placed)
    else:
        console.print(f"产业链位置：尚未归入“{chain_name}”的任何节点。")
        for h in d["hints"]:  # the chain words the text holds, below the rules' gate: for the officer to decide
            console.print(f"  文本中的产业链词 · {h['node_name']}：" + "；".join(enterprises.evidence_label(x) for x in h["evidence"][:3]))
    if d["relations"]:
        rel = Table(title="供应关系")
        for col in ("方向", "企业", "产品", "年份", "金额"):
            rel.add_column(col, overflow="fold")
        for r in d["relations"]:
            rel.add_row("客户" if r["direction"] == "customer" else "供应商", r["other"]["name"], r["product"] or "—",
                        str(r["year"] or "—"), r["value_zh"])
        console.print(rel)
    if d["projects"]:
        proj = Table(title="投资项目")
        for col in ("编号", "项目", "阶段", "投资额"):
            proj.add_column(col, overflow="fold")
        for p in d["projects"]:
            proj.add_row(p["code"], p["name"], p["stage"], p["investment_zh"])
        console.print(proj)
    if d["is_demo"]:
        console.print(DEMO_NOTE)


def register(app: typer.Typer) -> None:
    app.command("show", help="企业详情：登记信息、产业链位置、供应关系和项目 (one firm in full)")(show_cmd)

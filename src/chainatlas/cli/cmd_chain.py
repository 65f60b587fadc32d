"""`chainatlas chain check|show|add|list`: validate, print and register chain files."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

from chainatlas import config
from chainatlas.domain.chain import Chain, ChainFileError, load_chain

chain_app = typer.Typer(help="产业链文件 (chain files): 校验、查看、登记与列出 (check, show, add, list).",
                        no_args_is_help=True)


class ShowFormat(str, Enum):
    tree = "tree"
    json = "json"


@chain_app.command("check")
def check(path: str = typer.Argument(..., help="产业链 YAML 文件路径或内置 id (chain file path or built-in id)")) -> None:
    """校验产业链文件：id 唯一、上级存在、无环、节点可达 (validate a chain file)."""
    try:
        chain = load_chain(path)
    except ChainFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    derived = sum(len(n.derived) for n in chain.nodes.values())
    also = f"，另含产品图谱派生词 {derived} 个（{Path(chain.derived_path).name}）" if chain.derived_path else ""
    typer.echo(f"✓ {chain.name_zh} ({chain.id}) 校验通过：{len(chain.segments())} 个环节，{len(chain.nodes)} 个节点{also}")
    fallback = chain.fallback
    if fallback is not None:  # say where generic lines go, so an analyst editing the file sees it
        typer.echo(f"  泛称推断：{len(fallback.words) + len(fallback.lines)} 个泛称词，默认归入“{chain.nodes[fallback.node].name_zh}”"
                   f"（可选：{'、'.join(chain.nodes[n].name_zh for n in fallback.nodes)}）")


@chain_app.command("show")
def show(
    chain_id: str = typer.Argument(None, help="产业链 id 或文件路径，默认 CHAINATLAS_CHAIN (chain id or file)"),
    format: ShowFormat = typer.Option(ShowFormat.tree, "--format", help="tree 或 json"),
) -> None:
    """打印产业链结构 (print the chain as a tree, or every node as JSON)."""
    try:
        chain = load_chain(chain_id or config.default_chain())
    except ChainFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    if format is ShowFormat.json:
        rows = [
            {
                "id": n.id,
                "parent_id": n.parent,
                "stage": n.stage,
                "name_zh": n.name_zh,
                "name_en": n.name_en,
                "core": n.core,
                "gbt4754": list(n.gbt4754),
            }
            for n in chain.nodes.values()
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    typer.echo(render_tree(chain))


@chain_app.command("add")
def add(
    path: Path = typer.Argument(..., help="产业链 YAML 文件 (chain file)"),
    user: str = typer.Option("cli", "--user", help="操作人 (acting user)"),
) -> None:
    """登记产业链 (register a chain)：校验后保存，库内企业全部按它归链；改过的文件再登记，只重写变了的归链。"""
    from chainatlas.services.placement import add_chain
    from chainatlas.store import db

    db.migrate()
    try:
        with db.session_scope() as session:
            done = add_chain(session, path, by_user=user)
    except ChainFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    if not done.changed:
        typer.echo(f"产业链“{done.name_zh}”（{done.chain_id}，版本 {done.version}）已登记过，文件未变，未做改动。")
        return
    typer.echo(f"✓ 已登记产业链“{done.name_zh}”（{done.chain_id}，版本 {done.version}，{done.nodes} 个节点）："
               f"{done.firms_replaced:,} 家企业的归链有变化，现有 {done.placed:,} 家企业在链上。"
               f"各命令用 --chain {done.chain_id} 使用它。")


@chain_app.command("list")
def list_cmd() -> None:
    """列出产业链 (list chains): 已登记的与内置的。"""
    from chainatlas.services.catalog import list_chains
    from chainatlas.store import db

    db.migrate()
    with db.session_scope() as session:
        entries = list_chains(session)
    for e in entries:
        state = f"已登记 {e.loaded_at}" if e.registered else "内置，未登记"
        typer.echo(f"{e.chain_id}\t{e.name_zh}\t版本 {e.version}\t{e.nodes} 个节点\t{state}")


def render_tree(chain: Chain) -> str:
    lines = [f"{chain.name_zh} ({chain.name_en})"]
    for stage in chain.stages:
        lines.append(f"├─ {stage.name_zh} {stage.name_en}")
        for segment in chain.by_stage(stage.id):
            lines.extend(_subtree(chain, segment.id, "│  "))
    return "\n".join(lines)


def _subtree(chain: Chain, node_id: str, indent: str) -> list[str]:
    node = chain.node(node_id)
    mark = " ★核心" if node.core else ""
    out = [f"{indent}├─ {node.name_zh} {node.name_en} [{node.id}]{mark}"]
    for child in chain.children(node_id):
        out.extend(_subtree(chain, child.id, indent + "│  "))
    return out


def register(app: typer.Typer) -> None:
    app.add_typer(chain_app, name="chain")

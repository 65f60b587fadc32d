"""`chainatlas demo load|generate`: the demo zone, and large generated sets for benchmarks."""

from __future__ import annotations

from pathlib import Path

import typer

from chainatlas import config
from chainatlas.store import db

demo_app = typer.Typer(help="演示数据 (demo data): 武汉经开区演示库与基准测试数据生成。", no_args_is_help=True)


@demo_app.command("load")
def load(
    zone: str = typer.Option(None, "--zone", help="开发区 id，默认演示开发区 wuhan-edz (zone id)"),
    chain: str = typer.Option(None, "--chain", help="产业链 id，默认 CHAINATLAS_CHAIN (chain id)"),
) -> None:
    """加载默认产业链与演示开发区（企业、配套关系、项目台账）(load the default chain and the demo zone)."""
    from chainatlas.services.demo import DEMO_ZONE, load_demo

    db.migrate()
    try:
        with db.session_scope() as session:
            summary = load_demo(session, zone_id=zone or DEMO_ZONE, chain_id=chain or config.default_chain())
    except RuntimeError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"演示数据已加载（demo loaded）：企业 {summary.enterprises} 家（区内 {summary.local} 家），"
        f"配套关系 {summary.relations} 条，链上定位 {summary.placements} 条，项目 {summary.projects} 个。"
        "以上均为演示数据，其中区内配套企业为程序生成。"
    )


@demo_app.command("status")
def status() -> None:
    """演示数据是否已加载；已加载时退出码为 0 (is the demo loaded? exit code 0 when it is)."""
    from sqlalchemy import func, select

    from chainatlas.store.models import Enterprise

    db.migrate()
    with db.session_scope() as session:
        count = session.scalar(select(func.count(Enterprise.id)).where(Enterprise.source == "demo")) or 0
    typer.echo(f"演示企业 {count} 家" if count else "演示数据未加载 (demo not loaded)")
    raise typer.Exit(0 if count else 1)


@demo_app.command("generate")
def generate(
    enterprises: int = typer.Option(100_000, "--enterprises", "-n", help="生成企业数 (number of records)"),
    out: Path = typer.Option(..., "--out", help="输出文件 .csv/.parquet/.xlsx (output file)"),
    seed: int = typer.Option(7, "--seed", help="随机种子 (random seed)"),
) -> None:
    """生成大规模演示企业名单（含重复、错别字、全角字符等噪声），用于基准测试 (generate benchmark data)."""
    from chainatlas.services.demo import generate_enterprises

    fmt = out.suffix.lstrip(".").lower()
    if fmt not in {"csv", "parquet", "xlsx"}:
        typer.echo(f"不支持的输出格式“{out.suffix}”：请用 .csv、.parquet 或 .xlsx", err=True)
        raise typer.Exit(1)
    generate_enterprises(enterprises, seed=seed, out=out, fmt=fmt)
    typer.echo(f"已生成 {enterprises} 条演示企业记录（程序生成）→ {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(demo_app, name="demo")

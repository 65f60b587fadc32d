"""`chainatlas link LEFT [RIGHT] --out PAIRS.csv [--engine duckdb|spark]`: entity resolution between files, no
database (services/ingest/file_linkage.py)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from chainatlas.cli.batch_options import ENGINE_HELP, Engine, master_option, user_errors
from chainatlas.cli.errors import fail


def link_command(
    left: Path = typer.Argument(..., help="企业名录（如全省登记库）CSV 或 Parquet (registry or list)"),
    right: Path | None = typer.Argument(None, help="本区名单；省略时对 LEFT 自身去重 (the zone's list; none: dedupe)"),
    out: Path = typer.Option(..., "--out", help="输出 CSV：疑似同一企业的记录对 (output: matched pairs)"),
    engine: Engine = typer.Option(Engine.duckdb, "--engine", help=ENGINE_HELP),
    master: str | None = master_option(),
    threshold: float = typer.Option(0.5, "--threshold", min=0.0, max=1.0,
                                    help="输出匹配概率不低于此值的记录对 (lowest match probability written)"),
    mapping: Path | None = typer.Option(None, "--mapping", help="列名对照文件 YAML/JSON (header mapping file)"),
) -> None:
    """企业实体匹配：名录对名单或名单自身去重，输出记录对与证据 (entity resolution between files)."""
    from chainatlas.services.ingest import link_files

    started = time.perf_counter()
    for path in (left, right):
        if path is not None and not path.is_file():
            fail(f"找不到输入文件 {path} (input file not found)")
    if not out.parent.is_dir():
        fail(f"输出文件夹 {out.parent} 不存在，请先创建 (output folder does not exist)")
    try:
        done = link_files(left, right, out, engine.value, master, threshold, mapping)
    except user_errors() as exc:
        fail(str(exc))
    typer.echo(f"✓ {done.records} 条记录，{done.pairs} 对疑似同一企业（其中 {done.merge} 对可自动合并）→ {out}"
               f"（{time.perf_counter() - started:.1f} 秒，{engine.value}）", err=True)


def register(app: typer.Typer) -> None:
    app.command("link", help="企业实体匹配：名录对名单或自身去重 (entity resolution between files)")(link_command)

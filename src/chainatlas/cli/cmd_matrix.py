"""`chainatlas matrix REGISTRY --placements PLACED --out MATRIX.parquet [--engine duckdb|spark]`: the region × node
matrix of a placed registry, the national baseline `gaps` compares a zone with (services/analysis/matrix.py)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from chainatlas import config
from chainatlas.domain.chain import ChainFileError, chain_file, load_chain
from chainatlas.cli.batch_options import ENGINE_HELP, Engine, master_option, user_errors
from chainatlas.cli.errors import fail
from chainatlas.domain.chain import chain_file, load_chain


def matrix_command(
    registry: str = typer.Argument(..., help="企业名录 CSV（UTF-8，首行为表头）或 Parquet；spark 引擎也可为 URI (registry file)"),
    placements: str = typer.Option(..., "--placements",
                                   help="该名录的挂链结果：chainatlas classify 的输出文件或分片文件夹 (its placements)"),
    out: str = typer.Option(..., "--out", help="输出 Parquet：地区 × 环节企业数 (output Parquet)"),
    chain: str = typer.Option(None, "--chain", help="产业链 id 或文件路径，默认 CHAINATLAS_CHAIN (chain id or YAML file)"),
    engine: Engine = typer.Option(Engine.duckdb, "--engine", help=ENGINE_HELP),
    master: str | None = master_option(),
    mapping: Path | None = typer.Option(None, "--mapping", help="列名对照文件 YAML/JSON (header mapping file)"),
) -> None:
    """地区 × 环节企业数矩阵（关联度与区位商的全国基准）(the region × node matrix: a national baseline for gaps)."""
    from chainatlas.services.analysis import matrix_local, matrix_spark

    started = time.perf_counter()
    if engine is Engine.duckdb:
        for path in (registry, placements):
            if not Path(path).exists():
                fail(f"找不到文件 {path} (file not found)")
    try:
        chain_obj = load_chain(chain_file(chain or config.default_chain()))
        if engine is Engine.spark:
            done = matrix_spark(registry, placements, chain_obj, out, master, mapping)
        else:
            done = matrix_local(Path(registry), Path(placements), chain_obj, Path(out), mapping)
    except user_errors() as exc:
        fail(str(exc))
    typer.echo(
        f"✓ {done.firms} 家企业（{done.chain_firms} 家在链上，{done.regions} 个城市，{done.nodes} 个环节）→ {done.path}"
        f"（{time.perf_counter() - started:.1f} 秒，{engine.value}）。用作全国基准：CHAINATLAS_BASELINE={done.path} "
        "或 chainatlas gaps --baseline",
        err=True,
    )


def register(app: typer.Typer) -> None:
    app.command("matrix", help="地区 × 环节企业数矩阵，作为诊断的全国基准 (region × node matrix: national baseline)")(
        matrix_command
    )

"""`chainatlas matrix REGISTRY --placements PLACED --out MATRIX.parquet [--engine duckdb|spark]`: the region × node
matrix of a placed registry, the national baseline `gaps` compares a zone with (services/analysis/matrix.py)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from chainatlas.domain.chain import ChainFileError, chain_file, load_chain


def matrix_command(
    registry: str = typer.Argument(..., help="企业名录 CSV（UTF-8，首行为表头）或 Parquet；spark 引擎也可为 URI (registry file)"),
    placements: str = typer.Option(..., "--placements",
                                   help="该名录的挂链结果：chainatlas classify 的输出文件或分片文件夹 (its placements)"),
    out: str = typer.Option(..., "--out", help="输出 Parquet：地区 × 环节企业数 (output Parquet)"),
    chain: str = typer.Option("nev-icv", "--chain", help="产业链 id 或文件路径 (chain id or YAML file)"),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb：本机（默认）；spark：在 Spark 中计算 (duckdb | spark)"),
    master: str | None = typer.Option(
        None, "--master", help="Spark master URL，默认 CHAINATLAS_SPARK_MASTER，再默认 local[*] (Spark master)"),
    mapping: Path | None = typer.Option(None, "--mapping", help="列名对照文件 YAML/JSON (header mapping file)"),
) -> None:
    """地区 × 环节企业数矩阵（关联度与区位商的全国基准）(the region × node matrix: a national baseline for gaps)."""
    from chainatlas.engines.spark_session import SparkUnavailable
    from chainatlas.ingest.mapping import MappingError
    from chainatlas.ingest.reader import ReadError
    from chainatlas.services.analysis.matrix import matrix_local, matrix_spark

    started = time.perf_counter()
    if engine not in ("duckdb", "spark"):
        typer.echo(f"错误：未知引擎“{engine}”，请用 duckdb 或 spark (unknown engine)", err=True)
        raise typer.Exit(1)
    try:
        chain_obj = load_chain(chain_file(chain))
        if engine == "spark":
            done = matrix_spark(registry, placements, chain_obj, out, master, mapping)
        else:
            for path in (registry, placements):
                if not Path(path).exists():
                    raise ReadError(f"找不到文件 {path} (file not found)")
            done = matrix_local(Path(registry), Path(placements), chain_obj, Path(out), mapping)
    except (ReadError, MappingError, ChainFileError, SparkUnavailable) as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"✓ {done.firms} 家企业（{done.chain_firms} 家在链上，{done.regions} 个城市，{done.nodes} 个环节）→ {done.path}"
        f"（{time.perf_counter() - started:.1f} 秒，{engine}）。用作全国基准：CHAINATLAS_BASELINE={done.path} "
        "或 chainatlas gaps --baseline",
        err=True,
    )


def register(app: typer.Typer) -> None:
    app.command("matrix", help="地区 × 环节企业数矩阵，作为诊断的全国基准 (region × node matrix: national baseline)")(
        matrix_command
    )

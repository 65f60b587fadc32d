"""`chainatlas classify INPUT --chain nev-icv --out OUTPUT.csv [--workers N]`: place firms from a file on a chain,
no database (the work is `services.placement`: `classify_pass`, or `spark_pass` with --engine spark).

This module does not load polars itself: the command first starts its worker processes and fixes polars' thread
count (one per process, so --workers N uses N cores), both of which must happen before polars loads.
"""

from __future__ import annotations

import os
import time
from contextlib import nullcontext
from pathlib import Path

import typer

from chainatlas import config
from chainatlas.domain.chain import ChainFileError, chain_file, load_chain
from chainatlas.services.placement import (
    WorkerFailed,
    available_cores,
    one_pass_process,
    parts_of,
    start_part_workers,
)


def classify_command(
    input: str = typer.Argument(..., help="企业名单文件 CSV/XLSX/Parquet；--engine spark 时也可为 hdfs:// 等 URI (input file)"),
    chain: str = typer.Option(None, "--chain", help="产业链 id 或文件路径，默认 CHAINATLAS_CHAIN (chain id or YAML file)"),
    out: Path = typer.Option(..., "--out", help="输出 CSV：id,node_id,node_name,score,evidence (output CSV)"),
    workers: int | None = typer.Option(
        None, "--workers", min=1,
        help="并行进程数，每个进程用一个 CPU 核；默认为本机可用核数 (worker processes, one core each; default: all cores)"),
    mapping: Path | None = typer.Option(None, "--mapping", help="列名对照文件 YAML/JSON (header mapping file)"),
    engine: str = typer.Option(
        "local", "--engine",
        help="local：本机（默认）；spark：在 Spark 分区中挂链，输出为分片文件夹 (local | spark: run in Spark partitions)"),
    master: str | None = typer.Option(
        None, "--master", help="Spark master URL，默认 CHAINATLAS_SPARK_MASTER，再默认 local[*] (Spark master)"),
) -> None:
    """企业挂链：按产业链文件把企业放到环节上，附证据；无需数据库 (place firms on chain nodes, with evidence)."""
    started = time.perf_counter()
    chain = chain or config.default_chain()
    if engine == "spark":
        _classify_on_spark(input, chain, out, mapping, master, started)
        return
    if engine != "local":
        typer.echo(f"错误：未知引擎“{engine}”，请用 local 或 spark (unknown engine)", err=True)
        raise typer.Exit(1)
    input = Path(input)
    one_pass_process()
    workers = workers or available_cores()
    if not input.is_file() or not os.access(input, os.R_OK):
        typer.echo(f"错误：找不到或无法读取输入文件 {input} (input file not found or not readable)", err=True)
        raise typer.Exit(1)
    if not out.parent.is_dir():
        typer.echo(f"错误：输出文件夹 {out.parent} 不存在，请先创建 (output folder does not exist)", err=True)
        raise typer.Exit(1)
    try:
        chain_path = chain_file(chain)
    except ChainFileError as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from exc
    try:
        from chainatlas.engines import kernel
    except (ValueError, RuntimeError) as exc:  # CHAINATLAS_KERNEL unknown, or compiled asked for and absent
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from exc
    if (notice := kernel.absent_notice()) is not None:
        typer.echo(notice, err=True)
    parts = parts_of(input, workers)
    # The workers start before this process parses the chain (≈ 0.06 s); each parses it for itself.
    with start_part_workers(input, str(chain_path), mapping, parts) if parts > 1 else nullcontext() as part_workers:
        from chainatlas.ingest.mapping import MappingError
        from chainatlas.ingest.reader import ReadError
        from chainatlas.services.placement import classify_file

        try:
            done = classify_file(input, load_chain(chain_path), out, workers, mapping, part_workers)
        except (ReadError, MappingError, WorkerFailed, ChainFileError) as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(1) from exc
        except OSError as exc:  # the input was readable: the output cannot be written (no space, no permission)
            typer.echo(f"错误：无法写入 {out}：{exc.strerror or exc} (cannot write the output)", err=True)
            raise typer.Exit(1) from exc
    _report(done.firms, done.placed, done.rows, out, started, f"{done.processes} 进程")


def _classify_on_spark(source: str, chain: str, out: Path, mapping: Path | None, master: str | None,
                       started: float) -> None:
    from chainatlas.engines.spark_session import SparkUnavailable
    from chainatlas.ingest.mapping import MappingError
    from chainatlas.ingest.reader import ReadError
    from chainatlas.services.placement import classify_spark

    try:
        done = classify_spark(source, load_chain(chain_file(chain)), str(out), master, mapping)
    except (ReadError, MappingError, ChainFileError, SparkUnavailable) as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from exc
    _report(done.firms, done.placed, done.rows, f"{out}/", started, f"Spark {done.master}，{done.partitions} 个分区")


def _report(firms: int, placed: int, rows: int, out: Path | str, started: float, how: str) -> None:
    seconds = time.perf_counter() - started
    typer.echo(f"✓ {firms} 家企业，{placed} 家挂链，共 {rows} 条挂链记录 → {out}（{seconds:.1f} 秒，{how}）", err=True)


def place_command(
    chain: str = typer.Option(None, "--chain", help="产业链 id；默认为每次导入都归链的全部产业链 (chain id)"),
    user: str = typer.Option("cli", "--user", help="操作人 (acting user)"),
) -> None:
    """库内企业重新归链：按库中存的名称、产品（含收入占比）、经营范围和行业，与 classify 同一引擎；分析员的人工判定不变
    (re-place every firm in the database from its stored evidence)."""
    from chainatlas.services.placement import classify_enterprises, placement_chain_ids
    from chainatlas.store import db

    db.migrate()
    try:
        with db.session_scope() as session:
            chain_ids = [load_chain(chain).id] if chain else placement_chain_ids(session)
            for chain_id in chain_ids:
                done = classify_enterprises(session, load_chain(chain_id), by_user=user)
                typer.echo(f"✓ {chain_id}：检查 {done.enterprises:,} 家企业，{done.changed:,} 家的归链有变化"
                           f"（新增 {done.inserted:,}、更新 {done.updated:,}、删除 {done.deleted:,} 条）")
    except ChainFileError as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from exc


def register(app: typer.Typer) -> None:
    app.command("place")(place_command)
    app.command("classify", help="企业挂链：按产业链把企业放到环节上，附匹配证据 (place firms on a chain, with evidence)")(
        classify_command
    )

"""`chainatlas backup --out FILE` and `chainatlas restore FILE` (services/backup/archive.py)."""

from __future__ import annotations

from pathlib import Path

import typer


def backup(out: Path = typer.Option(..., "--out", help="备份文件 (the backup file, e.g. chainatlas-2024-10-31.tar.gz)")) -> None:
    """备份数据库、上传文件和实例密钥到一个文件 (back up the database, uploads and instance secret)."""
    from chainatlas.services.backup import BackupError, backup as run

    try:
        manifest = run(out)
    except BackupError as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"已备份到 {out}（{manifest.database}，数据库版本 {manifest.revision}；文件仅本人可读，请妥善保管）")


def restore(
    file: Path = typer.Argument(..., help="备份文件 (a file written by chainatlas backup)"),
    yes: bool = typer.Option(False, "--yes", help="不再询问，直接覆盖现有数据 (overwrite without asking)"),
) -> None:
    """从备份恢复（覆盖现有数据库和实例文件）(restore a backup, replacing the database and instance files)."""
    from chainatlas.services.backup import BackupError, has_data, read_manifest, restore as run

    try:
        manifest = read_manifest(file)
        if has_data() and not yes:
            typer.confirm(f"现有数据库中的全部数据将被备份（{manifest.created_at}）替换，确定继续？", abort=True)
        run(file)
    except BackupError as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"已从 {file.name} 恢复（备份于 {manifest.created_at}）。")


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)

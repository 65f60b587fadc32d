"""`chainatlas backup` / `chainatlas restore`: the database, the uploads and the instance secret in one file.

A backup is a gzipped tar, written 0600 (it holds confidential lists and the key that signs sessions):
- manifest.json: format, schema revision, database kind, when;
- database.sqlite (SQLite's online backup API: a consistent copy while the app keeps writing) or database.pgdump
  (pg_dump's custom format, restored with pg_restore);
- instance/secret_key and instance/uploads/… from CHAINATLAS_HOME.
Restore refuses a backup whose schema is newer than this program knows (upgrade ChainAtlas first), and replaces
the database (SQLite: page by page through the backup API; PostgreSQL: an emptied schema, then pg_restore in one
transaction) and the instance files; the caller asks before overwriting a database that holds data.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from chainatlas import config
from chainatlas.store import db

FORMAT = "chainatlas-backup-1"


class BackupError(ValueError):
    """A backup or restore that cannot go on; the message is Chinese and says what to do."""


@dataclass(frozen=True)
class Manifest:
    format: str
    revision: str
    database: str  # sqlite / postgresql
    created_at: str


def backup(out: Path, url: str | None = None) -> Manifest:
    url = db.normalize_url(url or config.database_url())
    revision = db.current_revision(url)
    if not revision:
        raise BackupError("数据库尚未初始化，没有可备份的内容。请先运行 chainatlas init。")
    kind = make_url(url).get_backend_name()
    manifest = Manifest(FORMAT, revision, kind, datetime.now(timezone.utc).isoformat(timespec="seconds"))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / ("database.sqlite" if kind == "sqlite" else "database.pgdump")
        if kind == "sqlite":
            _sqlite_copy(_sqlite_path(url), dump)
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", _libpq(url)], "pg_dump")
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh, tarfile.open(fileobj=fh, mode="w:gz") as tar:
            data = json.dumps(vars(manifest), ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, dump.name)
            home = config.home()
            for name in ("secret_key", "uploads"):
                if (home / name).exists():
                    tar.add(home / name, f"instance/{name}")
        partial.replace(out)  # a backup cut short never stands in for a whole one
    return manifest


def read_manifest(path: Path) -> Manifest:
    try:
        with tarfile.open(path, "r:gz") as tar:
            data = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        manifest = Manifest(**data)
    except (OSError, tarfile.TarError, KeyError, AttributeError, TypeError, ValueError):
        raise BackupError(f"{Path(path).name} 不是链图的备份文件（或已损坏）。") from None
    if manifest.format != FORMAT:
        raise BackupError(f"{Path(path).name} 的备份格式“{manifest.format}”无法识别。")
    if manifest.revision not in _known_revisions():
        raise BackupError(f"备份的数据库版本 {manifest.revision} 比本程序新（本程序最高 {db.head_revision()}）。"
                          "请先升级链图，再恢复此备份。")
    return manifest


def has_data(url: str | None = None) -> bool:
    """Whether the database already holds a schema (restoring over it replaces everything in it)."""
    return bool(inspect(db.get_engine(url)).get_table_names())


def restore(path: Path, url: str | None = None) -> Manifest:
    url = db.normalize_url(url or config.database_url())
    manifest = read_manifest(path)
    kind = make_url(url).get_backend_name()
    if kind != manifest.database:
        raise BackupError(f"备份来自 {manifest.database} 数据库，不能恢复到 {kind}。"
                          "请把 CHAINATLAS_DATABASE_URL 指向同类数据库。")
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(path, "r:gz") as tar:
        tar.extractall(tmp, filter="data")
        dump = Path(tmp) / ("database.sqlite" if kind == "sqlite" else "database.pgdump")
        db.get_engine(url).dispose()
        if kind == "sqlite":
            _sqlite_copy(dump, _sqlite_path(url))
        else:
            # an empty schema first: tables of a newer migration than the backup's would be in the way of
            # db.migrate below (pg_restore --clean drops only what the dump holds)
            with db.get_engine(url).begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
            _run(["pg_restore", "--no-owner", "--single-transaction", f"--dbname={_libpq(url)}", str(dump)],
                 "pg_restore")
        _restore_instance(Path(tmp) / "instance")
    db.migrate(url)  # a backup of an older schema is brought up to this program's
    return manifest


def _restore_instance(source: Path) -> None:
    home = config.home()
    if (source / "secret_key").exists():
        target = home / "secret_key"
        shutil.copyfile(source / "secret_key", target)
        target.chmod(0o600)
    if (source / "uploads").is_dir():
        uploads = home / "uploads"
        shutil.rmtree(uploads, ignore_errors=True)
        shutil.copytree(source / "uploads", uploads)
        for folder, dirs, files in os.walk(uploads):
            Path(folder).chmod(0o700)
            for name in files:
                (Path(folder) / name).chmod(0o600)


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    return {rev.revision for rev in script.walk_revisions()}


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复。")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy page by page, while other connections go on writing."""
    db.create_private_file(target)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=4096)
    finally:
        dst.close()
        src.close()


def _libpq(url: str) -> str:
    """The URL as libpq (pg_dump, pg_restore) spells it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str], name: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"找不到 {name}。请安装 PostgreSQL 客户端（apt-get install postgresql-client）。") from None
    if done.returncode != 0:
        raise BackupError(f"{name} 失败：{done.stderr.strip()[-500:]}")

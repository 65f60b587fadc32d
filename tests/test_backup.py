"""`chainatlas backup` / `restore` (issue 22): database, uploads and instance secret in one 0600 file; restore
refuses a newer schema and asks before overwriting; the database and instance files are created private."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from chainatlas import config
from chainatlas.cli.main import app
from chainatlas.services.accounts import auth
from chainatlas.store import db
from chainatlas.store.models import User

pytestmark = pytest.mark.db


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def instance(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", db_url)
    monkeypatch.setenv("CHAINATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CHAINATLAS_SECRET_KEY", raising=False)
    with db.session_scope(db_url) as s:
        auth.create_user(s, "admin", "admin-pass-123", "admin")
    config.secret_key()
    upload = config.home() / "uploads" / ("a" * 16)
    upload.mkdir(parents=True)
    (upload / "名单.csv").write_text("企业名称\n保密公司\n", encoding="utf-8")
    return db_url


def _users(url: str) -> list[str]:
    with db.session_scope(url) as s:
        return list(s.scalars(select(User.username).order_by(User.username)))


def test_backup_then_restore_brings_back_database_uploads_and_secret(instance, tmp_path):
    runner = CliRunner()
    out = tmp_path / "备份.tar.gz"
    r = runner.invoke(app, ["backup", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert _mode(out) == 0o600
    key = (config.home() / "secret_key").read_text()
    # afterwards: a user added, the upload and the key lost
    with db.session_scope(instance) as s:
        auth.create_user(s, "later", "later-pass-123", "viewer")
    (config.home() / "secret_key").unlink()
    (config.home() / "uploads" / ("a" * 16) / "名单.csv").unlink()

    r = runner.invoke(app, ["restore", str(out)], input="n\n")  # asks first; "no" changes nothing
    assert r.exit_code == 1 and "确定继续" in r.output
    assert _users(instance) == ["admin", "later"]

    r = runner.invoke(app, ["restore", str(out), "--yes"])
    assert r.exit_code == 0, r.output
    assert _users(instance) == ["admin"]
    with db.session_scope(instance) as s:
        assert auth.authenticate(s, "admin", "admin-pass-123", source="addr:127.0.0.1").role == "admin"
    assert (config.home() / "secret_key").read_text() == key and _mode(config.home() / "secret_key") == 0o600
    restored = config.home() / "uploads" / ("a" * 16) / "名单.csv"
    assert "保密公司" in restored.read_text(encoding="utf-8") and _mode(restored) == 0o600


def test_a_backup_of_a_newer_schema_is_refused(instance, tmp_path):
    out = tmp_path / "new.tar.gz"
    assert CliRunner().invoke(app, ["backup", "--out", str(out)]).exit_code == 0
    future = tmp_path / "future.tar.gz"
    with tarfile.open(out, "r:gz") as src, tarfile.open(future, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["revision"] = "9999_from_the_future"
                data = json.dumps(manifest).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    r = CliRunner().invoke(app, ["restore", str(future), "--yes"])
    assert r.exit_code == 1 and "比本程序新" in r.output
    assert _users(instance) == ["admin"]


def test_not_a_backup_is_refused(instance, tmp_path):
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(b"not a backup")
    r = CliRunner().invoke(app, ["restore", str(bogus), "--yes"])
    assert r.exit_code == 1 and "不是链图的备份文件" in r.output


def test_database_and_instance_files_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINATLAS_HOME", str(tmp_path / "fresh-home"))
    monkeypatch.delenv("CHAINATLAS_SECRET_KEY", raising=False)
    old = os.umask(0o022)  # a usual umask, under which files were created world-readable
    try:
        url = f"sqlite:///{tmp_path / 'new.db'}"
        db.migrate(url)
        config.secret_key()
        from chainatlas.web.imports_web import upload_dir

        uploads = upload_dir()
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new.db") == 0o600
    assert _mode(config.home()) == 0o700 and _mode(uploads) == 0o700
    assert _mode(config.home() / "secret_key") == 0o600
    db.get_engine(url).dispose()

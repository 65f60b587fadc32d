"""Helpers shared by the web tests: an app on a fresh SQLite file, users of every role, logged-in clients."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from chainatlas.services.accounts import auth
from chainatlas.store import db

PASSWORDS = {"admin": "admin-pass-123", "analyst": "analyst-pass-123", "viewer": "viewer-pass-123",
             "leader": "leader-pass-123"}


def add_users(url: str) -> None:
    with db.session_scope(url) as s:
        for role, password in PASSWORDS.items():
            auth.create_user(s, role, password, role)


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def login(client: TestClient, role: str, password: str | None = None) -> str:
    """Log in through the form like a browser; returns the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": role, "password": password or PASSWORDS[role], "csrf_token": token,
                                    "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client.get("/api/me").json()["csrf_token"]


def finished_job(client: TestClient, job_id: str) -> dict:
    """Poll an import job until it has finished (done or failed)."""
    import time

    for _ in range(600):
        job = client.get(f"/api/imports/jobs/{job_id}").json()
        if job["status"] != "running":
            return job
        time.sleep(0.1)
    raise AssertionError("import did not finish")


def users_db(tmp_path_factory, name: str = "users") -> "Path":
    """A migrated SQLite file with one user per role, made once per test session (argon2 is slow on purpose)."""
    from pathlib import Path

    path = Path(tmp_path_factory.getbasetemp()) / f"template-{name}.db"
    if not path.exists():
        url = f"sqlite:///{path}"
        db.migrate(url)
        add_users(url)
        db.get_engine(url).dispose()
    return path


def copy_db(template, tmp_path) -> str:
    """A private copy of a template database for one test."""
    import shutil

    target = tmp_path / "chainatlas.db"
    shutil.copy(template, target)
    return f"sqlite:///{target}"


def web_env(monkeypatch, tmp_path) -> None:
    """What an app under test needs: a signing key made up for the test and a CHAINATLAS_HOME of its own."""
    monkeypatch.setenv("CHAINATLAS_SECRET_KEY", "test-secret-key-for-signing-cookies")
    monkeypatch.setenv("CHAINATLAS_HOME", str(tmp_path / "home"))


def import_firms_and_zone(url: str, tmp_path, monkeypatch, firms_csv: str, zone_name: str, division: str) -> str:
    """A bureau's start with the CLI: a firm list imported (and placed) into `url`, then its zone added."""
    from typer.testing import CliRunner

    from chainatlas.cli.main import app

    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", url)
    firms = tmp_path / "firms.csv"
    firms.write_text(firms_csv, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["import", "enterprises", str(firms)]).exit_code == 0
    assert runner.invoke(app, ["zone", "add", "--name", zone_name, "--division", division]).exit_code == 0
    return url


# Fixtures shared by the web test modules (imported there by name, as pytest finds fixtures in a module's namespace).


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return users_db(tmp_path_factory)


@pytest.fixture
def app_url(template, monkeypatch, tmp_path):
    web_env(monkeypatch, tmp_path)
    url = copy_db(template, tmp_path)
    yield url
    db.get_engine(url).dispose()

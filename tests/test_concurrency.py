"""Two users moving the same project at once (issue 22): the second move is refused with 409, and the history
chain stays true (each change's from-stage is the stage the one before reached); on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date

import pytest
from fastapi.testclient import TestClient

from chainatlas.services.catalog.zones import load_zone
from chainatlas.services.pipeline import projects as pipeline
from chainatlas.store import db
from chainatlas.web.app import create_app
from web_helpers import add_users, login, web_env

pytestmark = pytest.mark.db


@pytest.fixture
def project(db_url: str) -> tuple[str, str]:
    with db.session_scope(db_url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
        p = pipeline.create_project(s, zone_id="wuhan-edz", name="电芯项目", by_user="zhang", on=date(2024, 1, 5),
                                    node_ids=["battery-cells"], chain_id="nev-icv")
        pipeline.change_stage(s, p.code, "接洽", on=date(2024, 1, 20), by_user="zhang")
        return db_url, p.code


def _history(url: str, code: str) -> list[tuple[str | None, str]]:
    with db.session_scope(url) as s:
        return [(c.from_stage, c.to_stage) for c in pipeline.get_project(s, code).stage_changes]


def test_the_second_of_two_simultaneous_moves_is_refused(project) -> None:
    url, code = project
    first, second = db.session_factory(url)(), db.session_factory(url)()
    try:
        # both read the project at 接洽 before either writes (and keep it, as a request handling it would)
        seen = pipeline.get_project(first, code), pipeline.get_project(second, code)
        assert [p.stage for p in seen] == ["接洽", "接洽"]
        pipeline.change_stage(first, code, "在谈", on=date(2024, 2, 1), by_user="li")
        first.commit()
        with pytest.raises(pipeline.StageConflict, match="刚被他人变更"):
            pipeline.change_stage(second, code, "在谈", on=date(2024, 2, 1), by_user="wang")
    finally:
        first.close()
        second.close()
    assert _history(url, code) == [(None, "线索"), ("线索", "接洽"), ("接洽", "在谈")]


def test_a_move_made_from_a_stale_page_gets_409(project, monkeypatch, tmp_path) -> None:
    url, code = project
    web_env(monkeypatch, tmp_path)
    add_users(url)
    with db.session_scope(url) as s:
        project_id = pipeline.get_project(s, code).id
    with TestClient(create_app(url)) as a, TestClient(create_app(url)) as b:
        move = {"to_stage": "在谈", "on": "2024-02-01", "from_stage": "接洽"}
        r1 = a.post(f"/api/projects/{project_id}/stage", json=move, headers={"X-CSRF-Token": login(a, "analyst")})
        r2 = b.post(f"/api/projects/{project_id}/stage", json=move, headers={"X-CSRF-Token": login(b, "admin")})
    assert r1.status_code == 200, r1.text
    assert r2.status_code == 409 and "已被他人变更为“在谈”" in r2.json()["detail"]
    assert _history(url, code) == [(None, "线索"), ("线索", "接洽"), ("接洽", "在谈")]


def _locked(path: str) -> sqlite3.Connection:
    """Another writer holding SQLite's write lock (as an import's transaction does)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_write_waits_for_the_lock_and_past_the_wait_gets_503_not_500(db_url, monkeypatch, tmp_path) -> None:
    web_env(monkeypatch, tmp_path)
    monkeypatch.setenv("CHAINATLAS_SQLITE_BUSY_SECONDS", "1.5")
    add_users(db_url)
    url = db_url + "?busy"  # an engine of its own, made with the short wait
    new_user = {"username": "zhao", "password": "zhao-pass-2024", "role": "viewer"}
    with TestClient(create_app(url)) as client:
        token = login(client, "admin")
        holder = _locked(db_url.removeprefix("sqlite:///"))
        threading.Timer(0.5, holder.rollback).start()  # the other writer finishes within the wait
        assert client.post("/api/users", json=new_user, headers={"X-CSRF-Token": token}).status_code == 200
        holder = _locked(db_url.removeprefix("sqlite:///"))
        try:  # … and one that does not
            r = client.post("/api/users", json={**new_user, "username": "qian"}, headers={"X-CSRF-Token": token})
        finally:
            holder.rollback()
        assert r.status_code == 503 and "数据库正忙" in r.json()["detail"] and r.headers["retry-after"] == "30"
        assert client.post("/api/users", json={**new_user, "username": "qian"},
                           headers={"X-CSRF-Token": token}).status_code == 200

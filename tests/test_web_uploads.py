"""Uploaded enterprise lists are confidential: the web app keeps a file from upload through preview until its
import has committed or failed, then deletes it; folders left behind are swept at start-up after
CHAINATLAS_UPLOAD_TTL_HOURS (web/imports_web.py)."""

from __future__ import annotations

import os
import re
import time

import pytest
from fastapi.testclient import TestClient

from chainatlas.services.catalog.zones import load_zone
from chainatlas.store import db
from chainatlas.web import imports_web
from chainatlas.web.app import create_app
from web_helpers import copy_db, finished_job, login, template, web_env  # noqa: F401 (fixtures)

CSV = ("企业名称,统一社会信用代码,注册地址,经营范围\n"
       "武汉保密测试激光雷达有限公司,,武汉经济技术开发区车城大道1号,激光雷达研发制造\n").encode("utf-8")


@pytest.fixture
def home(monkeypatch, tmp_path):
    web_env(monkeypatch, tmp_path)
    monkeypatch.delenv("CHAINATLAS_UPLOAD_TTL_HOURS", raising=False)
    return tmp_path / "home"


@pytest.fixture
def url(template, home, tmp_path):
    u = copy_db(template, tmp_path)
    with db.session_scope(u) as s:
        load_zone(s, "wuhan-edz")
    yield u
    db.get_engine(u).dispose()


def _folders() -> list[str]:
    return sorted(p.name for p in imports_web.upload_dir().iterdir())


def test_upload_is_kept_through_preview_and_deleted_after_the_import(url):
    with TestClient(create_app(url)) as client:
        token = login(client, "analyst")
        r = client.post("/imports/upload", data={"kind": "enterprises", "csrf_token": token},
                        files={"file": ("保密名单.csv", CSV, "text/csv")}, follow_redirects=False)
        assert r.status_code == 303
        upload = re.search(r"/imports/([0-9a-f]{16})/preview", r.headers["location"]).group(1)
        # the preview, and previewing again, need the file: it stays until the user confirms
        assert client.get(r.headers["location"]).status_code == 200
        assert client.get(r.headers["location"]).status_code == 200
        assert _folders() == [upload]
        run = client.post(f"/imports/{upload}/run", data={"kind": "enterprises", "csrf_token": token},
                          follow_redirects=False)
        assert run.status_code == 303
        job = finished_job(client, run.headers["location"].rsplit("/", 1)[1])
        assert job["status"] == "done", job["error"]
        assert job["summary"]["rows_inserted"] == 1
        assert _folders() == []
        gone = client.get(f"/imports/{upload}/preview?kind=enterprises")
        assert gone.status_code == 404 and "重新上传" in gone.text


def test_a_failed_import_deletes_the_upload_too(url):
    with TestClient(create_app(url)) as client:
        token = login(client, "analyst")
        # a relations file whose columns cannot be mapped: the job fails, nothing is written
        r = client.post("/api/imports", data={"kind": "relations"}, headers={"X-CSRF-Token": token},
                        files={"file": ("关系.csv", "甲,乙\n1,2\n".encode("utf-8"), "text/csv")})
        assert r.status_code == 200, r.text
        job = finished_job(client, r.json()["id"])
        assert job["status"] == "failed" and job["error"]
        assert _folders() == []


def _upload_folder(name: str, age_hours: float) -> None:
    folder = imports_web.upload_dir() / name
    folder.mkdir()
    (folder / "名单.xlsx").write_bytes(b"confidential")
    then = time.time() - age_hours * 3600
    os.utime(folder, (then, then))


def test_start_up_sweeps_stale_uploads_and_keeps_fresh_ones(url, monkeypatch):
    _upload_folder("a" * 16, age_hours=30)  # previewed a day and more ago, never imported
    _upload_folder("b" * 16, age_hours=1)  # someone is looking at its preview right now
    _upload_folder("not-an-upload", age_hours=100)  # not ours: never touched
    create_app(url)
    assert _folders() == ["b" * 16, "not-an-upload"]

    monkeypatch.setenv("CHAINATLAS_UPLOAD_TTL_HOURS", "0.5")
    create_app(url)
    assert _folders() == ["not-an-upload"]


def test_a_bad_ttl_is_refused_with_a_chinese_message(url, monkeypatch):
    monkeypatch.setenv("CHAINATLAS_UPLOAD_TTL_HOURS", "一天")
    with pytest.raises(ValueError, match="CHAINATLAS_UPLOAD_TTL_HOURS 应为不小于 0 的小时数"):
        create_app(url)

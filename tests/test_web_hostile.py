"""The web app outlives hostile uploads (issue 22): a stranger's upload is refused before its body is read, a
body is cut off once it passes the limit, and a file that breaks the reader ends only its job."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from chainatlas.services.catalog.zones import load_zone
from chainatlas.store import db
from chainatlas.web import body_limit, imports_web
from chainatlas.web.app import create_app
from hostile_files import corner_cells_xlsx
from web_helpers import copy_db, finished_job, login, template, web_env  # noqa: F401 (fixtures)


@pytest.fixture
def url(template, monkeypatch, tmp_path):
    web_env(monkeypatch, tmp_path)
    u = copy_db(template, tmp_path)
    with db.session_scope(u) as s:
        load_zone(s, "wuhan-edz")
    yield u
    db.get_engine(u).dispose()


def _post_stream(app, path: str, headers: dict[str, str], chunks: int, chunk: bytes) -> tuple[int, bytes, int]:
    """POST a body of `chunks` pieces straight to the ASGI app; (status, body, pieces the app asked for)."""
    asked = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal asked
        asked += 1
        head = FILE_PART if asked == 1 else b""
        return {"type": "http.request", "body": head + chunk, "more_body": asked < chunks}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, asked


MULTIPART = {"content-type": "multipart/form-data; boundary=xyz"}
FILE_PART = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'


def test_a_strangers_upload_is_refused_before_its_body_is_read(url):
    app = create_app(url)
    status, body, asked = _post_stream(app, "/api/imports", MULTIPART, chunks=1500, chunk=b"x" * (1 << 20))
    assert status == 401 and "请先登录" in body.decode()
    assert asked == 0  # not one byte of the 1.5 GB was taken in
    status, _, asked = _post_stream(app, "/imports/upload", MULTIPART, chunks=1500, chunk=b"x" * (1 << 20))
    assert status == 401 and asked == 0


def test_a_viewers_upload_is_refused_before_its_body_is_read(url):
    with TestClient(create_app(url)) as client:
        token = login(client, "viewer")
        r = client.post("/api/imports", headers={"X-CSRF-Token": token}, files={"file": ("a.csv", b"x" * 1000)})
        assert r.status_code == 403 and "无权导入" in r.json()["detail"]


def test_an_upload_is_cut_off_once_it_passes_the_limit(url, monkeypatch):
    monkeypatch.setattr(body_limit, "MAX_UPLOAD_BYTES", 2 << 20)
    with TestClient(create_app(url)) as client:
        token = login(client, "analyst")
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        status, body, asked = _post_stream(client.app, "/api/imports",
                                           {**MULTIPART, "cookie": cookie, "x-csrf-token": token},
                                           chunks=100, chunk=b"x" * (1 << 20))
        assert status == 413 and "超过 2 MB" in body.decode()
        assert asked <= 4  # 2 MB and the form's envelope, not the 100 MB sent
        r = client.post("/api/imports", headers={"X-CSRF-Token": token, "Content-Length": str(500 << 20)},
                        content=b"")
        assert r.status_code == 413
        assert list(imports_web.upload_dir().iterdir()) == []


def test_any_other_body_is_limited_too(url):
    with TestClient(create_app(url)) as client:
        token = login(client, "analyst")
        r = client.post("/api/projects", headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
                        content=b'{"name": "' + b"x" * (3 << 20) + b'"}')
        assert r.status_code == 413 and "超过 2 MB" in r.json()["detail"]


def test_a_hostile_workbook_fails_its_job_and_the_server_goes_on(url, tmp_path):
    path = corner_cells_xlsx(tmp_path / "角落.xlsx")
    with TestClient(create_app(url)) as client:
        token = login(client, "analyst")
        r = client.post("/api/imports", data={"kind": "enterprises"}, headers={"X-CSRF-Token": token},
                        files={"file": (path.name, path.read_bytes())})
        assert r.status_code == 200, r.text
        job = finished_job(client, r.json()["id"])
        assert job["status"] == "failed"
        assert "角落.xlsx" in job["error"] and "上限（1,000 列）" in job["error"]
        assert client.get("/api/me").status_code == 200


def test_a_reader_that_runs_out_of_memory_ends_only_its_job(url, monkeypatch, tmp_path):
    """The worker's memory limit (here below what the import code itself needs) ends the job with a Chinese
    error, as a native reader's failed allocation would; the server answers on."""
    monkeypatch.setenv("CHAINATLAS_WORKER_MEMORY_MB", "256")
    with TestClient(create_app(url)) as client:
        token = login(client, "analyst")
        csv = "企业名称,注册地址\n武汉某公司,武汉经济技术开发区\n".encode()
        r = client.post("/imports/upload", data={"kind": "enterprises", "csrf_token": token},
                        files={"file": ("名单.csv", csv)}, follow_redirects=False)
        preview = client.get(r.headers["location"])
        assert preview.status_code == 200 and "内存上限" in preview.text
        r = client.post("/api/imports", data={"kind": "enterprises"}, headers={"X-CSRF-Token": token},
                        files={"file": ("名单.csv", csv)})
        job = finished_job(client, r.json()["id"])
        # whichever allocation fails first (the reader's, or SQLite's shared memory) ends the job, not the server
        assert job["status"] == "failed" and job["error"].startswith("导入失败，数据库未作任何修改")
        assert client.get("/api/me").status_code == 200
        assert client.get("/api/imports").json()["batches"] == []

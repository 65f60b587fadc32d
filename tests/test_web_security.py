"""The web app's gate: login, sessions, CSRF, roles, throttling, headers — against a real SQLite file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chainatlas.store import db
from chainatlas.store.models import AuditEntry
from chainatlas.web.app import create_app
from web_helpers import app_url, csrf_from, login, template  # noqa: F401 (fixtures)

WEB = Path(__file__).resolve().parents[1] / "src" / "chainatlas" / "web"


@pytest.fixture
def client(app_url):
    with TestClient(create_app(app_url)) as c:
        yield c


def test_pages_redirect_to_login_and_api_answers_401(client):
    r = client.get("/pipeline", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/pipeline"
    r = client.get("/api/projects")
    assert r.status_code == 401 and r.json()["detail"] == "请先登录。"


def test_login_form_needs_csrf(client):
    r = client.post("/login", data={"username": "admin", "password": "admin-pass-123"})
    assert r.status_code == 403 and "安全校验失败" in r.text


def test_wrong_password_shows_chinese_error(client):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": "admin", "password": "nope-nope-nope", "csrf_token": token})
    assert r.status_code == 401 and "用户名或密码错误" in r.text


def test_session_cookie_flags(client):
    page = client.get("/login")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_secure_cookie_when_configured(app_url, monkeypatch):
    monkeypatch.setenv("CHAINATLAS_COOKIE_SECURE", "1")
    with TestClient(create_app(app_url), base_url="https://testserver") as c:
        assert "secure" in c.get("/login").headers["set-cookie"].lower()


def test_open_redirect_after_login_is_refused(client):
    page = client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/"' in page.text


def test_login_and_me(client):
    token = login(client, "analyst")
    me = client.get("/api/me").json()
    assert me == {"username": "analyst", "display_name": "analyst", "role": "analyst", "role_zh": "分析员",
                  "can_write": True, "csrf_token": token}


def test_logout_ends_the_session(client):
    token = login(client, "viewer")
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize("role", ["viewer", "leader"])
def test_read_only_roles_are_refused_every_write(client, app_url, role):
    token = login(client, role)
    writes = [
        ("/api/projects/1/stage", {"to_stage": "接洽"}),
        ("/api/targets/to-project", {"enterprise_id": 1, "node_id": "cathode"}),
        ("/api/enterprises/1/placements", {"action": "add", "node_id": "cathode"}),
    ]
    with db.session_factory(app_url)() as s:
        before = s.scalar(select(func.count(AuditEntry.id)))
    for path, body in writes:
        r = client.post(path, json=body, headers={"X-CSRF-Token": token})
        assert r.status_code == 403, (path, r.text)
        assert "只能查看，无权修改数据" in r.json()["detail"]
    # The page forms are refused the same way.
    r = client.post("/projects/1/stage", data={"to_stage": "接洽", "csrf_token": token})
    assert r.status_code == 403 and "无权修改数据" in r.text
    with db.session_factory(app_url)() as s:
        assert s.scalar(select(func.count(AuditEntry.id))) == before


def test_writes_without_csrf_token_are_refused(client):
    login(client, "admin")
    r = client.post("/api/projects/1/stage", json={"to_stage": "接洽"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = client.post("/api/projects/1/stage", json={"to_stage": "接洽"}, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403


def test_writer_passes_the_gate_and_gets_a_chinese_business_error(client, app_url):
    from chainatlas.services.catalog.zones import load_zone

    with db.session_scope(app_url) as s:
        load_zone(s, "wuhan-edz")
    token = login(client, "analyst")
    r = client.post("/api/projects/999/stage", json={"to_stage": "接洽"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 422 and r.json()["detail"] == "找不到编号为 999 的项目。"


def test_security_headers_and_csp(client):
    r = client.get("/login")
    assert r.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_vendored_assets_are_served_and_no_cdn_is_referenced(client):
    for path in ("/static/vendor/echarts.min.js", "/static/vendor/htmx.min.js", "/static/app.js", "/static/app.css"):
        assert client.get(path).status_code == 200, path
    for f in list((WEB / "templates").glob("*.html")) + [WEB / "static" / "app.js", WEB / "static" / "app.css"]:
        text = f.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"https?://", text), f
        assert "<script>" not in text, f"inline script in {f.name} (the CSP forbids it)"
    css = (WEB / "static" / "app.css").read_text(encoding="utf-8")
    assert re.search(r'--font: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif', css)


def test_every_form_carries_the_csrf_token():
    for f in (WEB / "templates").glob("*.html"):
        text = f.read_text(encoding="utf-8")
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", text, flags=re.S):
            assert "csrf" in form, f"{f.name}: {form[:120]}"


def test_openapi_document_lists_the_api(client):
    doc = client.get("/api/openapi.json").json()
    assert {"/api/chain-map", "/api/projects/{project_id}/stage", "/api/kpi", "/api/search"} <= set(doc["paths"])


def test_page_without_zone_data_explains_what_to_do(client):
    login(client, "admin")
    r = client.get("/")
    assert r.status_code == 404 and "chainatlas demo load" in r.text
    assert csrf_from(r.text)


def test_chainatlas_serve_starts_the_app(app_url, tmp_path):
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, CHAINATLAS_DATABASE_URL=app_url, CHAINATLAS_HOME=str(tmp_path / "serve-home"))
    env.pop("CHAINATLAS_SECRET_KEY", None)  # serve must make its own key file, never use a built-in one
    proc = subprocess.Popen([sys.executable, "-m", "chainatlas.cli.main", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert r.status_code == 200 and "链图 ChainAtlas" in r.text
        key = tmp_path / "serve-home" / "secret_key"
        assert key.exists() and oct(key.stat().st_mode)[-3:] == "600"
    finally:
        proc.terminate()
        proc.wait(timeout=10)

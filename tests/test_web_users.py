"""用户管理 in the browser (web/routers/users.py): admins add, reset, re-role and disable accounts; nobody else can."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from chainatlas.services.accounts import auth, throttle
from chainatlas.store import db
from chainatlas.store.models import AuditEntry, User
from chainatlas.web.app import create_app
from web_helpers import PASSWORDS, app_url, csrf_from, login, template  # noqa: F401 (fixtures)


@pytest.fixture
def app(app_url):
    return create_app(app_url)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def admin_client(client):
    login(client, "admin")
    return client


def _form(client: TestClient, path: str, **fields: str):
    """POST a form the way the page does: the CSRF token comes from the users page itself."""
    token = csrf_from(client.get("/users").text)
    return client.post(path, data=dict(fields, csrf_token=token), follow_redirects=True)


def _user(url: str, username: str) -> User | None:
    with db.session_factory(url)() as s:
        return s.scalar(select(User).where(User.username == username))


def _user_count(url: str) -> int:
    with db.session_factory(url)() as s:
        return s.scalar(select(func.count(User.id)))


def _can_log_in(app, username: str, password: str) -> bool:
    with TestClient(app) as other:
        page = other.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = other.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)
        return r.status_code == 303


def _add(client, username="zhang", role="analyst", password="zhang-pass-2024", again=None, display_name="张科员"):
    return _form(client, "/users", username=username, display_name=display_name, role=role, password=password,
                 password2=password if again is None else again)


def test_admin_adds_an_analyst_who_can_then_log_in(admin_client, app, app_url):
    r = _add(admin_client)
    assert r.status_code == 200 and "已添加用户“zhang”（分析员）" in r.text
    assert "zhang-pass-2024" not in r.text  # never echoed back
    row = re.search(r'<tr data-username="zhang">.*?</tr>', r.text, re.S).group(0)
    assert "张科员" in row and "分析员" in row and "正常" in row

    with TestClient(app) as colleague:
        login(colleague, "zhang", "zhang-pass-2024")
        me = colleague.get("/api/me").json()
        assert (me["username"], me["role"], me["can_write"]) == ("zhang", "analyst", True)

    with db.session_factory(app_url)() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "user.create").order_by(AuditEntry.id.desc()))
        assert entry.username == "admin" and entry.after == {"username": "zhang", "role": "analyst"}
        logged = json.dumps([[e.before, e.after] for e in s.scalars(select(AuditEntry))], ensure_ascii=False)
        assert "zhang-pass-2024" not in logged


def test_nav_link_only_for_admins(client):
    login(client, "admin")
    assert 'href="/users"' in client.get("/").text
    client.post("/logout", data={"csrf_token": client.get("/api/me").json()["csrf_token"]})
    login(client, "analyst")
    assert 'href="/users"' not in client.get("/").text


@pytest.mark.parametrize("role", ["analyst", "viewer", "leader"])
def test_non_admins_get_403_on_the_page_and_every_write(client, app_url, role):
    token = login(client, role)
    assert client.get("/users").status_code == 403
    assert client.get("/api/users").status_code == 403
    admin_id = _user(app_url, "admin").id
    form = {"csrf_token": token}
    writes = [
        ("/users", dict(form, username="mole", role="admin", password="mole-pass-2024", password2="mole-pass-2024")),
        (f"/users/{admin_id}/password", dict(form, password="taken-over-2024", password2="taken-over-2024")),
        (f"/users/{admin_id}/role", dict(form, role="viewer")),
        (f"/users/{admin_id}/active", dict(form, active="0")),
    ]
    for path, data in writes:
        r = client.post(path, data=data, follow_redirects=False)
        assert r.status_code == 403 and "仅管理员" in r.text, path
    headers = {"X-CSRF-Token": token}
    assert client.post("/api/users", json={"username": "mole", "role": "admin", "password": "mole-pass-2024"},
                       headers=headers).status_code == 403
    assert client.post(f"/api/users/{admin_id}/active", json={"active": False}, headers=headers).status_code == 403
    admin_row = _user(app_url, "admin")
    assert (admin_row.role, admin_row.active) == ("admin", True)
    assert _user(app_url, "mole") is None
    assert _can_log_in(client.app, "admin", PASSWORDS["admin"])


def test_writes_need_the_csrf_token(admin_client, app_url):
    r = admin_client.post("/users", data={"username": "mole", "role": "viewer", "password": "mole-pass-2024",
                                          "password2": "mole-pass-2024"})
    assert r.status_code == 403 and "安全校验失败" in r.text
    assert _user(app_url, "mole") is None


def test_last_admin_cannot_be_demoted_or_disabled(admin_client, app_url):
    me = _user(app_url, "admin").id
    r = _form(admin_client, f"/users/{me}/role", role="viewer")
    assert "“admin”是唯一可用的管理员账号，不能停用或改为其他角色" in r.text
    r = _form(admin_client, f"/users/{me}/active", active="0")
    assert "唯一可用的管理员账号" in r.text
    r = admin_client.post(f"/api/users/{me}/role", json={"role": "analyst"},
                          headers={"X-CSRF-Token": admin_client.get("/api/me").json()["csrf_token"]})
    assert r.status_code == 422 and "唯一可用的管理员账号" in r.json()["detail"]
    assert (_user(app_url, "admin").role, _user(app_url, "admin").active) == ("admin", True)

    # A disabled admin does not count: the rule is about admins who can still log in.
    _add(admin_client, username="deputy", role="admin")
    deputy = _user(app_url, "deputy").id
    assert "已停用用户“deputy”" in _form(admin_client, f"/users/{deputy}/active", active="0").text
    assert "唯一可用的管理员账号" in _form(admin_client, f"/users/{me}/role", role="viewer").text

    # With a second active admin the first may step down; the change applies from the next request.
    assert "已启用用户“deputy”" in _form(admin_client, f"/users/{deputy}/active", active="1").text
    assert "角色已改为分析员" in _form(admin_client, f"/users/{me}/role", role="analyst").text
    assert admin_client.get("/users").status_code == 403
    with db.session_factory(app_url)() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "user.role"))
        assert (entry.username, entry.before, entry.after) == ("admin", {"role": "admin"}, {"role": "analyst"})


@pytest.mark.parametrize(("password", "again", "message"), [
    ("zhang-pass-2024", "zhang-pass-2025", "两次输入的密码不一致，请重新输入。"),
    ("short", "short", "密码至少需要 10 个字符（当前 5 个）"),
    (" zhang-pass-2024", " zhang-pass-2024", "密码首尾不能有空格"),
])
def test_bad_password_is_refused_in_chinese_and_creates_nothing(admin_client, app_url, password, again, message):
    before = _user_count(app_url)
    r = _add(admin_client, password=password, again=again)
    assert message in r.text and "已添加" not in r.text
    assert password.strip() not in r.text
    assert _user_count(app_url) == before and _user(app_url, "zhang") is None


def test_duplicate_and_bad_role_refused(admin_client, app_url):
    before = _user_count(app_url)
    assert "用户“viewer”已存在" in _add(admin_client, username="viewer").text
    assert "角色“root”无效" in _add(admin_client, role="root").text
    assert _user_count(app_url) == before


def test_reset_password_old_one_stops_working(admin_client, app, app_url):
    viewer = _user(app_url, "viewer").id
    r = _form(admin_client, f"/users/{viewer}/password", password="new-viewer-pw-1", password2="new-viewer-pw-2")
    assert "两次输入的密码不一致" in r.text
    assert _can_log_in(app, "viewer", PASSWORDS["viewer"])

    r = _form(admin_client, f"/users/{viewer}/password", password="new-viewer-pw-1", password2="new-viewer-pw-1")
    assert "已重置用户“viewer”的密码" in r.text and "new-viewer-pw-1" not in r.text
    assert not _can_log_in(app, "viewer", PASSWORDS["viewer"])
    assert _can_log_in(app, "viewer", "new-viewer-pw-1")
    with db.session_factory(app_url)() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "user.password"))
        assert entry.username == "admin" and entry.after == {"username": "viewer"}


def test_reset_password_unlocks_a_locked_account(admin_client, app, app_url):
    for _ in range(throttle.FREE_FAILURES):
        assert not _can_log_in(app, "leader", "wrong-password-x")
    page = admin_client.get("/users").text
    assert "登录受限" in re.search(r'<tr data-username="leader">.*?</tr>', page, re.S).group(0)
    leader = _user(app_url, "leader").id
    _form(admin_client, f"/users/{leader}/password", password="leader-new-pw-1", password2="leader-new-pw-1")
    assert _can_log_in(app, "leader", "leader-new-pw-1")


def test_disabled_user_cannot_log_in_and_is_signed_out(admin_client, app, app_url):
    with TestClient(app) as analyst:
        login(analyst, "analyst")
        assert analyst.get("/api/me").status_code == 200
        target = _user(app_url, "analyst").id
        r = _form(admin_client, f"/users/{target}/active", active="0")
        assert "已停用用户“analyst”" in r.text
        assert "已停用" in re.search(r'<tr data-username="analyst">.*?</tr>', r.text, re.S).group(0)
        assert analyst.get("/api/me").status_code == 401  # the open session ends at once
    assert not _can_log_in(app, "analyst", PASSWORDS["analyst"])

    _form(admin_client, f"/users/{target}/active", active="1")
    assert _can_log_in(app, "analyst", PASSWORDS["analyst"])
    with db.session_factory(app_url)() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("user.%abl%"))
                                 .order_by(AuditEntry.id)))
        assert actions == ["user.disable", "user.enable"]


def test_json_api_for_admins(admin_client, app, app_url):
    headers = {"X-CSRF-Token": admin_client.get("/api/me").json()["csrf_token"]}
    listed = admin_client.get("/api/users").json()
    assert [u["username"] for u in listed["users"]] == ["admin", "analyst", "leader", "viewer"]
    assert listed["users"][0]["role_zh"] == "管理员" and "password_hash" not in listed["users"][0]
    r = admin_client.post("/api/users", json={"username": "li", "role": "viewer", "password": "short"},
                          headers=headers)
    assert r.status_code == 422 and "至少需要" in r.json()["detail"] and _user(app_url, "li") is None
    r = admin_client.post("/api/users", json={"username": "li", "role": "viewer", "password": "li-pass-2024"},
                          headers=headers)
    assert r.status_code == 200 and r.json()["role_zh"] == "只读用户"
    li = r.json()["id"]
    assert admin_client.post(f"/api/users/{li}/role", json={"role": "leader"}, headers=headers).status_code == 200
    assert admin_client.post(f"/api/users/{li}/password", json={"password": "li-pass-2025"},
                             headers=headers).status_code == 200
    assert admin_client.post(f"/api/users/{li}/active", json={"active": False}, headers=headers).status_code == 200
    row = _user(app_url, "li")
    assert (row.role, row.active) == ("leader", False)
    assert admin_client.post("/api/users/9999/role", json={"role": "viewer"}, headers=headers).status_code == 422
    assert admin_client.post("/api/users", json={"username": "x", "role": "viewer", "password": "x-pass-2024"}
                             ).status_code == 403  # no CSRF header

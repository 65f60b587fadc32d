"""Sessions and logins (issue 22): logout, a new password and deactivation end every session of the user;
wrong passwords delay only the source they came from (services/accounts/throttle.py), counted in the database
so every worker sees them; X-Forwarded-For counts only from configured proxies; CLI unlock / reset / deactivate."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from chainatlas.cli.main import app as cli
from chainatlas.services.accounts import auth, throttle
from chainatlas.store import db
from chainatlas.web.app import create_app
from web_helpers import PASSWORDS, add_users, login, web_env

pytestmark = pytest.mark.db

ATTACKER = ("203.0.113.9", 40000)
COLLEAGUE = ("198.51.100.7", 40000)


@pytest.fixture
def url(db_url, monkeypatch, tmp_path):
    web_env(monkeypatch, tmp_path)
    monkeypatch.delenv("CHAINATLAS_TRUSTED_PROXIES", raising=False)
    add_users(db_url)
    return db_url


def _attempt(client: TestClient, username: str, password: str, headers: dict | None = None) -> int:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       headers=headers or {}, follow_redirects=False).status_code


def _uid(url: str, username: str) -> int:
    """The user's id, to drop them from the app's user cache: a change made outside the app (CLI, another worker)
    counts once the cache's few seconds have passed; dropping the entry stands for that wait."""
    with db.session_scope(url) as s:
        return next(u.id for u in auth.list_users(s) if u.username == username)


def _me(client: TestClient) -> int:
    return client.get("/api/me").status_code


def test_logout_ends_every_session_of_the_user(url):
    app = create_app(url)
    with TestClient(app) as laptop, TestClient(app) as phone:
        login(laptop, "analyst")
        login(phone, "analyst")
        stolen = dict(laptop.cookies)
        laptop.post("/logout", data={"csrf_token": laptop.get("/api/me").json()["csrf_token"]})
        assert _me(laptop) == 401 and _me(phone) == 401
    with TestClient(app, cookies=stolen) as replay:  # the cookie as it was before logging out
        assert _me(replay) == 401


def test_a_new_password_and_deactivation_end_sessions_and_reactivation_does_not_revive_them(url):
    app = create_app(url)
    with TestClient(app) as analyst:
        login(analyst, "analyst")
        kept = dict(analyst.cookies)
        with db.session_scope(url) as s:
            auth.set_password(s, "analyst", "analyst-new-pass-1", by_user="admin")
        app.state.user_cache.forget(_uid(url, "analyst"))
        assert _me(analyst) == 401
        login(analyst, "analyst", "analyst-new-pass-1")
        kept = dict(analyst.cookies)
        with db.session_scope(url) as s:
            auth.set_active(s, "analyst", False, by_user="admin")
        app.state.user_cache.forget(_uid(url, "analyst"))
        assert _me(analyst) == 401
        with db.session_scope(url) as s:
            auth.set_active(s, "analyst", True, by_user="admin")
    with TestClient(app, cookies=kept) as old:
        assert _me(old) == 401


def test_a_stranger_cannot_lock_an_administrator_out(url):
    app = create_app(url)
    with TestClient(app, client=ATTACKER) as attacker:
        codes = [_attempt(attacker, "admin", f"guess-{i:06d}") for i in range(8)]
        assert codes[:throttle.FREE_FAILURES] == [401] * throttle.FREE_FAILURES
        assert set(codes[throttle.FREE_FAILURES:]) == {429}
        assert _attempt(attacker, "admin", PASSWORDS["admin"]) == 429  # the guesser's own address waits
    with TestClient(app, client=COLLEAGUE) as admin:  # the administrator from anywhere else: no wait
        assert _attempt(admin, "admin", PASSWORDS["admin"]) == 303


def test_a_browser_that_signed_in_before_gets_in_behind_the_attackers_address(url):
    """Same address (one NAT) as the guesser: the administrator's browser carries its device id."""
    app = create_app(url)
    with TestClient(app, client=ATTACKER) as admin, TestClient(app, client=ATTACKER) as attacker:
        assert _attempt(admin, "admin", PASSWORDS["admin"]) == 303
        admin.post("/logout", data={"csrf_token": admin.get("/api/me").json()["csrf_token"]})
        for i in range(throttle.FREE_FAILURES + 2):
            _attempt(attacker, "admin", f"guess-{i:06d}")
        assert _attempt(attacker, "admin", PASSWORDS["admin"]) == 429
        assert _attempt(admin, "admin", PASSWORDS["admin"]) == 303


def test_failures_count_in_every_worker(url):
    """Two app instances on one database stand for two worker processes."""
    one, two = create_app(url), create_app(url)
    with TestClient(one, client=ATTACKER) as a, TestClient(two, client=ATTACKER) as b:
        for i in range(throttle.FREE_FAILURES):
            assert _attempt(a if i % 2 else b, "viewer", f"guess-{i:06d}") == 401
        assert _attempt(a, "viewer", "guess-again-1") == 429
        assert _attempt(b, "viewer", "guess-again-2") == 429


def test_forwarded_for_counts_only_from_a_configured_proxy(url, monkeypatch):
    with TestClient(create_app(url), client=ATTACKER) as attacker:
        codes = [_attempt(attacker, "leader", f"guess-{i:06d}", {"X-Forwarded-For": f"10.0.0.{i}"})
                 for i in range(throttle.FREE_FAILURES + 1)]
        assert codes[-1] == 429  # rotating the header changes nothing
    monkeypatch.setenv("CHAINATLAS_TRUSTED_PROXIES", "203.0.113.0/24")
    with TestClient(create_app(url), client=ATTACKER) as proxy:
        # behind the proxy each client is its own source: this one has not failed before
        assert _attempt(proxy, "leader", PASSWORDS["leader"], {"X-Forwarded-For": "10.9.9.9, 203.0.113.5"}) == 303


def test_the_wait_doubles_and_then_passes(url):
    now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    with db.session_scope(url) as s:
        for i in range(throttle.FREE_FAILURES + 1):
            throttle.failed(s, "viewer", "addr:192.0.2.1", now=now + timedelta(seconds=i))
    last = now + timedelta(seconds=throttle.FREE_FAILURES)
    with db.session_scope(url) as s:
        assert throttle.wait(s, "viewer", "addr:192.0.2.1", now=last) == 2 * throttle.FIRST_DELAY
        assert throttle.wait(s, "viewer", "addr:192.0.2.2", now=last) == timedelta(0)
        assert throttle.wait(s, "viewer", "addr:192.0.2.1", now=last + 2 * throttle.FIRST_DELAY) == timedelta(0)
        assert throttle.delayed_users(s, now=last) == {"viewer"}


def test_cli_unlock_reset_password_and_deactivate(url, monkeypatch):
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", url)
    runner = CliRunner()
    app = create_app(url)
    with TestClient(app, client=ATTACKER) as c:
        for i in range(throttle.FREE_FAILURES):
            _attempt(c, "analyst", f"guess-{i:06d}")
        assert _attempt(c, "analyst", PASSWORDS["analyst"]) == 429
        r = runner.invoke(cli, ["users", "unlock", "analyst"])
        assert r.exit_code == 0 and f"{throttle.FREE_FAILURES} 次失败登录记录" in r.output
        assert _attempt(c, "analyst", PASSWORDS["analyst"]) == 303
        r = runner.invoke(cli, ["users", "reset-password", "analyst", "--password-stdin"], input="brand-new-pass-9\n")
        assert r.exit_code == 0 and "会话全部失效" in r.output
        app.state.user_cache.forget(_uid(url, "analyst"))
        assert _me(c) == 401
        assert _attempt(c, "analyst", "brand-new-pass-9") == 303
        r = runner.invoke(cli, ["users", "deactivate", "analyst"])
        assert r.exit_code == 0
        app.state.user_cache.forget(_uid(url, "analyst"))
        assert _me(c) == 401
    r = runner.invoke(cli, ["users", "deactivate", "admin"])
    assert r.exit_code == 2 and "唯一可用的管理员" in r.output
    assert runner.invoke(cli, ["users", "unlock", "nobody"]).exit_code == 2

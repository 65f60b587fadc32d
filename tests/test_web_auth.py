"""Users and logins (services/accounts/auth.py): argon2 hashes, password rules (the back-off after failures:
tests/test_login_security.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from chainatlas.services.accounts import auth
from chainatlas.store import db
from chainatlas.store.models import AuditEntry, User


SOURCE = "addr:192.0.2.1"


@pytest.fixture
def s(sqlite_url):
    with db.session_factory(sqlite_url)() as session:
        yield session


def test_password_is_stored_as_argon2id_and_checked(s):
    auth.create_user(s, "wang", "long-enough-pw", "analyst", display_name="王科长")
    row = s.scalar(select(User).where(User.username == "wang"))
    assert row.password_hash.startswith("$argon2id$")
    assert "long-enough-pw" not in row.password_hash
    user = auth.authenticate(s, "wang", "long-enough-pw", source=SOURCE)
    assert (user.username, user.role, user.can_write, user.display_name) == ("wang", "analyst", True, "王科长")
    assert s.scalar(select(AuditEntry).where(AuditEntry.action == "user.create")).after["role"] == "analyst"


@pytest.mark.parametrize(("name", "password", "role", "message"), [
    ("a", "short", "admin", "至少需要 10 个字符"),
    ("a", "long-enough-pw", "root", "角色“root”无效"),
    ("", "long-enough-pw", "admin", "用户名不能为空"),
    ("a", " long-enough-pw", "admin", "首尾不能有空格"),
])
def test_bad_users_are_refused_in_chinese(s, name, password, role, message):
    with pytest.raises(auth.AuthError, match=message):
        auth.create_user(s, name, password, role)


def test_duplicate_username_refused(s):
    auth.create_user(s, "li", "long-enough-pw", "viewer")
    with pytest.raises(auth.AuthError, match="已存在"):
        auth.create_user(s, "li", "another-long-pw", "admin")


def test_wrong_password_and_unknown_user_get_the_same_message(s):
    auth.create_user(s, "li", "long-enough-pw", "viewer")
    with pytest.raises(auth.AuthError) as wrong:
        auth.authenticate(s, "li", "wrong-password", source=SOURCE)
    with pytest.raises(auth.AuthError) as unknown:
        auth.authenticate(s, "nobody", "wrong-password", source=SOURCE)
    assert str(wrong.value) == str(unknown.value) == "用户名或密码错误。"


def test_roles_that_may_write():
    info = {r: auth.UserInfo(1, "u", "u", r, True) for r in auth.ROLES}
    assert {r for r, u in info.items() if u.can_write} == {"admin", "analyst"}


def test_cli_users_add_and_list(sqlite_url, monkeypatch):
    from typer.testing import CliRunner

    from chainatlas.cli.main import app

    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", sqlite_url)
    runner = CliRunner()
    result = runner.invoke(app, ["users", "add", "boss", "--role", "admin", "--password-stdin"],
                           input="a-very-long-secret\n")
    assert result.exit_code == 0, result.output
    assert "已添加用户 boss（管理员）" in result.output
    bad = runner.invoke(app, ["users", "add", "x", "--role", "admin", "--password-stdin"], input="short\n")
    assert bad.exit_code == 2 and "至少需要" in bad.output
    listed = runner.invoke(app, ["users", "list"])
    assert "boss\tadmin（管理员）" in listed.output
    with db.session_factory(sqlite_url)() as s:
        assert auth.authenticate(s, "boss", "a-very-long-secret", source=SOURCE).role == "admin"

"""Users, roles and logins: argon2 password hashes, back-off after repeated failures (throttle.py), no default
password, a session version that ends every session of a user at once.

Roles: admin (everything, incl. users), analyst (imports, placement corrections, projects),
viewer (reads everything, changes nothing), leader (dashboards, read only).
The first admin is created from the command line (`chainatlas users add NAME --role admin`); after that an admin
adds colleagues, resets passwords, changes roles and disables accounts on the web page 用户管理 (web/routers/users.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.services.accounts import throttle
from chainatlas.store.db import audit
from chainatlas.store.models import User

ROLES = ("admin", "analyst", "viewer", "leader")
ROLE_NAMES = {"admin": "管理员", "analyst": "分析员", "viewer": "只读用户", "leader": "领导"}
WRITE_ROLES = frozenset({"admin", "analyst"})
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the response time the same,
# so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("chainatlas-no-such-user")


class AuthError(ValueError):
    """A refused login or an invalid user change; the message is Chinese and safe to show."""


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    session_version: int = 0
    view_zone: str = ""  # the zone and chain the pages show this user ("" = the defaults from settings)
    view_chain: str = ""

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    @property
    def role_zh(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


def _info(user: User) -> UserInfo:
    return UserInfo(user.id, user.username, user.display_name or user.username, user.role, user.active,
                    user.session_version or 0, user.view_zone or "", user.view_chain or "")


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符（当前 {len(password)} 个），请换一个更长的密码。")
    if password.strip() != password:
        raise AuthError("密码首尾不能有空格，请重新输入。")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    session: Session, username: str, password: str, role: str, *, display_name: str = "", by_user: str = "cli"
) -> UserInfo:
    username = username.strip()
    if not username or len(username) > 80:
        raise AuthError("用户名不能为空，且不超过 80 个字符。")
    if role not in ROLES:
        raise AuthError(f"角色“{role}”无效；可选：{', '.join(f'{r}（{ROLE_NAMES[r]}）' for r in ROLES)}。")
    check_password_rules(password)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AuthError(f"用户“{username}”已存在。")
    user = User(username=username, display_name=display_name, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    audit(session, by_user, "user.create", "user", user.id, None, {"username": username, "role": role})
    return _info(user)


def set_password(session: Session, username: str, password: str, *, by_user: str) -> None:
    user = _get(session, username)
    check_password_rules(password)
    user.password_hash = hash_password(password)
    _end_sessions(user)
    throttle.clear(session, user.username)
    audit(session, by_user, "user.password", "user", user.id, None, {"username": username})


def _end_sessions(user: User) -> None:
    user.session_version = (user.session_version or 0) + 1


def end_sessions(session: Session, user_id: int) -> None:
    """Log the user out everywhere (every browser, every worker): their session cookies name an older version."""
    user = session.get(User, user_id)
    if user is not None:
        _end_sessions(user)


def unlock(session: Session, username: str, *, by_user: str) -> int:
    """Forget the user's failed logins, so no source waits any more; returns how many were forgotten."""
    user = _get(session, username)
    n = throttle.clear(session, user.username)
    audit(session, by_user, "user.unlock", "user", user.id, None, {"username": user.username, "failures": n})
    return n


def list_users(session: Session) -> list[UserInfo]:
    return [_info(u) for u in session.scalars(select(User).order_by(User.username))]


def get_user(session: Session, user_id: int) -> UserInfo | None:
    user = session.get(User, user_id)
    return _info(user) if user is not None and user.active else None


def _get(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AuthError(f"找不到用户“{username}”。")
    return user


def authenticate(session: Session, username: str, password: str, *, source: str,
                 now: datetime | None = None) -> UserInfo:
    """Check a login from a source (throttle.py: "addr:IP" or "device:ID"). Failures count per user and source;
    past a few, that source waits before it may try again, and no other source does.

    The caller commits the session either way, so failures persist.
    """
    now = now or datetime.now(timezone.utc)
    username = username.strip()
    delay = throttle.wait(session, username, source, now=now)
    if delay:
        seconds = int(delay.total_seconds()) + 1
        raise AuthError(f"登录失败次数过多，请 {seconds} 秒后再试。如忘记密码，请联系管理员重置。")
    refused = AuthError("用户名或密码错误。")
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        throttle.failed(session, username, source, now=now)
        raise refused
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError, VerificationError):
        throttle.failed(session, username, source, now=now)
        raise refused from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    throttle.succeeded(session, username, source)
    return _info(user)


# ---------------------------------------------------------------- administration (the web page 用户管理)


@dataclass(frozen=True)
class UserRecord:
    """One row of the administrator's user list: UserInfo plus the account's state."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    delayed: bool  # some source must wait before trying this user's password again
    created_at: datetime | None

    @property
    def role_zh(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """Each account's name as colleagues know it (张科长 for zhang; the username where none is set), for pages that
    say who did something; names that are no account (system, a CLI user) are left out."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all()
    return {u: d or u for u, d in rows}


def user_records(session: Session, *, now: datetime | None = None) -> list[UserRecord]:
    now = now or datetime.now(timezone.utc)
    delayed = throttle.delayed_users(session, now=now)
    return [UserRecord(u.id, u.username, u.display_name or "", u.role, u.active, u.username in delayed,
                       _aware(u.created_at)) for u in session.scalars(select(User).order_by(User.username))]


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse a change that would leave no active administrator: nobody could manage users from the browser."""
    if user.role != "admin" or not user.active:
        return
    # the active admins' rows locked (PostgreSQL; SQLite has one writer): two admins disabling each other at once
    # cannot both pass this check
    others = session.scalars(
        select(User.id).where(User.role == "admin", User.active.is_(True), User.id != user.id).with_for_update()
    ).all()
    if not others:
        raise AuthError(f"“{user.username}”是唯一可用的管理员账号，不能停用或改为其他角色。请先添加（或启用）另一个管理员账号。")


def set_role(session: Session, username: str, role: str, *, by_user: str) -> UserInfo:
    user = _get(session, username)
    if role not in ROLES:
        raise AuthError(f"角色“{role}”无效；可选：{', '.join(f'{r}（{ROLE_NAMES[r]}）' for r in ROLES)}。")
    if role == user.role:
        return _info(user)
    if role != "admin":
        _keep_an_admin(session, user)
    audit(session, by_user, "user.role", "user", user.id, {"role": user.role}, {"role": role})
    user.role = role
    return _info(user)


def set_active(session: Session, username: str, active: bool, *, by_user: str) -> UserInfo:
    """Disable (active=False) or re-enable an account; a disabled account cannot log in and its sessions end."""
    user = _get(session, username)
    if user.active == active:
        return _info(user)
    if not active:
        _keep_an_admin(session, user)
    audit(session, by_user, "user.enable" if active else "user.disable", "user", user.id,
          {"active": user.active}, {"active": active})
    user.active = active
    if not active:
        _end_sessions(user)  # re-enabling later does not bring these sessions back
    return _info(user)

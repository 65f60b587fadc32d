"""Users, roles and logins: argon2 password hashes, lockout after repeated failures, no default password.

Roles: admin (everything, incl. users), analyst (imports, placement corrections, projects),
viewer (reads everything, changes nothing), leader (dashboards, read only).
The first admin is created from the command line (`chainatlas users add NAME --role admin`); after that an admin
adds colleagues, resets passwords, changes roles and disables accounts on the web page 用户管理 (web/routers/users.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainatlas.store.db import audit
from chainatlas.store.models import User

ROLES = ("admin", "analyst", "viewer", "leader")
ROLE_NAMES = {"admin": "管理员", "analyst": "分析员", "viewer": "只读用户", "leader": "领导"}
WRITE_ROLES = frozenset({"admin", "analyst"})
MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5  # consecutive failures before the account is locked
LOCKOUT = timedelta(minutes=15)

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

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    @property
    def role_zh(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


def _info(user: User) -> UserInfo:
    return UserInfo(user.id, user.username, user.display_name or user.username, user.role, user.active)


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
    user.failed_logins, user.locked_until = 0, None
    audit(session, by_user, "user.password", "user", user.id, None, {"username": username})


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


def authenticate(session: Session, username: str, password: str, *, now: datetime | None = None) -> UserInfo:
    """Check a login. Failures count per account; after MAX_FAILED_LOGINS the account locks for LOCKOUT.

    The caller commits the session either way, so failure counts persist.
    """
    now = now or datetime.now(timezone.utc)
    refused = AuthError("用户名或密码错误。")
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        raise refused
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
        raise AuthError(f"该账号因连续 {MAX_FAILED_LOGINS} 次密码错误已被锁定，请 {minutes} 分钟后再试，或请管理员重置密码。")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError, VerificationError):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            audit(session, user.username, "user.locked", "user", user.id, None, {"until": user.locked_until.isoformat()})
            raise AuthError(
                f"连续 {MAX_FAILED_LOGINS} 次密码错误，账号已锁定 {int(LOCKOUT.total_seconds() // 60)} 分钟。"
            ) from None
        raise refused from None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
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
    locked_until: datetime | None  # set only while a lockout is in force
    created_at: datetime | None

    @property
    def role_zh(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


def user_records(session: Session, *, now: datetime | None = None) -> list[UserRecord]:
    now = now or datetime.now(timezone.utc)
    rows = []
    for u in session.scalars(select(User).order_by(User.username)):
        locked = _aware(u.locked_until)
        rows.append(UserRecord(u.id, u.username, u.display_name or "", u.role, u.active,
                               locked if locked is not None and locked > now else None, _aware(u.created_at)))
    return rows


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse a change that would leave no active administrator: nobody could manage users from the browser."""
    if user.role != "admin" or not user.active:
        return
    others = session.scalar(
        select(func.count(User.id)).where(User.role == "admin", User.active.is_(True), User.id != user.id)
    )
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
    return _info(user)

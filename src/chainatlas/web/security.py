"""Who is asking and may they: session login, roles, CSRF tokens and login throttling for the web app.

Sessions are Starlette's signed cookie (itsdangerous, key = config.secret_key()); it holds only the user id
and the CSRF token. The user row is re-read at most every few seconds (web/cache.py), so a deactivated account stops soon.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from chainatlas.services import accounts

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """Raised by `current_user`; pages redirect to /login, the API answers 401."""


def get_session(request: Request) -> Iterator[Session]:
    """A database session per request; write routes commit explicitly, anything uncommitted is rolled back."""
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Every unsafe request carries the session's token, in the X-CSRF-Token header or the csrf_token form field.

    Installed app-wide so no write route can forget it.
    """
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "安全校验失败（CSRF 令牌缺失或已过期），请刷新页面后重试。")


async def current_user(request: Request) -> accounts.UserInfo:
    """The signed-in user, from the session cookie; the user row is cached briefly (web/cache.py)."""
    user_id = request.session.get("uid")
    user = None
    if isinstance(user_id, int):
        users = request.app.state.user_cache
        hit, user = users.cached(user_id)
        if not hit:
            user = await run_in_threadpool(users.load, user_id)
    if user is None:
        request.session.pop("uid", None)
        raise LoginRequired()
    request.state.user = user
    return user


def commit(request: Request, session: Session) -> None:
    """Commit a user's write and drop cached API answers, so the next read shows it."""
    session.commit()
    request.app.state.api_cache.clear()


def writer(user: accounts.UserInfo = Depends(current_user)) -> accounts.UserInfo:
    """Admins and analysts change data; viewers and leaders are refused with a Chinese message."""
    if not user.can_write:
        raise HTTPException(403, f"当前账号“{user.username}”为{user.role_zh}，只能查看，无权修改数据。如需修改请联系管理员。")
    return user


def admin(user: accounts.UserInfo = Depends(current_user)) -> accounts.UserInfo:
    if user.role != "admin":
        raise HTTPException(403, "仅管理员可以进行此操作。")
    return user


def log_in(request: Request, user: accounts.UserInfo) -> None:
    # A fresh session on login: an attacker cannot plant a session id or token beforehand.
    request.session.clear()
    request.app.state.user_cache.forget(user.id)
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)


class LoginThrottle:
    """At most `limit` failed logins per client address in `window` seconds (the per-account lockout is in auth)."""

    def __init__(self, limit: int = 20, window: float = 600.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def check(self, key: str) -> None:
        with self._lock:
            q = self._recent(key, time.monotonic())
            if len(q) >= self.limit:
                wait = int(q[0] + self.window - time.monotonic()) // 60 + 1
                raise HTTPException(429, f"登录失败次数过多，请 {wait} 分钟后再试。")

    def failed(self, key: str) -> None:
        with self._lock:
            self._recent(key, time.monotonic()).append(time.monotonic())

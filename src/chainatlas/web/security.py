"""Who is asking and may they: session login, roles, CSRF tokens and login throttling for the web app.

Sessions are Starlette's signed cookie (itsdangerous, key = config.secret_key()); it holds the user id, the
user's session version at login and the CSRF token. A session whose version is older than the user's has ended
(logout, password change or reset, deactivation: services/accounts/auth.py). The user row is re-read at most
every few seconds (web/cache.py, at once in the process that made the change), so other workers see it soon.
A browser that signed in keeps a signed device id (DEVICE_COOKIE), which lets it past the back-off strangers'
guesses cause (services/accounts/throttle.py).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Iterator

from fastapi import Depends, HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from chainatlas.services import accounts as auth
from chainatlas.web import choice

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


async def current_user(request: Request) -> auth.UserInfo:
    """The signed-in user, from the session cookie; the user row is cached briefly (web/cache.py)."""
    user_id = request.session.get("uid")
    user = None
    if isinstance(user_id, int):
        users = request.app.state.user_cache
        hit, user = users.cached(user_id)
        if not hit:
            user = await run_in_threadpool(users.load, user_id)
    if user is None or request.session.get("sv") != user.session_version:  # ended: logout, new password, …
        request.session.pop("uid", None)
        raise LoginRequired()
    request.state.user = user
    choice.set_choice(user.view_zone, user.view_chain)
    return user


def commit(request: Request, session: Session) -> None:
    """Commit a user's write and drop cached API answers, so the next read shows it."""
    session.commit()
    request.app.state.api_cache.clear()


def writer(user: auth.UserInfo = Depends(current_user)) -> auth.UserInfo:
    """Admins and analysts change data; viewers and leaders are refused with a Chinese message."""
    if not user.can_write:
        raise HTTPException(403, f"当前账号“{user.username}”为{user.role_zh}，只能查看，无权修改数据。如需修改请联系管理员。")
    return user


def admin(user: auth.UserInfo = Depends(current_user)) -> auth.UserInfo:
    if user.role != "admin":
        raise HTTPException(403, "仅管理员可以进行此操作。")
    return user


def log_in(request: Request, user: auth.UserInfo) -> None:
    # A fresh session on login: an attacker cannot plant a session id or token beforehand.
    request.session.clear()
    request.app.state.user_cache.forget(user.id)
    request.session["uid"] = user.id
    request.session["sv"] = user.session_version
    request.session["csrf"] = secrets.token_urlsafe(32)


DEVICE_COOKIE = "chainatlas_device"
DEVICE_DAYS = 365


def client_address(request: Request) -> str:
    """The client's address: the connection's, or where it is a configured proxy (CHAINATLAS_TRUSTED_PROXIES) the
    nearest X-Forwarded-For entry that is not one. Anyone else's X-Forwarded-For is ignored."""
    peer = request.client.host if request.client else ""
    proxies = request.app.state.trusted_proxies

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in proxies)

    if not trusted(peer):
        return peer or "?"
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    while hops and trusted(hops[-1]):
        hops.pop()
    return hops[-1] if hops else peer


def _devices(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret_key, salt="chainatlas-device")


def login_source(request: Request, username: str) -> str:
    """What a login's failures count under: the browser's device id if it signed in as this user before, else
    its address."""
    cookie = request.cookies.get(DEVICE_COOKIE, "")
    try:
        name, device = _devices(request).loads(cookie, max_age=DEVICE_DAYS * 86400)
    except (BadSignature, ValueError, TypeError):
        name = device = None
    if name == username.strip() and isinstance(device, str):
        return f"device:{device[:64]}"
    return f"addr:{client_address(request)}"


def remember_device(request: Request, response: Response, username: str) -> None:
    device = secrets.token_urlsafe(16)
    response.set_cookie(DEVICE_COOKIE, _devices(request).dumps([username, device]), max_age=DEVICE_DAYS * 86400,
                        httponly=True, samesite="lax", secure=request.app.state.cookie_secure)

"""用户管理: administrators add colleagues, reset passwords, change roles and disable accounts in the browser.

Every route here is admin-only (403 otherwise); the writes go through services/accounts/auth.py, which audits them.
Passwords travel only in the POST body: they are never put in a flash message, a log line or a redirect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from chainatlas.services.accounts import auth, throttle
from chainatlas.services.accounts.auth import UserInfo
from chainatlas.store.models import User
from chainatlas.web.actions import ActionError
from chainatlas.web.responses import flash, render
from chainatlas.web.security import admin, commit, get_session
from chainatlas.web.views import jsonable

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["users"])

# What each role may do, shown next to the role choice (the checks themselves are web/security.py and auth.py).
ROLE_HINTS = {
    "admin": "全部功能，含用户管理",
    "analyst": "导入数据、修正归链、维护项目台账",
    "viewer": "查看全部页面，不能修改",
    "leader": "查看大屏和各页面，不能修改",
}


def user_list(session: Session) -> dict:
    return {
        "users": [dict(jsonable(r), role_zh=r.role_zh, locked=r.delayed)
                  for r in auth.user_records(session)],
        "roles": [{"id": r, "name_zh": auth.ROLE_NAMES[r], "hint": ROLE_HINTS[r]} for r in auth.ROLES],
        "min_password_length": auth.MIN_PASSWORD_LENGTH, "free_failures": throttle.FREE_FAILURES,
        "first_delay_seconds": int(throttle.FIRST_DELAY.total_seconds()),
    }


def confirm_password(password: str, again: str) -> None:
    """The page asks twice so a typo does not lock a colleague out; the API sends the password once."""
    if password != again:
        raise ActionError("两次输入的密码不一致，请重新输入。")


@contextmanager
def _auth_refusal() -> Iterator[None]:
    """auth's refusals (weak password, last admin, …) carry their Chinese message to the page."""
    try:
        yield
    except auth.AuthError as exc:
        raise ActionError(str(exc)) from None


def _username(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    if user is None:
        raise ActionError(f"找不到编号为 {user_id} 的用户。")
    return user.username


def add_user(session: Session, username: str, display_name: str, role: str, password: str, by_user: str) -> UserInfo:
    with _auth_refusal():
        return auth.create_user(session, username, password, role, display_name=display_name.strip(),
                                by_user=by_user)


def reset_password(session: Session, user_id: int, password: str, by_user: str) -> str:
    username = _username(session, user_id)
    with _auth_refusal():
        auth.set_password(session, username, password, by_user=by_user)
    return f"已重置用户“{username}”的密码（如曾被锁定，已同时解除）。请把新密码当面或电话告知本人。"


def change_role(session: Session, user_id: int, role: str, by_user: str) -> str:
    with _auth_refusal():
        user = auth.set_role(session, _username(session, user_id), role, by_user=by_user)
    return f"用户“{user.username}”的角色已改为{user.role_zh}。"


def set_active(session: Session, user_id: int, active: bool, by_user: str) -> str:
    with _auth_refusal():
        user = auth.set_active(session, _username(session, user_id), active, by_user=by_user)
    return f"已{'启用' if active else '停用'}用户“{user.username}”。"


def _done(request: Request, session: Session, user_id: int | None = None) -> None:
    commit(request, session)
    if user_id is not None:
        # Role and active state are read through the user cache: make the change count from the next request.
        request.app.state.user_cache.forget(user_id)


def _write(request: Request, session: Session, user_id: int | None, work: Callable[[], str]) -> RedirectResponse:
    try:
        message = work()
    except ActionError as exc:
        session.rollback()
        flash(request, "error", str(exc))
    else:
        _done(request, session, user_id)
        flash(request, "success", message)
    return RedirectResponse("/users", status_code=303)


# ---------------------------------------------------------------- page


@router.get("/users")
def users_page(request: Request, user: UserInfo = Depends(admin), session: Session = Depends(get_session)):
    return render(request, "users/users.html", user, "users", data=user_list(session), title="用户管理")


@router.post("/users")
def add_user_form(request: Request, username: str = Form(""), display_name: str = Form(""), role: str = Form(""),
             password: str = Form(""), password2: str = Form(""), user: UserInfo = Depends(admin),
             session: Session = Depends(get_session)):
    def work() -> str:
        confirm_password(password, password2)
        added = add_user(session, username, display_name, role, password, user.username)
        return f"已添加用户“{added.username}”（{added.role_zh}），请把初始密码当面或电话告知本人。"

    return _write(request, session, None, work)


@router.post("/users/{user_id}/password")
def reset_password_form(user_id: int, request: Request, password: str = Form(""), password2: str = Form(""),
                   user: UserInfo = Depends(admin), session: Session = Depends(get_session)):
    def work() -> str:
        confirm_password(password, password2)
        return reset_password(session, user_id, password, user.username)

    return _write(request, session, user_id, work)


@router.post("/users/{user_id}/role")
def change_role_form(user_id: int, request: Request, role: str = Form(""), user: UserInfo = Depends(admin),
                session: Session = Depends(get_session)):
    return _write(request, session, user_id, lambda: change_role(session, user_id, role, user.username))


@router.post("/users/{user_id}/active")
def set_active_form(user_id: int, request: Request, active: str = Form(...), user: UserInfo = Depends(admin),
               session: Session = Depends(get_session)):
    return _write(request, session, user_id,
                  lambda: set_active(session, user_id, active == "1", user.username))


# ---------------------------------------------------------------- JSON (same checks; the password is sent once)


class NewUser(BaseModel):
    username: str
    role: str = Field(description="admin 管理员 / analyst 分析员 / viewer 只读用户 / leader 领导")
    password: str = Field(description=f"至少 {auth.MIN_PASSWORD_LENGTH} 个字符，首尾不能有空格")
    display_name: str = ""


class PasswordIn(BaseModel):
    password: str


class RoleIn(BaseModel):
    role: str


class ActiveIn(BaseModel):
    active: bool = Field(description="false = 停用（不能登录），true = 启用")


def _api_write(request: Request, session: Session, user_id: int, work: Callable[[], str]) -> dict:
    try:
        message = work()
    except ActionError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    _done(request, session, user_id)
    return {"id": user_id, "message": message}


@api.get("/users", summary="用户列表（仅管理员） (users, admins only)")
def users_json(user: UserInfo = Depends(admin), session: Session = Depends(get_session)) -> dict:
    return user_list(session)


@api.post("/users", summary="添加用户（仅管理员） (add a user)")
def add_user_json(body: NewUser, request: Request, user: UserInfo = Depends(admin),
                  session: Session = Depends(get_session)) -> dict:
    try:
        added = add_user(session, body.username, body.display_name, body.role, body.password, user.username)
    except ActionError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    _done(request, session)
    return {"id": added.id, "username": added.username, "role": added.role, "role_zh": added.role_zh}


@api.post("/users/{user_id}/password", summary="重置密码（仅管理员） (reset a password)")
def reset_password_json(user_id: int, body: PasswordIn, request: Request, user: UserInfo = Depends(admin),
                        session: Session = Depends(get_session)) -> dict:
    return _api_write(request, session, user_id,
                      lambda: reset_password(session, user_id, body.password, user.username))


@api.post("/users/{user_id}/role", summary="变更角色（仅管理员） (change a role)")
def change_role_json(user_id: int, body: RoleIn, request: Request, user: UserInfo = Depends(admin),
                     session: Session = Depends(get_session)) -> dict:
    return _api_write(request, session, user_id, lambda: change_role(session, user_id, body.role, user.username))


@api.post("/users/{user_id}/active", summary="停用/启用账号（仅管理员） (disable or enable)")
def set_active_json(user_id: int, body: ActiveIn, request: Request, user: UserInfo = Depends(admin),
                    session: Session = Depends(get_session)) -> dict:
    return _api_write(request, session, user_id,
                      lambda: set_active(session, user_id, body.active, user.username))

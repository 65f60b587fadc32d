"""Log in and out, and who is signed in (/api/me, with the CSRF token API clients send on writes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from chainatlas.services.accounts import auth
from chainatlas.services.accounts.auth import UserInfo
from chainatlas.web.security import csrf_token, current_user, get_session, log_in, login_source, remember_device

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect after login would help phishing.
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return request.app.state.templates.TemplateResponse(request, "session/login.html", {"next": _safe_next(next)})


@router.post("/login")
def login(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    next: str = Form("/"),
    session: Session = Depends(get_session),
) -> Response:
    source = login_source(request, username)
    try:
        user = auth.authenticate(session, username, password, source=source)
    except auth.AuthError as exc:
        session.commit()  # keep the failure, shared with every worker
        waiting = "秒后再试" in str(exc)
        return request.app.state.templates.TemplateResponse(
            request, "session/login.html", {"error": str(exc), "next": _safe_next(next), "username": username},
            status_code=429 if waiting else 401)
    session.commit()
    log_in(request, user)
    target = _safe_next(next)
    if target == "/" and user.role == "leader":
        target = "/screen"
    response = RedirectResponse(target, status_code=303)
    remember_device(request, response, user.username)
    return response


@router.post("/logout")
def logout(request: Request, session: Session = Depends(get_session)) -> Response:
    """Ends every session of the user, in every browser and worker (auth.end_sessions)."""
    user_id = request.session.get("uid")
    if isinstance(user_id, int):
        auth.end_sessions(session, user_id)
        session.commit()
        request.app.state.user_cache.forget(user_id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@api.get("/me", summary="当前用户 (current user)")
async def me(request: Request, user: UserInfo = Depends(current_user)) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "role_zh": user.role_zh, "can_write": user.can_write, "csrf_token": csrf_token(request)}

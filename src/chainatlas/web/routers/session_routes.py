"""Log in and out, and who is signed in (/api/me, with the CSRF token API clients send on writes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from chainatlas.services.accounts import auth
from chainatlas.services.accounts.auth import UserInfo
from chainatlas.web.security import csrf_token, current_user, get_session, log_in

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
    throttle = request.app.state.login_throttle
    client = request.client.host if request.client else "?"
    throttle.check(client)
    try:
        user = auth.authenticate(session, username, password)
    except auth.AuthError as exc:
        session.commit()  # keep the failure count and any lockout
        throttle.failed(client)
        return request.app.state.templates.TemplateResponse(
            request, "session/login.html", {"error": str(exc), "next": _safe_next(next), "username": username}, status_code=401
        )
    session.commit()
    log_in(request, user)
    target = _safe_next(next)
    if target == "/" and user.role == "leader":
        target = "/screen"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@api.get("/me", summary="当前用户 (current user)")
async def me(request: Request, user: UserInfo = Depends(current_user)) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "role_zh": user.role_zh, "can_write": user.can_write, "csrf_token": csrf_token(request)}

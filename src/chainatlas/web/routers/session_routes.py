"""Log in and out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from chainatlas.services import accounts
from chainatlas.web.security import get_session, log_in

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect after login would help phishing.
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return request.app.state.templates.TemplateResponse(request, "login.html", {"next": _safe_next(next)})


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
        user = accounts.authenticate(session, username, password)
    except accounts.AuthError as exc:
        session.commit()  # keep the failure count and any lockout
        throttle.failed(client)
        return request.app.state.templates.TemplateResponse(
            request, "login.html", {"error": str(exc), "next": _safe_next(next), "username": username}, status_code=401
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

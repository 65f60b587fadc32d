"""The FastAPI application: pages (Jinja2 + htmx + ECharts, all served from the package) and the JSON API.

Its settings (login length, HTTPS-only cookie, signing key, trusted proxies) are in config.py.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2.utils import htmlsafe_json_dumps
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chainatlas import config
from chainatlas.domain.money import format_yuan
from chainatlas.store import db
from chainatlas.web import theme, validation
from chainatlas.services import accounts as auth
from chainatlas.services.enterprises import evidence_groups, evidence_label, method_label
from chainatlas.web.body_limit import BodyLimit
from chainatlas.web.cache import ApiCache, UserCache
from chainatlas.web.imports_web import Jobs, sweep_uploads
from chainatlas.web.responses import esc
from chainatlas.web.views import jsonable
from chainatlas.web.security import LoginRequired, csrf_token, verify_csrf

HERE = Path(__file__).parent

# No inline scripts: page data travels in <script type="application/json"> blocks read by static JS.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


class SecurityHeaders:
    """Plain ASGI middleware (cheaper than BaseHTTPMiddleware on the JSON hot path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"content-security-policy", CSP.encode()),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_api(request: Request) -> bool:
    """JSON errors for the API, and for downloads asked for by a client that is not a browser page (the
    downloads are API operations too; a browser following a link still gets the error page)."""
    path = request.url.path
    return path.startswith("/api/") or (path.startswith("/downloads/")
                                        and "text/html" not in request.headers.get("accept", ""))


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.globals.update(
        csrf_token=csrf_token,
        format_yuan=format_yuan,
        VERDICTS=theme.VERDICTS,
        VERDICT_COLORS=theme.VERDICT_COLORS,
        VERDICT_CSS=theme.VERDICT_CSS,
    )
    env.filters["pagejson"] = lambda v: htmlsafe_json_dumps(jsonable(v))
    env.filters["evidence"] = evidence_label
    env.filters["evidence_groups"] = evidence_groups
    env.filters["method_label"] = method_label
    # Stored times are UTC; officers read them on the bureau's clock (CHAINATLAS_TIMEZONE, default Asia/Shanghai).
    env.filters["localtime"] = lambda v: f"{config.local_time(v):%Y-%m-%d %H:%M}" if v else ""
    env.filters["yuan"] = format_yuan
    env.filters["pct"] = lambda v, digits=0: "—" if v is None else f"{v * 100:.{digits}f}%"
    env.filters["num"] = lambda v, digits=2: "—" if v is None else f"{v:,.{digits}f}"
    return templates


def create_app(database_url: str | None = None) -> FastAPI:
    url = database_url or config.database_url()
    app = FastAPI(
        title="链图 ChainAtlas API",
        description="产业链精准招商系统的 JSON 接口；与网页相同的角色权限（登录后使用会话 Cookie，写操作需 X-CSRF-Token 头）。",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        dependencies=[Depends(verify_csrf)],
    )
    app.state.database_url = url
    app.state.sessions = db.session_factory(url)
    app.state.templates = make_templates()
    app.state.trusted_proxies = config.trusted_proxies()
    app.state.secret_key = config.secret_key()
    app.state.cookie_secure = config.setting("cookie_secure")
    app.state.api_cache = ApiCache(app.state.sessions)
    app.state.import_jobs = Jobs(on_change=app.state.api_cache.clear)
    sweep_uploads()  # confidential lists left by earlier runs (previewed, never imported) go after the TTL

    def load_user(user_id: int) -> auth.UserInfo | None:
        with app.state.sessions() as s:
            return auth.get_user(s, user_id)

    app.state.user_cache = UserCache(load_user)

    app.add_middleware(BodyLimit)  # innermost: it reads the session the session middleware decoded
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        SessionMiddleware,
        secret_key=app.state.secret_key,
        session_cookie="chainatlas_session",
        max_age=int(config.setting("session_hours") * 3600),
        same_site="lax",
        https_only=app.state.cookie_secure,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    validation.install(app)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, _exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "请先登录。"}, status_code=401)
        if request.headers.get("hx-request"):
            return Response(status_code=200, headers={"HX-Redirect": "/login"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = "找不到该页面或记录。"
        if _is_api(request):
            return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)
        if request.headers.get("hx-request"):
            return HTMLResponse(f'<div class="alert alert-error">{esc(detail)}</div>', status_code=exc.status_code)
        return app.state.templates.TemplateResponse(
            request, "error.html", {"message": detail, "status": exc.status_code}, status_code=exc.status_code
        )

    from chainatlas.web.routers import (
        chain, downloads, enterprises, gaps, imports, kpi, leaders, placement_check, projects, review, screen, search,
        session_routes, sites, target_weights, targets, users, view, zones,
    )

    # One router module per resource: its pages (`router`) and its JSON routes under /api (`api`).
    for resource in (session_routes, chain, enterprises, placement_check, search, gaps, targets, target_weights, leaders,
                     projects, kpi, screen, imports, review, users, sites, view, zones):
        app.include_router(resource.router)
        app.include_router(resource.api)
    app.include_router(downloads.router)
    return app


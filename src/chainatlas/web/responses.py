"""How every resource router answers: a page (its template with the signed-in user and the active tab), a flash
message and a redirect back after a form post, or JSON from the API cache."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import escape
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from chainatlas.web import choice
from chainatlas.services.accounts import UserInfo
from chainatlas.web.views import jsonable


def render(request: Request, template: str, user: UserInfo, active: str = "", status_code: int = 200,
           **ctx: Any) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, template, dict(ctx, user=user, active=active), status_code=status_code
    )


def flash(request: Request, kind: str, message: str) -> None:
    request.session.setdefault("flash", [])
    request.session["flash"] = request.session["flash"] + [[kind, message]]


def back(request: Request, fallback: str) -> RedirectResponse:
    ref = request.headers.get("referer", "")
    base = str(request.base_url)
    target = ref[len(base) - 1:] if ref.startswith(base) else fallback
    return RedirectResponse(target or fallback, status_code=303)


def esc(text: str) -> str:
    """Text made safe inside an HTML fragment written by hand (htmx answers, error boxes)."""
    return str(escape(text))


async def cached_json(request: Request, compute: Callable[[Session], Any], scope: str = "") -> Response:
    """Answer from the API cache, or compute in a worker thread with its own session and remember the bytes.

    Concurrent misses for the same answer wait for one computation (no stampede when 50 screens ask at once).
    """
    cache = request.app.state.api_cache
    key = cache.key(request.url.path, request.url.query, scope + "|" + "|".join(choice.current()))
    body = cache.get(key)
    if body is not None:
        return Response(body, media_type="application/json")
    pending = cache.inflight.get(key)
    if pending is not None:
        return Response(await asyncio.shield(pending), media_type="application/json")

    def run() -> bytes:
        with request.app.state.sessions() as session:
            data = jsonable(compute(session))
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    cache.inflight[key] = future
    try:
        body = await run_in_threadpool(run)
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # mark retrieved: waiters, if any, re-raise it themselves
        raise
    finally:
        cache.inflight.pop(key, None)
    future.set_result(body)
    cache.put(key, body)
    return Response(body, media_type="application/json")

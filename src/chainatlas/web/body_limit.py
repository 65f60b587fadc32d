"""Request bodies limited while they stream in, and file uploads only from signed-in writers.

Starlette parses a form (spooling its files to disk) before any route dependency runs, so the login check of
the upload routes came after the body was stored: a stranger could send 1.5 GB before the 403. This middleware
sits inside the session middleware and, before a single body byte is read:
- refuses a multipart body (an upload) unless the session is a signed-in user who may write;
- refuses a body whose Content-Length passes the limit (uploads: MAX_UPLOAD_BYTES, anything else: MAX_FORM_BYTES);
and counts the bytes as they arrive, ending the request with 413 once they pass it (chunked bodies state no length).
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chainatlas.web.security import LoginRequired, current_user

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_FORM_BYTES = 2 * 1024 * 1024  # forms and JSON bodies: mappings, weights, project edits
_ENVELOPE = 1024 * 1024  # multipart boundaries and the other form fields beside the file


def too_large(limit: int) -> str:
    return f"请求内容超过 {limit // 1024 // 1024} MB，请拆分文件后分批导入，或用命令行 chainatlas import。"


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        upload = headers.get(b"content-type", b"").lower().startswith(b"multipart/")
        nominal = MAX_UPLOAD_BYTES if upload else MAX_FORM_BYTES
        limit = nominal + _ENVELOPE if upload else nominal
        if upload:
            refused = await _refuse_upload(scope)
            if refused:
                await _answer(send, *refused)
                return
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await _answer(send, 413, too_large(nominal))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, too_large(nominal))
            return message

        await self.app(scope, counted, send)


async def _refuse_upload(scope: Scope) -> tuple[int, str] | None:
    try:
        user = await current_user(Request(scope))
    except LoginRequired:
        return 401, "请先登录。"
    if not user.can_write:
        return 403, f"当前账号“{user.username}”为{user.role_zh}，只能查看，无权导入数据。"
    return None


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})

"""JSON API under /api: the same data as the pages (web/views.py) and the same writes (web/actions.py).

Log in through /login (session cookie); writes need the X-CSRF-Token header (value in the page's
<meta name="csrf-token"> or from GET /api/me). Viewers and leaders get 403 on every write.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from chainatlas.services.accounts import UserInfo
from chainatlas.web import actions, views
from chainatlas.web.security import commit, csrf_token, current_user, get_session, writer

router = APIRouter(prefix="/api", tags=["api"])


class PlacementCorrection(BaseModel):
    action: str = Field(description="add 归入节点 / remove 不属于该节点 / off_chain 不在本链")
    node_id: str | None = None
    note: str = ""


class TargetToProject(BaseModel):
    enterprise_id: int
    node_id: str


class StageChangeIn(BaseModel):
    to_stage: str = Field(description="线索/接洽/在谈/签约/注册/开工/投产/搁置/终止")
    on: str = Field("", description="变更日期 YYYY-MM-DD，默认今天")
    reason: str = ""


def _refused(exc: actions.ActionError) -> HTTPException:
    return HTTPException(422, str(exc))


@router.get("/me", summary="当前用户 (current user)")
async def me(request: Request, user: UserInfo = Depends(current_user)) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "role_zh": user.role_zh, "can_write": user.can_write, "csrf_token": csrf_token(request)}


async def cached_json(request: Request, compute: Callable[[Session], Any], scope: str = "") -> Response:
    """Answer from the API cache, or compute in a worker thread with its own session and remember the bytes.

    Concurrent misses for the same answer wait for one computation (no stampede when 50 screens ask at once).
    """
    cache = request.app.state.api_cache
    key = cache.key(request.url.path, request.url.query, scope)
    body = cache.get(key)
    if body is not None:
        return Response(body, media_type="application/json")
    pending = cache.inflight.get(key)
    if pending is not None:
        return Response(await asyncio.shield(pending), media_type="application/json")

    def run() -> bytes:
        with request.app.state.sessions() as session:
            data = views.jsonable(compute(session))
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


def _zc(session: Session) -> tuple:
    return views.zone_and_chain(session)


@router.get("/chain-map", summary="产业链图谱 (chain map: stages, segments, nodes, verdicts)")
async def chain_map(request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: views.chain_map(s, *_zc(s)))


@router.get("/nodes/{node_id}", summary="节点详情 (node: local firms, verdict, targets)")
async def node(node_id: str, request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: views.node_page(s, *_zc(s), node_id))


@router.get("/enterprises/{enterprise_id}", summary="企业详情 (enterprise)")
async def enterprise(enterprise_id: int, request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: views.enterprise_page(s, _zc(s)[1], enterprise_id))


@router.get("/search", summary="企业搜索 (name, former/English name, USCC)")
async def search(request: Request, q: str = "", user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: views.search(s, q))


@router.get("/gaps", summary="缺链补链 (gaps and opportunities)")
async def gaps(request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: views.gaps(s, *_zc(s)))


@router.get("/targets", summary="目标企业 (ranked targets for a node, with the user's saved weights)")
async def targets(request: Request, node: str = "", user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: views.targets(s, *_zc(s), node or None, username=user.username),
                             scope=user.username)


@router.get("/leaders", summary="链主企业 (a leader's suppliers and local supply ratio)")
async def leaders(request: Request, leader: str = "", user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: views.leaders(s, *_zc(s), leader or None))


@router.get("/projects", summary="项目台账 (pipeline by stage)")
async def projects(request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: views.pipeline(s, *_zc(s)))


@router.get("/projects/{project_id}", summary="项目详情与历史 (project and its history)")
async def project(project_id: int, request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: views.project_page(s, _zc(s)[1], project_id))


@router.get("/kpi", summary="年度目标与进度 (yearly targets vs progress)")
async def kpi(request: Request, year: int | None = None, as_of: date | None = None,
              user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: views.kpi(s, *_zc(s), year, as_of))


@router.get("/screen", summary="大屏数据 (leadership dashboard)")
async def screen(request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: views.screen(s, *_zc(s)))


@router.post("/enterprises/{enterprise_id}/placements", summary="修正企业归链 (correct a placement)")
def correct_placement(enterprise_id: int, body: PlacementCorrection, request: Request, user: UserInfo = Depends(writer),
                      session: Session = Depends(get_session)) -> dict:
    _, chain = views.zone_and_chain(session)
    try:
        message = actions.correct_placement(session, chain, enterprise_id, body.action, body.node_id, body.note,
                                            user.username)
    except actions.ActionError as exc:
        session.rollback()
        raise _refused(exc) from None
    commit(request, session)
    return {"ok": True, "message": message}


@router.post("/targets/to-project", summary="目标企业加入项目台账 (add a target to the pipeline)")
def target_to_project(body: TargetToProject, request: Request, user: UserInfo = Depends(writer),
                      session: Session = Depends(get_session)) -> dict:
    zone, chain = views.zone_and_chain(session)
    try:
        project = actions.target_to_project(session, zone, chain, body.enterprise_id, body.node_id, user.username)
    except actions.ActionError as exc:
        session.rollback()
        raise _refused(exc) from None
    commit(request, session)
    return views.jsonable(views.project_dict(project, chain))


@router.post("/projects/{project_id}/stage", summary="变更项目阶段 (change a project's stage)")
def change_stage(project_id: int, body: StageChangeIn, request: Request, user: UserInfo = Depends(writer),
                 session: Session = Depends(get_session)) -> dict:
    _, chain = views.zone_and_chain(session)
    try:
        project = actions.change_stage(session, project_id, body.to_stage, body.on, body.reason, user)
    except actions.ActionError as exc:
        session.rollback()
        raise _refused(exc) from None
    commit(request, session)
    return views.jsonable(views.project_dict(project, chain))

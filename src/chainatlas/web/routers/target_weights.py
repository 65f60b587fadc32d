"""目标企业 ranking weights in the browser: each analyst saves their own weights or goes back to the defaults.

The writes go through services/targets/ranking.py (validated, audited, per user); viewers and leaders see the weights
in force but are refused (403) like every other write. An htmx request gets the weights form and the re-ranked
table back in one fragment; a plain form post is redirected to the page with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from chainatlas.services import targets as targets_service
from chainatlas.services.accounts import UserInfo
from chainatlas.web import actions, views
from chainatlas.web.routers.pages import flash, render
from chainatlas.web.security import commit, get_session, writer

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def _answer(request: Request, session: Session, user: UserInfo, node: str, work: Callable[[], str],
            entered: dict[str, str] | None = None) -> Response:
    try:
        message = work()
    except actions.ActionError as exc:
        session.rollback()
        if not request.headers.get("hx-request"):
            flash(request, "error", str(exc))
            return RedirectResponse(f"/targets?node={quote(node)}", status_code=303)
        fields = exc.fields if isinstance(exc, actions.WeightsError) else {}
        return _fragment(request, session, user, node, status_code=422, entered=entered or {}, errors=fields,
                         error=None if fields else str(exc))
    commit(request, session)
    if not request.headers.get("hx-request"):
        flash(request, "success", message)
        return RedirectResponse(f"/targets?node={quote(node)}", status_code=303)
    return _fragment(request, session, user, node, notice=message)


def _fragment(request: Request, session: Session, user: UserInfo, node: str, status_code: int = 200,
              **ctx) -> Response:
    zone, chain = views.zone_and_chain(session)
    data = views.targets(session, zone, chain, node or None, username=user.username)
    return render(request, "_targets_body.html", user, status_code=status_code, data=data, **ctx)


@router.post("/targets/weights")
async def save_weights(request: Request, user: UserInfo = Depends(writer), session: Session = Depends(get_session)):
    form = await request.form()
    node = str(form.get("node", ""))
    entered = {k: str(form.get(k, "")) for k in targets_service.COMPONENTS}
    return _answer(request, session, user, node,
                   lambda: actions.save_target_weights(session, entered, user.username), entered)


@router.post("/targets/weights/reset")
async def reset_weights(request: Request, user: UserInfo = Depends(writer), session: Session = Depends(get_session)):
    node = str((await request.form()).get("node", ""))
    return _answer(request, session, user, node, lambda: actions.reset_target_weights(session, user.username))


# ---------------------------------------------------------------- JSON (same checks)


class WeightsIn(BaseModel):
    weights: dict[str, Any] = Field(
        description="每项得分构成的权重（不小于 0，不能全为 0）：" + "、".join(
            f"{k} {v}" for k, v in targets_service.COMPONENT_LABELS.items()))


@api.post("/targets/weights", summary="保存我的目标企业排序权重 (save my ranking weights)")
def save_weights_json(body: WeightsIn, request: Request, user: UserInfo = Depends(writer),
                      session: Session = Depends(get_session)) -> dict:
    try:
        message = actions.save_target_weights(session, body.weights, user.username)
    except actions.ActionError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    commit(request, session)
    return {"message": message, **views.target_weights(session, user.username)}


@api.post("/targets/weights/reset", summary="恢复默认排序权重 (back to the default weights)")
def reset_weights_json(request: Request, user: UserInfo = Depends(writer),
                       session: Session = Depends(get_session)) -> dict:
    message = actions.reset_target_weights(session, user.username)
    commit(request, session)
    return {"message": message, **views.target_weights(session, user.username)}

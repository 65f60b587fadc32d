"""目标企业 ranking weights in the browser: each analyst saves their own weights or goes back to the defaults.

The writes go through services/targets/weights.py (validated, audited, per user); viewers and leaders see the weights
in force but are refused (403) like every other write. An htmx request gets the weights form and the re-ranked
table back in one fragment; a plain form post is redirected to the page with a message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from chainatlas.services import targets as targets_service
from chainatlas.services.accounts import UserInfo
from chainatlas.web.actions import ActionError
from chainatlas.web.responses import flash, render
from chainatlas.web.routers.targets import target_weights, targets
from chainatlas.web.security import commit, get_session, writer
from chainatlas.web.views import zone_and_chain

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


class WeightsError(ActionError):
    """The weights form had bad boxes; `fields` maps each component to its Chinese message (shown beside it)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("；".join(fields.values()))
        self.fields = fields


def parse_weights(values: Mapping[str, Any]) -> dict[str, float]:
    """One box per component of the target score; every bad box is reported at once, by its Chinese name."""
    if set(values) - set(targets_service.COMPONENTS):
        try:
            targets_service.validate_weights(dict(values))  # the service names the unknown keys and lists the known ones
        except targets_service.TargetError as exc:
            raise ActionError(str(exc)) from None
    defaults = targets_service.default_weights()
    out: dict[str, float] = {}
    errors: dict[str, str] = {}
    for key in targets_service.COMPONENTS:
        raw = values.get(key)
        text = "" if raw is None else str(raw).strip()
        if not text:
            errors[key] = (f"权重“{targets_service.COMPONENT_LABELS[key]}”未填写：请填一个不小于 0 的数"
                           f"（默认 {defaults[key]:g}）。")
            continue
        try:
            out[key] = targets_service.validate_weights({key: text})[key]  # the service's own message names the field
        except targets_service.TargetError as exc:
            errors[key] = str(exc)
    if errors:
        raise WeightsError(errors)
    return out


def save_target_weights(session: Session, values: Mapping[str, Any], by_user: str) -> str:
    weights = parse_weights(values)
    try:
        targets_service.save_weights(session, by_user, weights, by_user=by_user)
    except targets_service.TargetError as exc:  # all zero
        raise ActionError(str(exc)) from None
    return "已保存为我的权重，下表已按新权重重新排序（只影响您本人看到的排名）。"


def reset_target_weights(session: Session, by_user: str) -> str:
    targets_service.reset_weights(session, by_user, by_user=by_user)
    return "已恢复默认权重，下表已按默认权重重新排序。"



def _answer(request: Request, session: Session, user: UserInfo, node: str, work: Callable[[], str],
            entered: dict[str, str] | None = None) -> Response:
    try:
        message = work()
    except ActionError as exc:
        session.rollback()
        if not request.headers.get("hx-request"):
            flash(request, "error", str(exc))
            return RedirectResponse(f"/targets?node={quote(node)}", status_code=303)
        fields = exc.fields if isinstance(exc, WeightsError) else {}
        return _fragment(request, session, user, node, status_code=422, entered=entered or {}, errors=fields,
                         error=None if fields else str(exc))
    commit(request, session)
    if not request.headers.get("hx-request"):
        flash(request, "success", message)
        return RedirectResponse(f"/targets?node={quote(node)}", status_code=303)
    return _fragment(request, session, user, node, notice=message)


def _fragment(request: Request, session: Session, user: UserInfo, node: str, status_code: int = 200,
              **ctx) -> Response:
    zone, chain = zone_and_chain(session)
    data = targets(session, zone, chain, node or None, username=user.username)
    return render(request, "targets/_targets_body.html", user, status_code=status_code, data=data, **ctx)


@router.post("/targets/weights")
async def save_weights(request: Request, user: UserInfo = Depends(writer), session: Session = Depends(get_session)):
    form = await request.form()
    node = str(form.get("node", ""))
    entered = {k: str(form.get(k, "")) for k in targets_service.COMPONENTS}
    return _answer(request, session, user, node,
                   lambda: save_target_weights(session, entered, user.username), entered)


@router.post("/targets/weights/reset")
async def reset_weights(request: Request, user: UserInfo = Depends(writer), session: Session = Depends(get_session)):
    node = str((await request.form()).get("node", ""))
    return _answer(request, session, user, node, lambda: reset_target_weights(session, user.username))


# ---------------------------------------------------------------- JSON (same checks)


class WeightsIn(BaseModel):
    weights: dict[str, Any] = Field(
        description="每项得分构成的权重（不小于 0，不能全为 0）：" + "、".join(
            f"{k} {v}" for k, v in targets_service.COMPONENT_LABELS.items()))


@api.post("/targets/weights", summary="保存我的目标企业排序权重 (save my ranking weights)")
def save_weights_json(body: WeightsIn, request: Request, user: UserInfo = Depends(writer),
                      session: Session = Depends(get_session)) -> dict:
    try:
        message = save_target_weights(session, body.weights, user.username)
    except ActionError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    commit(request, session)
    return {"message": message, **target_weights(session, user.username)}


@api.post("/targets/weights/reset", summary="恢复默认排序权重 (back to the default weights)")
def reset_weights_json(request: Request, user: UserInfo = Depends(writer),
                       session: Session = Depends(get_session)) -> dict:
    message = reset_target_weights(session, user.username)
    commit(request, session)
    return {"message": message, **target_weights(session, user.username)}

"""企业详情: one firm in full (services/enterprises builds it, so `chainatlas show` prints the same), and the
officer's correction of where the firm sits on the chain."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain
from chainatlas.services import enterprises
from chainatlas.services.accounts import UserInfo
from chainatlas.services import placement
from chainatlas.store.models import Enterprise
from chainatlas.web.actions import ActionError
from chainatlas.web.responses import cached_json, flash, render
from chainatlas.web.security import commit, current_user, get_session, writer
from chainatlas.web.views import zone_and_chain

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])

WEB_ACTIONS = {"add": "place", "remove": "reject", "off_chain": "off_chain", "clear": "clear"}
# Pages a correction form may come from and go back to (a fixed list: a form field never names a free URL).
RETURN_TO = {"check": "/placements/check"}


def enterprise_view(session: Session, chain: Chain, enterprise_id: int) -> dict:
    try:
        return enterprises.enterprise_detail(session, chain, enterprise_id)
    except enterprises.EnterpriseNotFound as exc:
        raise HTTPException(404, str(exc)) from None


def correct_placement(
    session: Session, chain: Chain, enterprise_id: int, action: str, node_id: str | None, note: str, by_user: str
) -> str:
    """add: on this node; remove: not on this node; off_chain: not on this chain; clear: withdraw manual decisions."""
    ent = session.get(Enterprise, enterprise_id)
    if ent is None:
        raise ActionError(f"找不到编号为 {enterprise_id} 的企业。")
    if action not in WEB_ACTIONS:
        raise ActionError(f"未知操作“{action}”：可选 add（归入节点）、remove（不属于该节点）、off_chain（不在本链）、clear（撤销人工判断）。")
    if action in ("add", "remove") and (not node_id or node_id not in chain.nodes):
        raise ActionError(f"请选择产业链“{chain.name_zh}”中的一个节点（收到：“{node_id or '空'}”）。")
    try:
        placement.correct_placement(session, enterprise_id, chain.id, action=WEB_ACTIONS[action],
                                    node_id=node_id if action != "off_chain" else None, by_user=by_user, note=note)
    except ValueError as exc:
        raise ActionError(str(exc)) from None
    node_name = chain.nodes[node_id].name_zh if node_id in chain.nodes else ""
    return {
        "add": f"已将“{ent.name}”归入“{node_name}”（人工确认）。",
        "remove": f"已确认“{ent.name}”不属于“{node_name}”。",
        "off_chain": f"已确认“{ent.name}”不在“{chain.name_zh}”产业链上。",
        "clear": f"已撤销对“{ent.name}”的人工归链判断，恢复按规则归链。",
    }[action]


@router.get("/enterprises/{enterprise_id}")
def enterprise_page(enterprise_id: int, request: Request, user: UserInfo = Depends(current_user),
                    session: Session = Depends(get_session)):
    _, chain = zone_and_chain(session)
    data = enterprise_view(session, chain, enterprise_id)
    return render(request, "enterprises/enterprise.html", user, data=data, is_demo=data["is_demo"],
                  title=data["enterprise"]["name"])


@router.post("/enterprises/{enterprise_id}/placements")
def correct_placement_form(enterprise_id: int, request: Request, action: str = Form(...), node_id: str = Form(""),
                           note: str = Form(""), return_to: str = Form(""), user: UserInfo = Depends(writer),
                           session: Session = Depends(get_session)):
    _, chain = zone_and_chain(session)
    try:
        message = correct_placement(session, chain, enterprise_id, action, node_id or None, note, user.username)
    except ActionError as exc:
        session.rollback()
        flash(request, "error", str(exc))
    else:
        commit(request, session)
        flash(request, "success", message)
    back = RETURN_TO.get(return_to, "/enterprises/{id}#placements").format(id=enterprise_id)
    return RedirectResponse(back, status_code=303)


class PlacementCorrection(BaseModel):
    action: str = Field(description="add 归入节点 / remove 不属于该节点 / off_chain 不在本链")
    node_id: str | None = None
    note: str = ""


@api.get("/enterprises/{enterprise_id}", summary="企业详情 (enterprise)")
async def enterprise_json(enterprise_id: int, request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: enterprise_view(s, zone_and_chain(s)[1], enterprise_id))


@api.post("/enterprises/{enterprise_id}/placements", summary="修正企业归链 (correct a placement)")
def correct_placement_json(enterprise_id: int, body: PlacementCorrection, request: Request,
                           user: UserInfo = Depends(writer), session: Session = Depends(get_session)) -> dict:
    _, chain = zone_and_chain(session)
    try:
        message = correct_placement(session, chain, enterprise_id, body.action, body.node_id, body.note,
                                    user.username)
    except ActionError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    commit(request, session)
    return {"ok": True, "message": message}

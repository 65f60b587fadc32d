"""目标企业: firms outside the zone ranked for a node (with the user's own weights), and adding one to the pipeline.
The weights form's writes are in target_weights.py."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain
from chainatlas.services import enterprises
from chainatlas.services.accounts.auth import UserInfo
from chainatlas.services.catalog.chains import node_label, node_ref
from chainatlas.services.pipeline.projects import investors_in_pipeline, project_dict
from chainatlas.services.targets import ranking as targets_service
from chainatlas.store.models import Enterprise, Project, Zone
from chainatlas.web.actions import ActionError
from chainatlas.web.responses import back, cached_json, esc, flash, render
from chainatlas.web.security import commit, current_user, get_session, writer
from chainatlas.web.views import diagnose, jsonable, zone_and_chain

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def targets(session: Session, zone: Zone, chain: Chain, node_id: str | None, username: str | None = None,
            limit: int = 50) -> dict:
    diag = diagnose(session, zone, chain)
    choices = [{"id": g.node_id, "label": f"{g.name_zh}（{g.gap_type}）"} for g in diag.gaps if g.node_id in chain.nodes]
    listed = {c["id"] for c in choices}
    choices += [{"id": n.id, "label": node_label(chain, n.id)} for n in chain.nodes.values() if n.id not in listed]
    node_id = node_id or (choices[0]["id"] if choices else None)
    if node_id and node_id not in chain.nodes:
        raise HTTPException(404, f"产业链“{chain.name_zh}”中没有节点“{node_id}”。")
    rows = jsonable(targets_service.rank_targets(session, zone.id, node_id, chain.id, limit=limit, username=username)) \
        if node_id else []
    firm_ids = [r["enterprise_id"] for r in rows]
    demo_ids = enterprises.demo_ids(session, firm_ids)
    in_pipeline = investors_in_pipeline(session, zone.id, firm_ids)
    for r in rows:
        r["is_demo"] = r["enterprise_id"] in demo_ids
        r["in_pipeline"] = r["enterprise_id"] in in_pipeline
    component_keys = list(dict.fromkeys(k for r in rows for k in r.get("components", {})))
    return {"zone": {"id": zone.id, "name": zone.name}, "chain": {"id": chain.id, "name_zh": chain.name_zh},
            "node": node_ref(chain, node_id), "node_choices": choices, "targets": rows,
            "component_keys": component_keys, "component_names": dict(targets_service.COMPONENT_LABELS),
            "weights": target_weights(session, username), "is_demo": bool(diag.is_demo) or bool(demo_ids)}


def target_weights(session: Session, username: str | None) -> dict:
    """The ranking weights in force for this user, each beside its default (the 目标企业 weights form)."""
    in_force, mine = targets_service.weights_in_force(session, username)
    defaults = targets_service.default_weights()
    return {"mine": mine, "label": "我的权重" if mine else "默认",
            "fields": [{"key": k, "name_zh": targets_service.COMPONENT_LABELS[k], "value": in_force[k],
                       "default": defaults[k]} for k in targets_service.COMPONENTS]}


def target_to_project(session: Session, zone: Zone, enterprise_id: int, node_id: str, by_user: str) -> Project:
    if session.get(Enterprise, enterprise_id) is None:
        raise ActionError(f"找不到编号为 {enterprise_id} 的企业。")
    try:
        return targets_service.target_to_project(session, zone.id, enterprise_id, node_id, by_user)
    except ValueError as exc:
        raise ActionError(str(exc)) from None


@router.get("/targets")
def targets_page(request: Request, node: str = "", user: UserInfo = Depends(current_user),
                 session: Session = Depends(get_session)):
    zone, chain = zone_and_chain(session)
    data = targets(session, zone, chain, node or None, username=user.username)
    return render(request, "targets/targets.html", user, "targets", data=data, is_demo=data["is_demo"],
                  title="目标企业")


@router.post("/targets/to-project")
def target_to_project_form(request: Request, enterprise_id: int = Form(...), node_id: str = Form(...),
                           user: UserInfo = Depends(writer), session: Session = Depends(get_session)):
    zone, _ = zone_and_chain(session)
    try:
        project = target_to_project(session, zone, enterprise_id, node_id, user.username)
    except ActionError as exc:
        session.rollback()
        if request.headers.get("hx-request"):
            return HTMLResponse(f'<span class="inline-error">{esc(str(exc))}</span>', status_code=422)
        flash(request, "error", str(exc))
        return back(request, "/targets")
    commit(request, session)
    if request.headers.get("hx-request"):
        return HTMLResponse(
            f'<a class="btn btn-done" href="/projects/{project.id}">已加入台账 · {esc(project.code)}</a>'
        )
    flash(request, "success", f"已加入项目台账：{project.name}（{project.code}）")
    return back(request, "/pipeline")


class TargetToProject(BaseModel):
    enterprise_id: int
    node_id: str


@api.get("/targets", summary="目标企业 (ranked targets for a node, with the user's saved weights)")
async def targets_json(request: Request, node: str = "", user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: targets(s, *zone_and_chain(s), node or None, username=user.username),
                             scope=user.username)


@api.post("/targets/to-project", summary="目标企业加入项目台账 (add a target to the pipeline)")
def target_to_project_json(body: TargetToProject, request: Request, user: UserInfo = Depends(writer),
                           session: Session = Depends(get_session)) -> dict:
    zone, chain = zone_and_chain(session)
    try:
        project = target_to_project(session, zone, body.enterprise_id, body.node_id, user.username)
    except ActionError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    commit(request, session)
    return jsonable(project_dict(project, chain))

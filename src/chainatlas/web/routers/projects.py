"""项目台账: the pipeline board by stage, a project's page with its history, moving a project along the stages
(services/pipeline checks the ladder and audits the change), the project form for every ledger column
(services/pipeline/project_form: the Excel import's own checks) and the 走访记录 with the next action."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import Chain
from chainatlas.domain.money import format_yuan
from chainatlas.domain.stages import StageError
from chainatlas.services import accounts
from chainatlas.services.accounts import UserInfo
from chainatlas.services import pipeline as project_form
from chainatlas.services import pipeline as pipeline_service
from chainatlas.services.pipeline import project_dict
from chainatlas.store.models import Project, Zone
from chainatlas.web.actions import ActionError
from chainatlas.web.responses import back, cached_json, flash, render
from chainatlas.web.security import commit, current_user, get_session, writer
from chainatlas.web.views import jsonable, zone_and_chain

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def pipeline(session: Session, zone: Zone, chain: Chain) -> dict:
    board = pipeline_service.board(session, zone.id, chain.id)
    columns = [{"stage": stage, "projects": [project_dict(p, chain) for p in projects]}
               for stage, projects in board.items()]
    all_rows = [p for c in columns for p in c["projects"]]
    # the sum of the amounts entered, and how many projects have none: unknown is not 0元
    known = [p["investment_yuan"] for p in all_rows if p["investment_yuan"] is not None]
    missing = len(all_rows) - len(known)
    return {"zone": {"id": zone.id, "name": zone.name}, "chain": {"id": chain.id, "name_zh": chain.name_zh},
            "columns": columns, "projects": sorted(all_rows, key=lambda p: p["code"], reverse=True),
            "stages": list(pipeline_service.ALL_STAGES), "total": len(all_rows),
            "total_investment_zh": format_yuan(sum(known) if known else None)
            + (f"（{missing} 个项目未填）" if missing else ""),
            "is_demo": any(p["is_demo"] for p in all_rows)}


def project_view(session: Session, chain: Chain, project_id: int) -> dict:
    p = session.get(Project, project_id)
    if p is None:
        raise HTTPException(404, f"找不到编号为 {project_id} 的项目。")
    history = jsonable(pipeline_service.project_history(session, p.id))
    people = accounts.display_names(session, (h["by_user"] for h in history))
    for h in history:  # who did it, as colleagues know them (张科长), not the login name
        h["by_user"] = people.get(h["by_user"], h["by_user"])
    return {"activity_kinds": list(pipeline_service.ACTIVITY_KINDS),
            "project": dict(project_dict(p, chain), summary=p.summary, notes=p.notes,
                            fixed_investment_zh=format_yuan(p.fixed_investment_yuan),
                            expected_output_zh=format_yuan(p.expected_output_yuan),
                            expected_tax_zh=format_yuan(p.expected_tax_yuan), jobs=p.jobs, land_mu=p.land_mu,
                            source_detail=p.source_detail, registered_on=p.registered_on),
            "history": history, "stages": list(pipeline_service.ALL_STAGES)}


def _parse_day(text: str) -> date:
    if not text:
        return config.today()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ActionError(f"日期“{text}”无法识别，请按 年-月-日 填写，例如 2024-05-20。") from None


def change_stage(session: Session, project_id: int, to_stage: str, on: str, reason: str, user: UserInfo,
                 from_stage: str | None = None) -> Project:
    if session.get(Project, project_id) is None:
        raise ActionError(f"找不到编号为 {project_id} 的项目。")
    try:
        return pipeline_service.change_stage(
            session, project_id, to_stage, on=_parse_day(on), by_user=user.username, reason=reason,
            as_admin=user.role == "admin", expected_stage=from_stage or None,
        )
    except pipeline_service.StageConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except (StageError, pipeline_service.ProjectError) as exc:
        raise ActionError(str(exc)) from None


@router.get("/pipeline")
def pipeline_page(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = zone_and_chain(session)
    data = pipeline(session, zone, chain)
    return render(request, "pipeline/pipeline.html", user, "pipeline", data=data, is_demo=data["is_demo"],
                  title="项目台账", today=config.today().isoformat())


@router.get("/projects/{project_id}")
def project_page(project_id: int, request: Request, user: UserInfo = Depends(current_user),
                 session: Session = Depends(get_session)):
    _, chain = zone_and_chain(session)
    data = project_view(session, chain, project_id)
    return render(request, "pipeline/project.html", user, "pipeline", data=data, is_demo=data["project"]["is_demo"],
                  title=data["project"]["name"], today=config.today().isoformat())


@router.post("/projects/{project_id}/stage")
def change_stage_form(project_id: int, request: Request, to_stage: str = Form(...), on: str = Form(""),
                      reason: str = Form(""), from_stage: str = Form(""), user: UserInfo = Depends(writer),
                      session: Session = Depends(get_session)):
    try:
        project = change_stage(session, project_id, to_stage, on, reason, user, from_stage)
    except (ActionError, HTTPException) as exc:
        session.rollback()
        flash(request, "error", str(exc.detail if isinstance(exc, HTTPException) else exc))
    else:
        commit(request, session)
        flash(request, "success", f"项目“{project.name}”已变更为“{project.stage}”。")
    return back(request, f"/projects/{project_id}")


def _form_page(request: Request, user: UserInfo, session: Session, project: Project, chain: Chain,
               typed: dict[str, str] | None = None, errors: dict[str, str] | None = None, status_code: int = 200):
    fields, shown = project_form.form_fields(session, project)
    if typed is not None:  # a refused form comes back as the officer typed it
        fields = [project_form.FormField(f.field, f.label, f.kind, typed.get(f.field, "")) for f in fields]
    data = {"project": project_dict(project, chain), "fields": fields, "shown": shown, "errors": errors or {},
            "project_types": pipeline_service.PROJECT_TYPES, "purposes": pipeline_service.PURPOSES,
            "parks": project_form.parks(session, project.zone_id),
            "node_names": [n.name_zh for n in chain.nodes.values()]}
    return render(request, "pipeline/project_form.html", user, "pipeline", data=data, is_demo=project.source == "demo",
                  title=f"编辑项目：{project.name}", status_code=status_code)


@router.get("/projects/{project_id}/edit")
def project_form_page(project_id: int, request: Request, user: UserInfo = Depends(writer),
                      session: Session = Depends(get_session)):
    _, chain = zone_and_chain(session)
    project = session.get(Project, project_id)
    if project is None:
        raise HTTPException(404, f"找不到编号为 {project_id} 的项目。")
    return _form_page(request, user, session, project, chain)


@router.post("/projects/{project_id}/edit")
async def project_form_save(project_id: int, request: Request, user: UserInfo = Depends(writer),
                            session: Session = Depends(get_session)):
    _, chain = zone_and_chain(session)
    project = session.get(Project, project_id)
    if project is None:
        raise HTTPException(404, f"找不到编号为 {project_id} 的项目。")
    typed = {k: str(v) for k, v in (await request.form()).items() if k in project_form.FORM_FIELDS}
    try:
        project_form.save_project_form(session, project_id, typed, by_user=user.username)
    except project_form.ProjectFormError as exc:
        session.rollback()
        project = session.get(Project, project_id)
        errors = exc.by_field
        return _form_page(request, user, session, project, chain, typed, errors, status_code=422)
    except pipeline_service.ProjectError as exc:
        session.rollback()
        project = session.get(Project, project_id)
        return _form_page(request, user, session, project, chain, typed, {"": str(exc)}, status_code=422)
    commit(request, session)
    flash(request, "success", f"项目“{project.name}”已保存。")
    return RedirectResponse(f"/projects/{project_id}", status_code=303)


@router.post("/projects/{project_id}/activities")
def log_activity_form(project_id: int, request: Request, on: str = Form(""), kind: str = Form("拜访"),
                      content: str = Form(""), next_action: str = Form(""), next_action_on: str = Form(""),
                      user: UserInfo = Depends(writer), session: Session = Depends(get_session)):
    try:
        due = _parse_day(next_action_on) if next_action_on.strip() else None
        pipeline_service.log_activity(session, project_id, on=_parse_day(on), kind=kind, content=content,
                                      by_user=user.username, next_action=next_action.strip() or None,
                                      next_action_on=due)
    except (ActionError, pipeline_service.ProjectError) as exc:
        session.rollback()
        flash(request, "error", str(exc))
    else:
        commit(request, session)
        flash(request, "success", "已登记走访记录" + ("，并更新下一步工作。" if next_action.strip() else "。"))
    return RedirectResponse(f"/projects/{project_id}", status_code=303)


class StageChangeIn(BaseModel):
    to_stage: str = Field(description="线索/接洽/在谈/签约/注册/开工/投产/搁置/终止")
    on: str = Field("", description="变更日期 YYYY-MM-DD，默认今天")
    reason: str = ""
    from_stage: str = Field("", description="您看到的当前阶段；项目已被他人变更时返回 409（建议总是填写）")


@api.get("/projects", summary="项目台账 (pipeline by stage)")
async def projects_json(request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: pipeline(s, *zone_and_chain(s)))


@api.get("/projects/{project_id}", summary="项目详情与历史 (project and its history)")
async def project_json(project_id: int, request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: project_view(s, zone_and_chain(s)[1], project_id))


@api.post("/projects/{project_id}/stage", summary="变更项目阶段 (change a project's stage)",
          responses={409: {"description": "项目阶段已被他人变更 (changed meanwhile)"}})
def change_stage_json(project_id: int, body: StageChangeIn, request: Request, user: UserInfo = Depends(writer),
                      session: Session = Depends(get_session)) -> dict:
    _, chain = zone_and_chain(session)
    try:
        project = change_stage(session, project_id, body.to_stage, body.on, body.reason, user, body.from_stage)
    except ActionError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    commit(request, session)
    return jsonable(project_dict(project, chain))

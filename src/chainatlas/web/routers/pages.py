"""Server-rendered pages. Each page takes its data from web/views.py (the same dicts the JSON API returns);
writes go through the services and answer with a redirect and a flash message (or an htmx fragment)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.services.accounts.auth import UserInfo
from chainatlas.web import actions, views
from chainatlas.web.security import commit, current_user, get_session, writer

router = APIRouter(include_in_schema=False)


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


# ---------------------------------------------------------------- reading pages


@router.get("/")
def chain_page(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = views.zone_and_chain(session)
    data = views.chain_map(session, zone, chain)
    return render(request, "chain.html", user, "chain", data=data, is_demo=data["is_demo"], title="产业链图谱")


@router.get("/nodes/{node_id}")
def node_page(node_id: str, request: Request, user: UserInfo = Depends(current_user),
              session: Session = Depends(get_session)):
    zone, chain = views.zone_and_chain(session)
    data = views.node_page(session, zone, chain, node_id)
    return render(request, "node.html", user, "chain", data=data, is_demo=data["is_demo"],
                  title=data["node"]["name_zh"])


@router.get("/enterprises/{enterprise_id}")
def enterprise_page(enterprise_id: int, request: Request, user: UserInfo = Depends(current_user),
                    session: Session = Depends(get_session)):
    _, chain = views.zone_and_chain(session)
    data = views.enterprise_page(session, chain, enterprise_id)
    return render(request, "enterprise.html", user, data=data, is_demo=data["is_demo"],
                  title=data["enterprise"]["name"])


@router.get("/search")
def search_page(request: Request, q: str = "", user: UserInfo = Depends(current_user),
                session: Session = Depends(get_session)):
    data = views.search(session, q)
    if request.headers.get("hx-request"):
        return render(request, "_search_results.html", user, data=data)
    return render(request, "search.html", user, data=data, q=q, is_demo=data["is_demo"], title="企业搜索")


@router.get("/gaps")
def gaps_page(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = views.zone_and_chain(session)
    data = views.gaps(session, zone, chain)
    return render(request, "gaps.html", user, "gaps", data=data, is_demo=data["is_demo"], title="缺链补链")


@router.get("/targets")
def targets_page(request: Request, node: str = "", user: UserInfo = Depends(current_user),
                 session: Session = Depends(get_session)):
    zone, chain = views.zone_and_chain(session)
    data = views.targets(session, zone, chain, node or None, username=user.username)
    return render(request, "targets.html", user, "targets", data=data, is_demo=data["is_demo"], title="目标企业")


@router.get("/leaders")
def leaders_page(request: Request, leader: str = "", user: UserInfo = Depends(current_user),
                 session: Session = Depends(get_session)):
    zone, chain = views.zone_and_chain(session)
    data = views.leaders(session, zone, chain, leader or None)
    return render(request, "leaders.html", user, "leaders", data=data, is_demo=data["is_demo"], title="链主企业")


@router.get("/pipeline")
def pipeline_page(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = views.zone_and_chain(session)
    data = views.pipeline(session, zone, chain)
    return render(request, "pipeline.html", user, "pipeline", data=data, is_demo=data["is_demo"],
                  title="项目台账", today=config.today().isoformat())


@router.get("/projects/{project_id}")
def project_page(project_id: int, request: Request, user: UserInfo = Depends(current_user),
                 session: Session = Depends(get_session)):
    _, chain = views.zone_and_chain(session)
    data = views.project_page(session, chain, project_id)
    return render(request, "project.html", user, "pipeline", data=data, is_demo=data["project"]["is_demo"],
                  title=data["project"]["name"], today=config.today().isoformat())


@router.get("/kpi")
def kpi_page(request: Request, year: int | None = None, as_of: date | None = None,
             user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = views.zone_and_chain(session)
    data = views.kpi(session, zone, chain, year, as_of)
    return render(request, "kpi.html", user, "kpi", data=data, is_demo=data["is_demo"], title="年度目标")


@router.get("/screen")
def screen_page(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = views.zone_and_chain(session)
    data = views.screen(session, zone, chain)
    return render(request, "screen.html", user, "screen", data=data, is_demo=data["is_demo"], title="大屏")


# ---------------------------------------------------------------- writes


@router.post("/enterprises/{enterprise_id}/placements")
def correct_placement(enterprise_id: int, request: Request, action: str = Form(...), node_id: str = Form(""),
                      note: str = Form(""), user: UserInfo = Depends(writer), session: Session = Depends(get_session)):
    _, chain = views.zone_and_chain(session)
    try:
        message = actions.correct_placement(session, chain, enterprise_id, action, node_id or None, note, user.username)
    except actions.ActionError as exc:
        session.rollback()
        flash(request, "error", str(exc))
    else:
        commit(request, session)
        flash(request, "success", message)
    return RedirectResponse(f"/enterprises/{enterprise_id}#placements", status_code=303)


@router.post("/targets/to-project")
def target_to_project(request: Request, enterprise_id: int = Form(...), node_id: str = Form(...),
                      user: UserInfo = Depends(writer), session: Session = Depends(get_session)):
    zone, _ = views.zone_and_chain(session)
    try:
        project = actions.target_to_project(session, zone, enterprise_id, node_id, user.username)
    except actions.ActionError as exc:
        session.rollback()
        if request.headers.get("hx-request"):
            return HTMLResponse(f'<span class="inline-error">{_esc(str(exc))}</span>', status_code=422)
        flash(request, "error", str(exc))
        return back(request, "/targets")
    commit(request, session)
    if request.headers.get("hx-request"):
        return HTMLResponse(
            f'<a class="btn btn-done" href="/projects/{project.id}">已加入台账 · {_esc(project.code)}</a>'
        )
    flash(request, "success", f"已加入项目台账：{project.name}（{project.code}）")
    return back(request, "/pipeline")


@router.post("/projects/{project_id}/stage")
def change_stage(project_id: int, request: Request, to_stage: str = Form(...), on: str = Form(""),
                 reason: str = Form(""), user: UserInfo = Depends(writer), session: Session = Depends(get_session)):
    try:
        project = actions.change_stage(session, project_id, to_stage, on, reason, user)
    except actions.ActionError as exc:
        session.rollback()
        flash(request, "error", str(exc))
    else:
        commit(request, session)
        flash(request, "success", f"项目“{project.name}”已变更为“{project.stage}”。")
    return back(request, f"/projects/{project_id}")


def _esc(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))

"""载体 pages and API: the site ledger with its map, a site's page (edit, hold, release, history), and the best
sites for a project or a chain node as an htmx fragment that the project and target pages load.

Writes go through services/sites (validated, audited); viewers and leaders see everything and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from statistics import median
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.domain import sites as dom
from chainatlas.services import sites
from chainatlas.services.accounts.auth import UserInfo
from chainatlas.services.sites.overview import sites_overview
from chainatlas.store.models import Project, Site
from chainatlas.web import views
from chainatlas.web.responses import flash, render
from chainatlas.web.security import commit, current_user, get_session, writer

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])
IDLE_MONTHS = 12
DEFAULT_NEED_MU = 50.0  # only when the zone has no project on the node's chain with a land need to take a median from


def _site_view(session: Session, site: Site) -> dict[str, Any]:
    projects = {p.id: p for p in session.scalars(select(Project).where(
        Project.id.in_({site.project_id, *(e.project_id for e in site.events)} - {None})))}
    holder = projects.get(site.project_id or 0)
    return {
        "code": site.code, "name": site.name, "kind": site.kind, "kind_zh": dom.KINDS[site.kind],
        "park_id": site.park_id, "status": site.status, "status_since": site.status_since,
        "area_m2": site.area_m2, "area_mu": round(dom.to_mu(site.area_m2, "m2"), 2), "land_use": site.land_use,
        "land_use_zh": dom.LAND_USES.get(site.land_use, ""), "plot_ratio": site.plot_ratio,
        "land_price_yuan_per_mu": site.land_price_yuan_per_mu, "floors": site.floors,
        "floor_load_kn_m2": site.floor_load_kn_m2, "clear_height_m": site.clear_height_m, "power_kva": site.power_kva,
        "rent_yuan_per_m2_month": None if site.rent_fen_per_m2_month is None else site.rent_fen_per_m2_month / 100,
        "available_from": site.available_from, "address": site.address, "lon": site.lon, "lat": site.lat,
        "output_yuan": site.output_yuan, "tax_yuan": site.tax_yuan, "figures_year": site.figures_year,
        "notes": site.notes, "source": site.source, "as_of": site.as_of, "is_demo": site.source == "demo",
        "project": {"id": holder.id, "code": holder.code, "name": holder.name} if holder else None,
        "events": [{"on": e.on, "from": e.from_status, "to": e.to_status, "by": e.by_user, "note": e.note,
                    "project": projects[e.project_id].name if e.project_id in projects else ""} for e in site.events],
    }


@router.get("/sites")
def sites_page(request: Request, kind: str = "", status: str = "", user: UserInfo = Depends(current_user),
               session: Session = Depends(get_session)):
    zone, _ = views.zone_and_chain(session)
    if kind and kind not in dom.KINDS or status and status not in dom.STATUSES:
        raise HTTPException(422, f"筛选条件无效：类型应为 {'、'.join(dom.KINDS.values())}，状态应为 {'、'.join(dom.STATUSES)}")
    rows = sites.list_sites(session, zone.id, kind=kind or None, status=status or None)
    parks = {p.id: p.name for p in zone.parks}
    data = sites_overview(session, zone.id, idle_months=IDLE_MONTHS)
    data["zone"] = {"id": zone.id, "name": zone.name}
    return render(request, "sites/list.html", user, "sites", data=data, rows=rows, parks=parks, kinds=dom.KINDS,
                  statuses=dom.STATUSES, kind=kind, status=status, is_demo=data["is_demo"], title="载体资源")


@router.get("/sites/match")
def match_fragment(request: Request, project: int | None = None, node: str = "",
                   need_mu: float | None = Query(None, gt=0, le=100_000), user: UserInfo = Depends(current_user),
                   session: Session = Depends(get_session)):
    """The best sites for a project (its ledger needs) or for a node (a land need in 亩, default: the median
    land need of the zone's projects, said on the page)."""
    zone, chain = views.zone_and_chain(session)
    project_row, need_note, error, ranked = None, "", "", []
    try:
        if project is not None:
            project_row = session.get(Project, project)
            if project_row is None:
                raise HTTPException(404, "找不到该项目。")
            need = sites.need_for_project(session, project_row)
            need_note = f"按项目台账：用地{project_row.land_mu:g}亩，{project_row.project_type or '新建'}项目"
        else:
            if node and node not in chain.nodes:
                raise HTTPException(404, f"产业链中没有环节“{node}”。")
            if need_mu is None:
                need_mu, need_note = _typical_need(session, zone.id)
            else:
                need_note = f"按输入：用地{need_mu:g}亩"
            need = sites.need_from_args(need_mu=need_mu, node_id=node)
        ranked = sites.match_sites(session, zone.id, need, chain_id=chain.id,
                                   project_id=project_row.id if project_row else None, limit=5)
    except sites.MatchError as exc:
        error = str(exc)
    parks = {p.id: p.name for p in zone.parks}
    return render(request, "sites/_matches.html", user, matches=ranked, parks=parks, project=project_row,
                  node=node, need_mu=need_mu, need_note=need_note, error=error)


def _typical_need(session: Session, zone_id: str) -> tuple[float, str]:
    needs = [mu for mu in session.scalars(select(Project.land_mu).where(Project.zone_id == zone_id,
                                                                         Project.land_mu > 0))]
    if needs:
        value = float(median(needs))
        return value, f"按本区{len(needs)}个项目用地需求的中位数：{value:g}亩（可修改）"
    return DEFAULT_NEED_MU, f"本区项目台账中尚无用地需求，暂按{DEFAULT_NEED_MU:g}亩（可修改）"


@router.get("/sites/{code}")
def site_page(code: str, request: Request, user: UserInfo = Depends(current_user),
              session: Session = Depends(get_session)):
    zone, _ = views.zone_and_chain(session)
    site = _site_or_404(session, code)
    projects = list(session.scalars(select(Project).where(Project.zone_id == zone.id, Project.stage.not_in(
        ("终止", "投产"))).order_by(Project.code.desc())))
    return render(request, "sites/site.html", user, "sites", site=_site_view(session, site), projects=projects,
                  parks={p.id: p.name for p in zone.parks}, statuses=dom.STATUSES, land_uses=dom.LAND_USES,
                  is_demo=site.source == "demo", title=site.name)


def _site_or_404(session: Session, code: str) -> Site:
    try:
        return sites.get_site(session, code)
    except sites.SiteNotFound as exc:
        raise HTTPException(404, str(exc)) from None


_NUMBERS = {"area_m2": float, "plot_ratio": float, "floors": int, "floor_load_kn_m2": float, "clear_height_m": float,
            "power_kva": int, "lon": float, "lat": float, "figures_year": int}


@router.post("/sites/{code}")
async def edit_site(code: str, request: Request, user: UserInfo = Depends(writer),
                    session: Session = Depends(get_session)):
    form = await request.form()
    changes: dict[str, Any] = {}
    try:
        for key in ("name", "address", "notes", "land_use"):
            if key in form:
                changes[key] = str(form[key]).strip()
        if "park_id" in form:
            changes["park_id"] = str(form["park_id"]) or None
        for key, conv in _NUMBERS.items():
            if key in form:
                text = str(form[key]).strip()
                changes[key] = conv(float(text)) if text else None
        if "available_from" in form:
            text = str(form["available_from"]).strip()
            changes["available_from"] = date.fromisoformat(text) if text else None
        if "rent_yuan_per_m2_month" in form:
            text = str(form["rent_yuan_per_m2_month"]).strip()
            changes["rent_fen_per_m2_month"] = round(float(text) * 100) if text else None
        if "land_price_wan_per_mu" in form:
            text = str(form["land_price_wan_per_mu"]).strip()
            changes["land_price_yuan_per_mu"] = round(float(text) * 10_000) if text else None
        if changes.get("land_use"):
            changes["land_use"] = dom.parse_land_use(changes["land_use"])
        sites.update_site(session, code, by_user=user.username, **changes)
    except (ValueError, sites.SiteError) as exc:  # float('abc'), a bad date, a refused change
        session.rollback()
        flash(request, "error", f"未保存：{exc}")
    else:
        commit(request, session)
        flash(request, "success", "载体信息已保存。")
    return RedirectResponse(f"/sites/{code}", status_code=303)


@router.post("/sites/{code}/hold")
async def hold(code: str, request: Request, user: UserInfo = Depends(writer), session: Session = Depends(get_session)):
    form = await request.form()
    project_code = str(form.get("project_code", "")).strip()
    back_to = str(form.get("next", "")) or f"/sites/{code}"
    _write(request, session, lambda: sites.hold_site(session, code, project_code, by_user=user.username,
                                                     note=str(form.get("note", ""))),
           lambda site: f"载体“{site.name}”已为项目 {project_code} 预留（洽谈中）。")
    return RedirectResponse(back_to if back_to.startswith("/") and not back_to.startswith("//") else "/sites",
                            status_code=303)


def _write(request: Request, session: Session, work: Callable[[], Site], message: Callable[[Site], str]) -> None:
    """A form write: commit with a success message, or roll back with the refusal's own words."""
    try:
        site = work()
    except (ValueError, sites.SiteError) as exc:
        session.rollback()
        flash(request, "error", str(exc))
    else:
        commit(request, session)
        flash(request, "success", message(site))


@router.post("/sites/{code}/status")
async def change_status(code: str, request: Request, user: UserInfo = Depends(writer),
                        session: Session = Depends(get_session)):
    form = await request.form()
    _write(request, session, lambda: sites.set_status(session, code, str(form.get("status", "")), by_user=user.username,
                                                      project_code=str(form.get("project_code", "")).strip() or None,
                                                      note=str(form.get("note", ""))),
           lambda site: f"载体“{site.name}”状态已改为“{site.status}”。")
    return RedirectResponse(f"/sites/{code}", status_code=303)


# ---------------------------------------------------------------- JSON (same services, same checks)


@api.get("/sites", summary="载体列表与地图数据 (sites, map points, available area by park)")
def sites_json(kind: str | None = Query(None, pattern="^(land|factory|office)$"), status: str | None = None,
               user: UserInfo = Depends(current_user), session: Session = Depends(get_session)) -> dict:
    zone, _ = views.zone_and_chain(session)
    if status is not None and status not in dom.STATUSES:
        raise HTTPException(422, f"状态应为 {'、'.join(dom.STATUSES)} 之一")
    rows = sites.list_sites(session, zone.id, kind=kind, status=status)
    return {"sites": [views.jsonable(_site_view(session, s)) for s in rows],
            "overview": views.jsonable(sites_overview(session, zone.id, idle_months=IDLE_MONTHS))}


@api.get("/sites/match", summary="智慧选址：为项目或需求排出载体 (rank sites for a need)")
def match_json(project: str | None = None, need_mu: float | None = Query(None, gt=0, le=100_000),
               need_m2: float | None = Query(None, gt=0, le=10_000_000), node: str = "",
               kind: str | None = Query(None, pattern="^(land|factory|office)$"),
               user: UserInfo = Depends(current_user), session: Session = Depends(get_session)) -> dict:
    zone, chain = views.zone_and_chain(session)
    try:
        project_id = None
        if project:
            row = session.scalar(select(Project).where(Project.code == project))
            if row is None:
                raise HTTPException(404, f"项目台账中没有项目“{project}”")
            need, project_id = sites.need_for_project(session, row), row.id
        else:
            if node and node not in chain.nodes:
                raise HTTPException(404, f"产业链中没有环节“{node}”")
            need = sites.need_from_args(need_mu=need_mu, need_m2=need_m2, kind=kind, node_id=node)
        ranked = sites.match_sites(session, zone.id, need, chain_id=chain.id, project_id=project_id)
    except sites.MatchError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"need_m2": need.area_m2, "need_mu": round(need.area_mu, 2), "matches": [m.as_dict() for m in ranked]}


class HoldIn(BaseModel):
    project_code: str = Field(min_length=1, max_length=20, description="项目编号")
    note: str = Field("", max_length=500)


@api.post("/sites/{code}/hold", summary="为项目预留载体 (hold a site for a project)")
def hold_json(code: str, body: HoldIn, request: Request, user: UserInfo = Depends(writer),
              session: Session = Depends(get_session)) -> dict:
    try:
        site = sites.hold_site(session, code, body.project_code, by_user=user.username, note=body.note)
    except sites.SiteNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except sites.SiteConflict as exc:
        session.rollback()
        raise HTTPException(409, str(exc)) from None
    except sites.SiteError as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    commit(request, session)
    return {"code": site.code, "status": site.status, "project_code": body.project_code}


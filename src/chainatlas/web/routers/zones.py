"""开发区管理: administrators create and edit zones in the browser — division codes, parks, address words — as
`chainatlas zone add` does; saving recomputes which firms in the database are in each zone."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from chainatlas.services.accounts import UserInfo
from chainatlas.services import catalog as zones
from chainatlas.web.responses import flash, render
from chainatlas.web.security import admin, commit, current_user, get_session

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["zones"])


def _lines(text: str) -> list[str]:
    return [x.strip() for x in text.replace("，", ",").replace("\n", ",").split(",") if x.strip()]


def zone_list(session: Session) -> list[dict]:
    return [zones.zone_dict(z) | {"firms": n} for z, n in zones.list_zones(session)]


def _save(session: Session, name: str, divisions: str, zone_id: str, parks: str, address_words: str,
          aliases: str, by_user: str) -> str:
    definition = zones.zone_from_divisions(
        name, _lines(divisions), zone_id=zone_id.strip() or None, parks=[p for p in parks.splitlines() if p.strip()],
        address_keywords=_lines(address_words), aliases=_lines(aliases))
    zone = zones.save_zone(session, definition, by_user=by_user)
    return f"已保存开发区“{zone.name}”：库内企业中 {zones.zone_firm_count(session, zone.id):,} 家在区内。"


def _write(request: Request, session: Session, work: Callable[[], str]) -> RedirectResponse:
    try:
        message = work()
    except (zones.ZoneError, zones.ZoneNotFound) as exc:
        session.rollback()
        flash(request, "error", str(exc))
    else:
        commit(request, session)
        flash(request, "success", message)
    return RedirectResponse("/zones", status_code=303)


@router.get("/zones")
def zones_page(request: Request, user: UserInfo = Depends(admin), session: Session = Depends(get_session)):
    return render(request, "zones/zones.html", user, "zones", zones=zone_list(session), title="开发区管理")


@router.post("/zones")
def save_zone_form(request: Request, name: str = Form(""), divisions: str = Form(""), zone_id: str = Form(""),
                   parks: str = Form(""), address_words: str = Form(""), aliases: str = Form(""),
                   user: UserInfo = Depends(admin), session: Session = Depends(get_session)):
    return _write(request, session,
                  lambda: _save(session, name, divisions, zone_id, parks, address_words, aliases, user.username))


@router.post("/zones/{zone_id}/remove")
def remove_zone_form(zone_id: str, request: Request, user: UserInfo = Depends(admin),
                     session: Session = Depends(get_session)):
    return _write(request, session,
                  lambda: f"已删除开发区“{zones.remove_zone(session, zone_id, by_user=user.username)}”。")


class ZoneIn(BaseModel):
    name: str
    divisions: list[str] = Field(description="GB/T 2260 代码：省/市/区县 6 位，街道乡镇 9 位")
    id: str = ""
    parks: list[str] = Field(default_factory=list, description="园区：名称 或 名称:关键词1+关键词2")
    address_keywords: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)


@api.get("/zones", summary="开发区列表 (zones, with firm counts)")
def zones_api(user: UserInfo = Depends(current_user), session: Session = Depends(get_session)) -> list[dict]:
    return zone_list(session)


@api.post("/zones", summary="新建或修改开发区 (add or change a zone; admin)")
def save_zone_api(body: ZoneIn, request: Request, user: UserInfo = Depends(admin),
                  session: Session = Depends(get_session)) -> dict:
    try:
        definition = zones.zone_from_divisions(body.name, body.divisions, zone_id=body.id or None, parks=body.parks,
                                               address_keywords=body.address_keywords, aliases=body.aliases)
        zone = zones.save_zone(session, definition, by_user=user.username)
        result = zones.zone_dict(zone) | {"firms": zones.zone_firm_count(session, zone.id)}
    except zones.ZoneError as exc:
        session.rollback()
        raise HTTPException(400, str(exc)) from None
    commit(request, session)
    return result

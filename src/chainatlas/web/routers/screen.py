"""大屏: the leadership dashboard, built from the other resources' views (chain map, gaps, pipeline, targets)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain
from chainatlas.services.accounts import UserInfo
from chainatlas.services.sites import available_panel, land_balance
from chainatlas.store.models import Site, Zone
from chainatlas.web import theme
from chainatlas.web.responses import cached_json, render
from chainatlas.web.routers.chain import chain_map
from chainatlas.web.routers.gaps import gaps
from chainatlas.web.routers.kpi import kpi
from chainatlas.web.routers.projects import pipeline
from chainatlas.web.security import current_user, get_session
from chainatlas.web.views import zone_and_chain

router = APIRouter(include_in_schema=False)
NAME_CHARS = 14  # a project name in the 最新签约 table: longer ones end in … and show whole as a tooltip
ALERTS = 3  # warnings on the screen; the KPI page lists them all


def _split_unit(text: str) -> tuple[str, str]:
    """151.30亿元 → (151.30, 亿元); 14个 → (14, 个)."""
    for unit in ("亿元", "万元", "元", "个"):
        if text.endswith(unit):
            return text.removesuffix(unit), unit
    return text, ""


def _short(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"

api = APIRouter(prefix="/api", tags=["api"])


def screen(session: Session, zone: Zone, chain: Chain) -> dict:
    """The leadership dashboard: chain strength, top gaps, pipeline funnel and this year's targets."""
    out: dict[str, Any] = {"zone": {"id": zone.id, "name": zone.name},
                           "chain": {"id": chain.id, "name_zh": chain.name_zh}, "colors": theme.VERDICT_COLORS}
    demo = False
    cmap = chain_map(session, zone, chain)
    out["map"] = cmap
    out["gaps"] = gaps(session, zone, chain)["gaps"][:8]
    demo |= cmap["is_demo"]
    board = pipeline(session, zone, chain)
    out["funnel"] = [{"stage": c["stage"], "count": len(c["projects"])} for c in board["columns"]]
    out["pipeline_total"], out["pipeline_investment_zh"] = board["total"], board["total_investment_zh"]
    recent = sorted((p for p in board["projects"] if p["signed_on"]), key=lambda p: p["signed_on"], reverse=True)[:5]
    out["recent"] = [dict(p, short_name=_short(p["name"].removesuffix("（演示）"), NAME_CHARS)) for p in recent]
    k = kpi(session, zone, chain, None)
    rows = [r for r in k["rows"] if r["target"] is not None] or k["rows"][:3]
    # A number and its unit apart, so a tile never wraps 12.00亿 / 元.
    rows = [dict(r, actual_num=_split_unit(r["actual_zh"])[0], actual_unit=_split_unit(r["actual_zh"])[1]) for r in rows]
    # Target warnings first (the same sentences as the KPI page), then the longest-overdue projects.
    alerts = sorted(k["alerts"], key=lambda a: a["kind"] != "target_at_risk")
    out["kpi"] = {"year": k["year"], "rows": rows, "alerts": alerts[:ALERTS], "alert_count": len(alerts)}
    demo |= board["is_demo"] or k["is_demo"]
    out["sites"] = sites_panel(session, zone.id, k["year"])
    out["is_demo"] = demo
    return out


def sites_panel(session: Session, zone_id: str, year: int) -> dict[str, Any] | None:
    """The 载体 panel: what the zone can offer now by kind, and the year's land balance (None: no site ledger)."""
    rows = available_panel(session, zone_id)
    if not rows and session.scalar(select(Site.id).where(Site.zone_id == zone_id).limit(1)) is None:
        return None
    balance = land_balance(session, zone_id, year)
    return {"land_mu": f"{sum(r['land_mu'] for r in rows):,.0f}", "factory_m2": f"{sum(r['factory_m2'] for r in rows):,.0f}",
            "office_m2": f"{sum(r['office_m2'] for r in rows):,.0f}", "need_mu": f"{balance.need_mu:,.0f}",
            "short": balance.need_mu > balance.available_mu}


@router.get("/screen")
def screen_page(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = zone_and_chain(session)
    data = screen(session, zone, chain)
    return render(request, "screen/screen.html", user, "screen", data=data, is_demo=data["is_demo"], title="大屏")


@api.get("/screen", summary="大屏数据 (leadership dashboard)")
async def screen_json(request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: screen(s, *zone_and_chain(s)))

"""年度目标: the zone's yearly targets against progress, month by month, with the alerts."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import Chain
from chainatlas.services.accounts import UserInfo
from chainatlas.services import pipeline as kpi_service
from chainatlas.store.models import Zone
from chainatlas.web.validation import YEAR
from chainatlas.web.responses import cached_json, render
from chainatlas.web.security import current_user, get_session
from chainatlas.web.views import jsonable, zone_and_chain

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def kpi(session: Session, zone: Zone, chain: Chain, year: int | None, as_of: date | None = None) -> dict:
    years = kpi_service.target_years(session, zone.id)
    this_year = config.today().year
    if year is None:
        year = kpi_service.default_year(session, zone.id, this_year)
    report = kpi_service.kpi_report(session, zone.id, year, as_of, chain_id=chain.id)
    rows = []
    for r in report.rows:
        cumulative, running = [], 0
        for v in r.monthly:
            running += v
            cumulative.append(running)
        rows.append(dict(jsonable(r), cumulative=cumulative,
                         target_zh=kpi_service.format_measure(r.unit, r.target),
                         actual_zh=kpi_service.format_measure(r.unit, r.actual),
                         projection_zh=kpi_service.format_measure(r.unit, r.projection),
                         chart_scale=(1 / 100_000_000) if r.unit == "元" else 1,
                         chart_unit="亿元" if r.unit == "元" else "个"))
    return {"zone": {"id": zone.id, "name": zone.name}, "chain": {"id": chain.id, "name_zh": chain.name_zh},
            "year": year, "years": sorted(set(years) | {this_year}), "as_of": report.as_of,
            "months_elapsed": report.months_elapsed, "method_zh": report.method_zh,
            "project_count": report.project_count, "rows": rows, "alerts": jsonable(report.alerts),
            "is_demo": bool(report.has_demo)}


@router.get("/kpi")
def kpi_page(request: Request, year: int | None = YEAR, as_of: date | None = None,
             user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = zone_and_chain(session)
    data = kpi(session, zone, chain, year, as_of)
    return render(request, "kpi/kpi.html", user, "kpi", data=data, is_demo=data["is_demo"], title="年度目标")


@api.get("/kpi", summary="年度目标与进度 (yearly targets vs progress)")
async def kpi_json(request: Request, year: int | None = YEAR, as_of: date | None = None,
                   user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: kpi(s, *zone_and_chain(s), year, as_of))

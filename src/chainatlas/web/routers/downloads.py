"""Downloads made by the report services (issue 9): the A0 wall chart, Excel exports, the monthly brief.

Reading, so every signed-in role may download; the files say 演示数据 themselves when demo data is inside.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.services import reports as brief_service

from chainatlas.services import reports

from chainatlas.services import reports as wallchart_service
from chainatlas.services.accounts import UserInfo
from chainatlas.engines.wall_layout import PAPER
from chainatlas.web.validation import PDF, XLSX_FILE, YEAR
from chainatlas.web.security import current_user, get_session
from chainatlas.web.views import zone_and_chain

router = APIRouter(prefix="/downloads", tags=["downloads"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _file(body: bytes, media: str, filename: str) -> Response:
    # RFC 5987 so Chinese file names survive every browser.
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


@router.get("/wallchart", summary="产业链挂图 PDF (wall chart)", responses=PDF)
def wallchart(size: str = "A0", user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = zone_and_chain(session)
    if size not in PAPER:  # the sizes the layout has (A4 is too small for a chain's wall chart)
        raise HTTPException(422, f"纸张尺寸“{size}”无效，可选 {'、'.join(PAPER)}。")
    return _file(wallchart_service.wallchart_pdf(session, zone.id, chain.id, size), "application/pdf",
                 f"{zone.name}{chain.name_zh}产业链挂图_{size}.pdf")


@router.get("/excel/{kind}", summary="Excel 导出 (firms / gaps / targets / ledger / kpi / check)", responses=XLSX_FILE)
def excel(kind: str, year: int | None = YEAR, user: UserInfo = Depends(current_user),
          session: Session = Depends(get_session)):
    zone, chain = zone_and_chain(session)
    if kind not in reports.EXPORT_KINDS:
        raise HTTPException(404, f"没有“{kind}”这种导出，可选：{'、'.join(reports.EXPORT_KINDS)}。")
    body = reports.export_bytes(session, kind, zone.id, chain_id=chain.id, year=year, username=user.username)
    return _file(body, XLSX, f"{zone.name}_{reports.EXPORT_TITLES[kind]}_{config.today().isoformat()}.xlsx")


@router.get("/brief", summary="月度招商简报 PDF (monthly brief)", responses=PDF)
def brief(month: str = "", user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = zone_and_chain(session)
    month = month or config.today().strftime("%Y-%m")
    try:
        parsed = brief_service.Month.parse(month)
    except ValueError:
        raise HTTPException(422, f"月份“{month[:20]}”无效，请按 年-月 填写，例如 2024-06。") from None
    if not 2000 <= parsed.year <= 2100:
        raise HTTPException(422, f"月份“{month[:20]}”的年份应在 2000–2100 之间。")
    return _file(brief_service.brief_pdf(session, zone.id, month, chain.id), "application/pdf",
                 f"{zone.name}招商月报_{month}.pdf")

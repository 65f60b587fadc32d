"""缺链补链: the chain's gaps and opportunities, ranked by the diagnosis."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain
from chainatlas.services.accounts.auth import UserInfo
from chainatlas.services.catalog.chains import node_ref
from chainatlas.store.models import Zone
from chainatlas.web import theme
from chainatlas.web.responses import cached_json, render
from chainatlas.web.security import current_user, get_session
from chainatlas.web.views import diagnose, jsonable, zone_and_chain

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def gaps(session: Session, zone: Zone, chain: Chain) -> dict:
    diag = diagnose(session, zone, chain)
    rows = []
    for g in diag.gaps:
        s = diag.nodes.get(g.node_id)
        rows.append(dict(
            jsonable(g), stage_zh=chain.stage_name(chain.nodes[g.node_id].stage) if g.node_id in chain.nodes else "",
            segment=node_ref(chain, chain.segment_of(g.node_id).id) if g.node_id in chain.nodes else None,
            verdict=s.verdict if s else "未知", firm_count=s.firm_count if s else 0,
            density=s.density if s else None, core=s.core if s else False,
        ))
    return {"zone": {"id": zone.id, "name": zone.name}, "chain": {"id": chain.id, "name_zh": chain.name_zh},
            "gaps": rows, "colors": theme.VERDICT_COLORS, "is_demo": bool(diag.is_demo)}


@router.get("/gaps")
def gaps_page(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = zone_and_chain(session)
    data = gaps(session, zone, chain)
    return render(request, "gaps/gaps.html", user, "gaps", data=data, is_demo=data["is_demo"], title="缺链补链")


@api.get("/gaps", summary="缺链补链 (gaps and opportunities)")
async def gaps_json(request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: gaps(s, *zone_and_chain(s)))

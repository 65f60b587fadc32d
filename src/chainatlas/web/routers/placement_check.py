"""归链核实: the zone's firms to check on the chain — placements inferred from a generic line, and firms placed
nowhere with the chain words their text holds. Decisions go through the firm's correction form
(routers/enterprises.py), which brings the officer back here."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain
from chainatlas.services.accounts import UserInfo
from chainatlas.services.placement import placement_check
from chainatlas.store.models import Zone
from chainatlas.web.responses import cached_json, render
from chainatlas.web.security import current_user, get_session
from chainatlas.web.views import zone_and_chain

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])

PAGE_LIMIT = 200  # rows of each list shown at once; deciding them brings the next ones up


def check_view(session: Session, zone: Zone, chain: Chain, limit: int = PAGE_LIMIT) -> dict:
    check = placement_check(session, zone.id, chain, limit)
    return {
        "zone": {"id": zone.id, "name": zone.name}, "chain": {"id": chain.id, "name_zh": chain.name_zh},
        **asdict(check),
        "node_names": {n.id: n.name_zh for n in chain.nodes.values()},
    }


@router.get("/placements/check")
def check_page(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = zone_and_chain(session)
    data = check_view(session, zone, chain)
    return render(request, "placement_check/check.html", user, "chain", data=data, title="归链核实")


@api.get("/placements/check", summary="归链核实：泛称推断的归链与未挂链企业 (placements to check)")
async def check_json(request: Request, limit: int = Query(PAGE_LIMIT, ge=1, le=5000),
                     user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: check_view(s, *zone_and_chain(s), limit=limit))

"""链主企业: a chain leader's suppliers by node, local and outside the zone, and its local supply ratio."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain
from chainatlas.domain.money import format_yuan
from chainatlas.services import enterprises
from chainatlas.services.accounts import UserInfo
from chainatlas.services import analysis as diagnosis
from chainatlas.services import catalog as places
from chainatlas.store.models import Zone
from chainatlas.web.responses import cached_json, render
from chainatlas.web.security import current_user, get_session
from chainatlas.web.views import jsonable, zone_and_chain

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def leaders(session: Session, zone: Zone, chain: Chain, leader: str | None) -> dict:
    firms = enterprises.leader_firms(session, zone.id)
    choices = [{"id": e.id, "name": e.short_name or e.name, "is_demo": e.is_demo} for e in firms]
    chosen = leader or (str(firms[0].id) if firms else None)
    try:
        view = _leader_view(session, chain, diagnosis.leader_view(session, zone.id, chosen, chain.id)) if chosen else None
    except LookupError as exc:  # no such leader in the zone: the message lists the zone's leaders
        raise HTTPException(404, str(exc)) from None
    return {"zone": {"id": zone.id, "name": zone.name}, "chain": {"id": chain.id, "name_zh": chain.name_zh},
            "leaders": choices, "chosen": chosen, "view": view,
            "is_demo": any(c["is_demo"] for c in choices) or bool(view and view["is_demo"])}


def _leader_view(session: Session, chain: Chain, view: Any) -> dict:
    links = [link for group in view.suppliers_by_node.values() for link in group]
    ids = [link.enterprise_id for link in links if link.enterprise_id is not None]
    demo_ids = enterprises.demo_ids(session, ids)
    by_node = []
    for node_id, group in view.suppliers_by_node.items():
        name = chain.nodes[node_id].name_zh if node_id in chain.nodes else "未定环节"
        local = sum(1 for link in group if link.local)
        by_node.append({"node_id": node_id, "name_zh": name, "local": local, "outside": len(group) - local})
    by_node.sort(key=lambda r: (-(r["local"] + r["outside"]), r["name_zh"]))
    suppliers = sorted(
        ({"enterprise_id": link.enterprise_id, "name": link.name, "node_id": link.node_id, "node_name": link.node_name,
          "local": link.local, "value_yuan": link.value_yuan, "value_zh": format_yuan(link.value_yuan),
          "product": link.product, "is_demo": link.enterprise_id in demo_ids} for link in links),
        key=lambda r: (r["node_name"], not r["local"], r["name"]),
    )
    return {
        "leader_id": view.leader_id, "leader_name": view.leader_name,
        "local_ratio_count": view.local_ratio_count, "local_ratio_value": view.local_ratio_value,
        "supplier_count": view.supplier_count, "value_known_count": view.value_known_count,
        "reasons": list(view.reasons), "by_node": by_node, "suppliers": suppliers,
        "outside_nodes": [dict(jsonable(o), value_zh=format_yuan(o.value_yuan)) for o in view.outside_nodes],
        "supplier_map": jsonable(places.firm_points(session, ids, view.zone_id)),
        "is_demo": bool(view.is_demo),
    }


@router.get("/leaders")
def leaders_page(request: Request, leader: str = "", user: UserInfo = Depends(current_user),
                 session: Session = Depends(get_session)):
    zone, chain = zone_and_chain(session)
    data = leaders(session, zone, chain, leader or None)
    return render(request, "leaders/leaders.html", user, "leaders", data=data, is_demo=data["is_demo"], title="链主企业")


@api.get("/leaders", summary="链主企业 (a leader's suppliers and local supply ratio)")
async def leaders_json(request: Request, leader: str = "", user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: leaders(s, *zone_and_chain(s), leader or None))

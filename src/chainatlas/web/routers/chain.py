"""产业链图谱 and its nodes: the chain map (stages → segments → nodes with verdict and firm count) and a node's
page (local firms with the placement that puts them there, the gap, the ranked targets)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain
from chainatlas.domain.money import format_yuan
from chainatlas.services import enterprises
from chainatlas.services.enterprises.provenance import provenances
from chainatlas.services.accounts.auth import UserInfo
from chainatlas.services.catalog.chains import node_ref
from chainatlas.services.placement.placements import effective_placements
from chainatlas.services.catalog import places
from chainatlas.services.pipeline import projects as pipeline_service
from chainatlas.services.pipeline.projects import project_dict
from chainatlas.services.targets import ranking as targets_service
from chainatlas.store.models import Zone
from chainatlas.web import theme
from chainatlas.web.responses import cached_json, render
from chainatlas.web.security import current_user, get_session
from chainatlas.web.views import diagnose, jsonable, zone_and_chain

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def chain_map(session: Session, zone: Zone, chain: Chain) -> dict:
    """Stages → segments → nodes with verdict and local firm count, for the chain map and the big screen."""
    diag = diagnose(session, zone, chain)
    strengths = diag.nodes
    projects = pipeline_service.projects_by_node(session, zone.id, chain.id)

    def node_item(node_id: str) -> dict:
        n = chain.nodes[node_id]
        s = strengths.get(node_id)
        verdict = s.verdict if s else "未知"
        return {
            "id": n.id, "name_zh": n.name_zh, "name_en": n.name_en, "core": n.core, "verdict": verdict,
            "color": theme.VERDICT_COLORS.get(verdict, theme.VERDICT_COLORS["未知"]),
            "firm_count": s.firm_count if s else 0, "leader_count": s.leader_count if s else 0,
            "output_zh": format_yuan(s.output_yuan) if s else "—",
            "lq": s.lq if s else None,
            # Projects signed (or further) for the node: a node without firms yet is not empty when one is coming.
            "signed_projects": sum(1 for p in projects.get(node_id, []) if p.stage in pipeline_service.SIGNED_OR_LATER),
            "children": [node_item(c.id) for c in chain.children(node_id)],
        }

    stages = [
        {"id": st.id, "name_zh": st.name_zh, "segments": [node_item(seg.id) for seg in chain.by_stage(st.id)]}
        for st in chain.stages
    ]
    counts = {v: 0 for v in theme.VERDICTS}
    for s in strengths.values():
        counts[s.verdict] = counts.get(s.verdict, 0) + 1
    return {
        "zone": {"id": zone.id, "name": zone.name}, "chain": {"id": chain.id, "name_zh": chain.name_zh},
        "stages": stages, "verdict_counts": counts, "local_firms": enterprises.local_firm_count(session, zone.id),
        "node_count": len(chain.nodes), "colors": theme.VERDICT_COLORS, "is_demo": bool(diag.is_demo),
        "generated_at": diag.generated_at,
    }


def node_view(session: Session, zone: Zone, chain: Chain, node_id: str, target_limit: int = 20) -> dict:
    if node_id not in chain.nodes:
        raise HTTPException(404, f"产业链“{chain.name_zh}”中没有节点“{node_id}”。")
    n = chain.nodes[node_id]
    diag = diagnose(session, zone, chain)
    s = diag.nodes.get(node_id)
    firm_ids = list(s.enterprise_ids) if s else []
    firms = enterprises.enterprises_by_id(session, firm_ids)
    placements = effective_placements(session, chain.id, firm_ids) if firm_ids else {}
    # A segment's firms are mostly placed on its sub-nodes: show the placement that puts the firm here.
    family = [node_id] + [d.id for d in chain.descendants(node_id)]
    found = provenances(session, [e.source for e in firms])
    rows = []
    for e in sorted(firms, key=lambda e: (-(e.registered_capital_yuan or 0), e.name)):
        here = sorted((p for p in placements.get(e.id, []) if p.node_id in family),
                      key=lambda p: (family.index(p.node_id), -p.score))
        p = here[0] if here else None
        rows.append(dict(enterprises.firm_brief(e),
                         placement=dict(jsonable(p), node=node_ref(chain, p.node_id)) if p else None,
                         provenance=jsonable(found[e.source])))
    targets = jsonable(targets_service.rank_targets(session, zone.id, node_id, chain.id, limit=target_limit))
    target_map = jsonable(places.firm_points(session, [t["enterprise_id"] for t in targets if not t["vetoed"]]))
    gap = next((g for g in diag.gaps if g.node_id == node_id), None)
    return {
        "zone": {"id": zone.id, "name": zone.name}, "chain": {"id": chain.id, "name_zh": chain.name_zh},
        "node": {
            "id": n.id, "name_zh": n.name_zh, "name_en": n.name_en, "stage": n.stage,
            "stage_zh": chain.stage_name(n.stage), "core": n.core, "description": n.description,
            "parent": node_ref(chain, n.parent), "segment": node_ref(chain, chain.segment_of(n.id).id),
            "children": [node_ref(chain, c.id) for c in chain.children(n.id)],
            "keywords": list(n.keywords),
        },
        "strength": jsonable(s) if s else None,
        "strength_zh": {
            "capital": format_yuan(s.capital_yuan), "revenue": format_yuan(s.revenue_yuan),
            "output": format_yuan(s.output_yuan),
        } if s else None,
        "gap": jsonable(gap) if gap else None,
        "firms": rows, "targets": targets, "target_map": target_map,
        "projects": [project_dict(p, chain) for p in pipeline_service.projects_by_node(session, zone.id, chain.id)
                     .get(node_id, [])],
        "is_demo": bool(diag.is_demo) or any(r["is_demo"] for r in rows),
    }


@router.get("/")
def chain_page(request: Request, user: UserInfo = Depends(current_user), session: Session = Depends(get_session)):
    zone, chain = zone_and_chain(session)
    data = chain_map(session, zone, chain)
    return render(request, "chain/chain.html", user, "chain", data=data, is_demo=data["is_demo"], title="产业链图谱")


@router.get("/nodes/{node_id}")
def node_page(node_id: str, request: Request, user: UserInfo = Depends(current_user),
              session: Session = Depends(get_session)):
    zone, chain = zone_and_chain(session)
    data = node_view(session, zone, chain, node_id)
    return render(request, "chain/node.html", user, "chain", data=data, is_demo=data["is_demo"],
                  title=data["node"]["name_zh"])


@api.get("/chain-map", summary="产业链图谱 (chain map: stages, segments, nodes, verdicts)")
async def chain_map_json(request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: chain_map(s, *zone_and_chain(s)))


@api.get("/nodes/{node_id}", summary="节点详情 (node: local firms, verdict, targets)")
async def node_json(node_id: str, request: Request, user: UserInfo = Depends(current_user)) -> Response:
    return await cached_json(request, lambda s: node_view(s, *zone_and_chain(s), node_id))

"""What each page shows, as plain JSON-ready dicts: the page templates render them and /api/… returns them as is,
so the API and the pages can never disagree. The numbers come from the services; this module only arranges them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any

from fastapi import HTTPException
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from chainatlas import config
from chainatlas.domain.chain import Chain, load_chain
from chainatlas.domain.money import format_yuan
from chainatlas.domain.uscc import normalize as normalize_uscc
from chainatlas.services.analysis import diagnosis
from chainatlas.services.pipeline import kpi as kpi_service
from chainatlas.services.pipeline import projects as pipeline_service
from chainatlas.services.placement import placements as placement
from chainatlas.services.targets import ranking as targets_service
from chainatlas.services.catalog.zones import ZoneNotFound, resolve_zone
from chainatlas.store.models import (
    AuditEntry,
    Enterprise,
    EnterpriseAlias,
    Project,
    Region,
    Relation,
    YearlyTarget,
    Zone,
)
from chainatlas.web import theme


def jsonable(value: Any) -> Any:
    """Dataclasses, dates and nested containers to JSON types (FastAPI would do it too; templates need it first)."""
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


# ---------------------------------------------------------------- zone and chain in force


def zone_and_chain(session: Session, zone_id: str | None = None, chain_id: str | None = None) -> tuple[Zone, Chain]:
    try:
        zone = resolve_zone(session, zone_id or config.default_zone())
    except ZoneNotFound as exc:
        raise HTTPException(404, f"{exc}。也可在“数据导入”页导入企业名单。") from None
    return zone, load_chain(chain_id or config.default_chain())


def data_version(session: Session) -> int:
    """Every user write leaves an audit entry, so the newest audit id changes whenever the data does."""
    return session.scalar(select(func.max(AuditEntry.id))) or 0


class _DiagnosisCache:
    """Diagnosis of a zone is a whole-chain computation; pages and the big screen ask for it often."""

    def __init__(self, size: int = 16) -> None:
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, session: Session, zone_id: str, chain_id: str) -> Any:
        bind = session.get_bind()
        key = (str(bind.url), zone_id, chain_id, data_version(session))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        result = diagnosis.diagnose(session, zone_id, chain_id)
        with self._lock:
            self._items[key] = result
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return result


DIAGNOSES = _DiagnosisCache()


def diagnose(session: Session, zone: Zone, chain: Chain) -> Any:
    return DIAGNOSES.get(session, zone.id, chain.id)


def effective(session: Session, chain_id: str, enterprise_ids: list[int] | None) -> dict[int, list]:
    return placement.effective_placements(session, chain_id, enterprise_ids)


# ---------------------------------------------------------------- small shapes

_EVIDENCE_FIELD = {"products": "产品", "name": "名称", "scope": "经营范围", "business_scope": "经营范围",
                   "industry_code": "行业代码", "manual": "人工判断", "import": "导入", "imported": "导入"}


def evidence_label(ev: Any) -> str:
    """One piece of placement evidence as officers read it: 产品：激光雷达 / 人工判断：王科长（官网）."""
    if isinstance(ev, str):
        return ev
    if not isinstance(ev, dict):
        return str(ev)
    field = _EVIDENCE_FIELD.get(str(ev.get("field", "")), str(ev.get("field", "")) or "依据")
    if ev.get("field") == "manual":
        note = ev.get("note") or ""
        return f"{field}：{ev.get('by', '')}" + (f"（{note}）" if note else "")
    return f"{field}：{ev.get('word') or ev.get('value') or ''}"


def node_ref(chain: Chain, node_id: str | None) -> dict | None:
    if not node_id or node_id not in chain.nodes:
        return None
    n = chain.nodes[node_id]
    return {"id": n.id, "name_zh": n.name_zh, "name_en": n.name_en}


def firm_brief(e: Enterprise) -> dict:
    return {
        "id": e.id, "name": e.name, "short_name": e.short_name, "uscc": e.uscc, "zone_id": e.zone_id,
        "city_code": e.city_code, "is_leader": e.is_leader, "is_demo": e.is_demo,
        "registered_capital_yuan": e.registered_capital_yuan, "capital_zh": format_yuan(e.registered_capital_yuan),
        "revenue_yuan": e.revenue_yuan, "listing_code": e.listing_code, "status": e.status,
    }


def project_dict(p: Project, chain: Chain | None = None) -> dict:
    return {
        "id": p.id, "code": p.code, "name": p.name, "investor_id": p.investor_id, "investor_name": p.investor_name,
        "stage": p.stage, "stage_changed_on": p.stage_changed_on, "node_ids": list(p.node_ids or []),
        "nodes": [node_ref(chain, n) for n in (p.node_ids or []) if chain and n in chain.nodes],
        "purpose": p.purpose, "project_type": p.project_type,
        "investment_yuan": p.investment_yuan, "investment_zh": format_yuan(p.investment_yuan),
        "signed_on": p.signed_on, "started_on": p.started_on, "producing_on": p.producing_on,
        "officer": p.officer, "leader": p.leader, "source_kind": p.source_kind, "next_action": p.next_action,
        "next_action_on": p.next_action_on, "hold_reason": p.hold_reason, "is_demo": p.source == "demo",
    }


# ---------------------------------------------------------------- 产业链图谱


def chain_map(session: Session, zone: Zone, chain: Chain) -> dict:
    """Stages → segments → nodes with verdict and local firm count, for the chain map and the big screen."""
    diag = diagnose(session, zone, chain)
    strengths = diag.nodes

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
            "children": [node_item(c.id) for c in chain.children(node_id)],
        }

    stages = [
        {"id": st.id, "name_zh": st.name_zh, "segments": [node_item(seg.id) for seg in chain.by_stage(st.id)]}
        for st in chain.stages
    ]
    counts = {v: 0 for v in theme.VERDICTS}
    for s in strengths.values():
        counts[s.verdict] = counts.get(s.verdict, 0) + 1
    local = session.scalar(
        select(func.count(Enterprise.id)).where(Enterprise.zone_id == zone.id, Enterprise.merged_into_id.is_(None))
    )
    return {
        "zone": {"id": zone.id, "name": zone.name}, "chain": {"id": chain.id, "name_zh": chain.name_zh},
        "stages": stages, "verdict_counts": counts, "local_firms": local or 0, "node_count": len(chain.nodes),
        "colors": theme.VERDICT_COLORS, "is_demo": bool(diag.is_demo), "generated_at": diag.generated_at,
    }


# ---------------------------------------------------------------- node page


def node_page(session: Session, zone: Zone, chain: Chain, node_id: str, target_limit: int = 20) -> dict:
    if node_id not in chain.nodes:
        raise HTTPException(404, f"产业链“{chain.name_zh}”中没有节点“{node_id}”。")
    n = chain.nodes[node_id]
    diag = diagnose(session, zone, chain)
    s = diag.nodes.get(node_id)
    firm_ids = list(s.enterprise_ids) if s else []
    firms = session.scalars(select(Enterprise).where(Enterprise.id.in_(firm_ids))).all() if firm_ids else []
    placements = effective(session, chain.id, firm_ids) if firm_ids else {}
    # A segment's firms are mostly placed on its sub-nodes: show the placement that puts the firm here.
    family = [node_id] + [d.id for d in chain.descendants(node_id)]
    rows = []
    for e in sorted(firms, key=lambda e: (-(e.registered_capital_yuan or 0), e.name)):
        here = sorted((p for p in placements.get(e.id, []) if p.node_id in family),
                      key=lambda p: (family.index(p.node_id), -p.score))
        p = here[0] if here else None
        rows.append(dict(firm_brief(e), placement=dict(jsonable(p), node=node_ref(chain, p.node_id)) if p else None))
    targets = jsonable(targets_service.rank_targets(session, zone.id, node_id, chain.id, limit=target_limit))
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
        "firms": rows, "targets": targets,
        "is_demo": bool(diag.is_demo) or any(r["is_demo"] for r in rows),
    }


# ---------------------------------------------------------------- enterprise page


def enterprise_page(session: Session, chain: Chain, enterprise_id: int) -> dict:
    e = session.scalar(
        select(Enterprise)
        .where(Enterprise.id == enterprise_id)
        .options(selectinload(Enterprise.aliases), selectinload(Enterprise.designations),
                 selectinload(Enterprise.products), selectinload(Enterprise.placements))
    )
    if e is None:
        raise HTTPException(404, f"找不到编号为 {enterprise_id} 的企业。")
    region_names = dict(session.execute(
        select(Region.code, Region.name).where(Region.code.in_([e.province_code, e.city_code, e.district_code]))
    ).all())
    effective_rows = placement.effective_placements(session, chain.id, [e.id]).get(e.id, [])
    raw = [
        {"id": p.id, "node": node_ref(chain, p.node_id), "method": p.method, "rejected": p.rejected,
         "score": p.score, "confidence": p.confidence, "evidence": p.evidence, "created_by": p.created_by,
         "note": p.note, "created_at": p.created_at}
        for p in sorted(e.placements, key=lambda p: p.id) if p.chain_id == chain.id
    ]
    off_chain = any(p.method == "manual" and p.rejected and p.node_id is None for p in e.placements
                    if p.chain_id == chain.id)
    rel_rows = session.execute(
        select(Relation, Enterprise)
        .join(Enterprise, or_(
            (Relation.supplier_id == e.id) & (Enterprise.id == Relation.customer_id),
            (Relation.customer_id == e.id) & (Enterprise.id == Relation.supplier_id),
        ))
        .limit(200)
    ).all()
    relations = [
        {"direction": "customer" if r.supplier_id == e.id else "supplier", "other": firm_brief(o),
         "product": r.product, "node": node_ref(chain, r.node_id), "year": r.year,
         "value_yuan": r.value_yuan, "value_zh": format_yuan(r.value_yuan), "source": r.source}
        for r, o in rel_rows
    ]
    projects = session.scalars(select(Project).where(Project.investor_id == e.id).order_by(Project.id)).all()
    zone = session.get(Zone, e.zone_id) if e.zone_id else None
    fields = [
        ("统一社会信用代码", e.uscc or "—"), ("英文名称", e.name_en or "—"), ("简称", e.short_name or "—"),
        ("地址", e.address or "—"),
        ("所在地", " ".join(region_names.get(c, "") for c in (e.province_code, e.city_code, e.district_code)).strip() or "—"),
        ("所属开发区", zone.name if zone else "区外"), ("注册资本", _capital(e)), ("成立日期", e.founded_on or "—"),
        ("国民经济行业", e.industry_code or "—"), ("企业类型", e.ownership or "—"),
        ("外资企业", "是" if e.foreign_invested else "否"), ("上市代码", e.listing_code or "—"),
        ("从业人数", e.employees if e.employees is not None else "—"), ("营业收入", format_yuan(e.revenue_yuan)),
        ("工业产值", format_yuan(e.output_yuan)), ("经营状态", e.status or "—"), ("所属集团", e.parent_group or "—"),
        ("链主企业", "是" if e.is_leader else "否"), ("数据来源", source_label(e.source)),
    ]
    return {
        "enterprise": dict(firm_brief(e), name_en=e.name_en, address=e.address, business_scope=e.business_scope,
                           risk_flags=e.risk_flags, merged_into_id=e.merged_into_id, source=e.source),
        "fields": [{"label": k, "value": jsonable(v)} for k, v in fields],
        "aliases": [{"alias": a.alias, "kind": a.kind, "source": a.source} for a in e.aliases],
        "designations": [{"name": d.name, "level": d.level, "year": d.year} for d in e.designations],
        "products": [p.product for p in e.products],
        "effective": [dict(jsonable(p), node=node_ref(chain, p.node_id)) for p in effective_rows],
        "placement_rows": raw, "off_chain": off_chain,
        "relations": relations,
        "projects": [project_dict(p, chain) for p in projects],
        "chain": {"id": chain.id, "name_zh": chain.name_zh},
        "node_choices": [{"id": n.id, "label": _node_label(chain, n.id)} for n in chain.nodes.values()],
        "is_demo": e.is_demo or any(r["other"]["is_demo"] for r in relations),
    }


def source_label(source: str) -> str:
    """demo / import:<batch>[:relation] / manual / public, as officers read it."""
    if not source:
        return "—"
    if source == "demo" or source.startswith("demo:"):
        return "演示数据（非真实记录）"
    if source.startswith("import:"):
        parts = source.split(":")
        return f"导入批次 #{parts[1]}" + ("（供应关系中出现）" if len(parts) > 2 else "")
    return {"manual": "人工录入", "public": "公开资料"}.get(source, source)


def _capital(e: Enterprise) -> str:
    if e.registered_capital is None:
        return "—"
    if e.capital_currency and e.capital_currency != "CNY":
        return f"{e.registered_capital:,} {e.capital_currency}（约 {format_yuan(e.registered_capital_yuan)}）"
    return format_yuan(e.registered_capital_yuan if e.registered_capital_yuan is not None else e.registered_capital)


def _node_label(chain: Chain, node_id: str) -> str:
    n = chain.nodes[node_id]
    seg = chain.segment_of(node_id)
    return f"{chain.stage_name(n.stage)} · {seg.name_zh}" + (f" · {n.name_zh}" if seg.id != n.id else "")


# ---------------------------------------------------------------- search


def search(session: Session, q: str, limit: int = 50) -> dict:
    """By name, former / English / short name (aliases) or USCC; merged-away duplicates are hidden."""
    q = (q or "").strip()
    if not q:
        return {"q": q, "results": [], "is_demo": False}
    like = f"%{q}%"
    code = normalize_uscc(q) if len(q) >= 15 else None
    alias_hit = select(EnterpriseAlias.enterprise_id).where(EnterpriseAlias.alias.ilike(like))
    conds = [Enterprise.name.ilike(like), Enterprise.name_en.ilike(like), Enterprise.short_name.ilike(like),
             Enterprise.id.in_(alias_hit)]
    if code:
        conds.append(Enterprise.uscc == code)
    rows = session.scalars(
        select(Enterprise).where(or_(*conds), Enterprise.merged_into_id.is_(None))
        .options(selectinload(Enterprise.aliases))
        .order_by(func.length(Enterprise.name), Enterprise.id).limit(limit)
    ).all()
    results = []
    for e in rows:
        matched = next((f"{_ALIAS_KIND.get(a.kind, '别名')}：{a.alias}" for a in e.aliases
                        if q.lower() in a.alias.lower()), "")
        if not matched and q.lower() in (e.name_en or "").lower():
            matched = f"英文名：{e.name_en}"
        if not matched and code and e.uscc == code:
            matched = f"信用代码：{e.uscc}"
        results.append(dict(firm_brief(e), matched=matched))
    return {"q": q, "results": results, "is_demo": any(r["is_demo"] for r in results)}


_ALIAS_KIND = {"former": "曾用名", "english": "英文名", "short": "简称", "other": "别名"}


# ---------------------------------------------------------------- 缺链补链


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


# ---------------------------------------------------------------- 目标企业


def targets(session: Session, zone: Zone, chain: Chain, node_id: str | None, username: str | None = None,
            limit: int = 50) -> dict:
    diag = diagnose(session, zone, chain)
    choices = [{"id": g.node_id, "label": f"{g.name_zh}（{g.gap_type}）"} for g in diag.gaps if g.node_id in chain.nodes]
    listed = {c["id"] for c in choices}
    choices += [{"id": n.id, "label": _node_label(chain, n.id)} for n in chain.nodes.values() if n.id not in listed]
    node_id = node_id or (choices[0]["id"] if choices else None)
    if node_id and node_id not in chain.nodes:
        raise HTTPException(404, f"产业链“{chain.name_zh}”中没有节点“{node_id}”。")
    rows = jsonable(targets_service.rank_targets(session, zone.id, node_id, chain.id, limit=limit, username=username)) \
        if node_id else []
    demo_ids = set(session.scalars(select(Enterprise.id).where(
        Enterprise.id.in_([r["enterprise_id"] for r in rows]), Enterprise.source == "demo"))) if rows else set()
    in_pipeline = set(session.scalars(select(Project.investor_id).where(
        Project.zone_id == zone.id, Project.investor_id.in_([r["enterprise_id"] for r in rows])))) if rows else set()
    for r in rows:
        r["is_demo"] = r["enterprise_id"] in demo_ids
        r["in_pipeline"] = r["enterprise_id"] in in_pipeline
    component_keys = list(dict.fromkeys(k for r in rows for k in r.get("components", {})))
    return {"zone": {"id": zone.id, "name": zone.name}, "chain": {"id": chain.id, "name_zh": chain.name_zh},
            "node": node_ref(chain, node_id), "node_choices": choices, "targets": rows,
            "component_keys": component_keys, "component_names": dict(targets_service.COMPONENT_LABELS),
            "weights": target_weights(session, username), "is_demo": bool(diag.is_demo) or bool(demo_ids)}


def target_weights(session: Session, username: str | None) -> dict:
    """The ranking weights in force for this user, each beside its default (the 目标企业 weights form)."""
    in_force, mine = targets_service.weights_in_force(session, username)
    defaults = targets_service.default_weights()
    return {"mine": mine, "label": "我的权重" if mine else "默认",
            "fields": [{"key": k, "name_zh": targets_service.COMPONENT_LABELS[k], "value": in_force[k],
                       "default": defaults[k]} for k in targets_service.COMPONENTS]}


# ---------------------------------------------------------------- 链主企业


def leaders(session: Session, zone: Zone, chain: Chain, leader: str | None) -> dict:
    firms = session.scalars(select(Enterprise).where(
        Enterprise.zone_id == zone.id, Enterprise.is_leader.is_(True), Enterprise.merged_into_id.is_(None)
    ).order_by(Enterprise.name)).all()
    choices = [{"id": e.id, "name": e.short_name or e.name, "is_demo": e.is_demo} for e in firms]
    chosen = leader or (str(firms[0].id) if firms else None)
    view = _leader_view(session, chain, diagnosis.leader_view(session, zone.id, chosen, chain.id)) if chosen else None
    return {"zone": {"id": zone.id, "name": zone.name}, "chain": {"id": chain.id, "name_zh": chain.name_zh},
            "leaders": choices, "chosen": chosen, "view": view,
            "is_demo": any(c["is_demo"] for c in choices) or bool(view and view["is_demo"])}


def _leader_view(session: Session, chain: Chain, view: Any) -> dict:
    links = [link for group in view.suppliers_by_node.values() for link in group]
    ids = [link.enterprise_id for link in links if link.enterprise_id is not None]
    demo_ids = set(session.scalars(select(Enterprise.id).where(Enterprise.id.in_(ids), Enterprise.source == "demo"))) \
        if ids else set()
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
        "is_demo": bool(view.is_demo),
    }


# ---------------------------------------------------------------- 项目台账


def pipeline(session: Session, zone: Zone, chain: Chain) -> dict:
    board = pipeline_service.board(session, zone.id, chain.id)
    columns = [{"stage": stage, "projects": [project_dict(p, chain) for p in projects]}
               for stage, projects in board.items()]
    all_rows = [p for c in columns for p in c["projects"]]
    return {"zone": {"id": zone.id, "name": zone.name}, "chain": {"id": chain.id, "name_zh": chain.name_zh},
            "columns": columns, "projects": sorted(all_rows, key=lambda p: p["code"], reverse=True),
            "stages": list(pipeline_service.ALL_STAGES), "total": len(all_rows),
            "total_investment_zh": format_yuan(sum(p["investment_yuan"] or 0 for p in all_rows)),
            "is_demo": any(p["is_demo"] for p in all_rows)}


def project_page(session: Session, chain: Chain, project_id: int) -> dict:
    p = session.get(Project, project_id)
    if p is None:
        raise HTTPException(404, f"找不到编号为 {project_id} 的项目。")
    history = pipeline_service.project_history(session, p.id)
    return {"project": dict(project_dict(p, chain), summary=p.summary, notes=p.notes,
                            fixed_investment_zh=format_yuan(p.fixed_investment_yuan),
                            expected_output_zh=format_yuan(p.expected_output_yuan),
                            expected_tax_zh=format_yuan(p.expected_tax_yuan), jobs=p.jobs, land_mu=p.land_mu,
                            source_detail=p.source_detail, registered_on=p.registered_on),
            "history": jsonable(history), "stages": list(pipeline_service.ALL_STAGES)}


# ---------------------------------------------------------------- 年度目标


def kpi(session: Session, zone: Zone, chain: Chain, year: int | None, as_of: date | None = None) -> dict:
    years = sorted(set(session.scalars(select(YearlyTarget.year).where(YearlyTarget.zone_id == zone.id))))
    this_year = config.today().year
    if year is None:
        year = _default_kpi_year(session, zone, years, this_year)
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


def _default_kpi_year(session: Session, zone: Zone, target_years: list[int], this_year: int) -> int:
    """This year when it has targets; else the latest earlier target year in which projects actually signed."""
    if this_year in target_years or not target_years:
        return this_year
    signed_years = {d.year for d in session.scalars(
        select(Project.signed_on).where(Project.zone_id == zone.id, Project.signed_on.is_not(None)))}
    past = [y for y in target_years if y <= this_year]
    active = [y for y in past if y in signed_years]
    return (active or past or target_years)[-1]


# ---------------------------------------------------------------- 大屏


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
    out["recent"] = sorted((p for p in board["projects"] if p["signed_on"]), key=lambda p: p["signed_on"],
                           reverse=True)[:6]
    k = kpi(session, zone, chain, None)
    out["kpi"] = {"year": k["year"], "rows": [r for r in k["rows"] if r["target"] is not None] or k["rows"][:3],
                  "alerts": k["alerts"][:5]}
    demo |= board["is_demo"] or k["is_demo"]
    out["is_demo"] = demo
    return out

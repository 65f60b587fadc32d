"""One firm in full, as the enterprise page, /api/enterprises/{id} and `chainatlas show` present it: registration
facts in Chinese labels, names, designations, products, its placements on the chain (in force and every row with
who decided), its supply relations and the projects it invests in."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from chainatlas.domain.chain import Chain
from chainatlas.domain.money import format_yuan
from chainatlas.engines.classify import placement_share
from chainatlas.services.catalog.chains import node_label, node_ref
from chainatlas.services.catalog.regions import place_label
from chainatlas.services.enterprises.ego import ego_network
from chainatlas.services.enterprises.lookup import EnterpriseNotFound, firm_brief
from chainatlas.services.enterprises.provenance import provenances
from chainatlas.services.pipeline.projects import project_dict
from chainatlas.services.placement.check import firm_hints
from chainatlas.services.placement.placements import effective_placements, inferred_from_generic_line
from chainatlas.store.models import Enterprise, Project, Relation, Zone


def enterprise_detail(session: Session, chain: Chain, enterprise_id: int) -> dict:
    e = session.scalar(
        select(Enterprise)
        .where(Enterprise.id == enterprise_id)
        .options(selectinload(Enterprise.aliases), selectinload(Enterprise.designations),
                 selectinload(Enterprise.products), selectinload(Enterprise.placements))
    )
    if e is None:
        raise EnterpriseNotFound(f"找不到编号为 {enterprise_id} 的企业。")
    effective_rows = effective_placements(session, chain.id, [e.id]).get(e.id, [])
    raw = [
        {"id": p.id, "node": node_ref(chain, p.node_id), "method": p.method, "rejected": p.rejected,
         "score": p.score, "confidence": p.confidence, "evidence": p.evidence, "created_by": p.created_by,
         "note": p.note, "created_at": p.created_at}
        for p in sorted(e.placements, key=lambda p: p.id) if p.chain_id == chain.id
    ]
    off_chain = any(p.method == "manual" and p.rejected and p.node_id is None for p in e.placements
                    if p.chain_id == chain.id)
    # an unplaced firm shows the chain words its text does hold (归链核实), for the officer to decide
    hints = firm_hints(session, chain, [e.id]).get(e.id, []) if not effective_rows and not off_chain else []
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
    survivor = _survivor(session, e)
    fields = [
        ("统一社会信用代码", e.uscc or "—"), ("英文名称", e.name_en or "—"), ("简称", e.short_name or "—"),
        ("地址", e.address or "—"),
        ("所在地", place_label(e.province_code, e.city_code, e.district_code) or "—"),
        ("所属开发区", zone.name if zone else "区外"), ("注册资本", _capital(e)), ("成立日期", e.founded_on or "—"),
        ("国民经济行业", e.industry_code or "—"), ("企业类型", e.ownership or "—"),
        ("外资企业", "是" if e.foreign_invested else "否"), ("上市代码", e.listing_code or "—"),
        ("从业人数", e.employees if e.employees is not None else "—"), ("营业收入", format_yuan(e.revenue_yuan)),
        ("工业产值", format_yuan(e.output_yuan)), ("经营状态", e.status or "—"), ("所属集团", e.parent_group or "—"),
        ("链主企业", "是" if e.is_leader else "否"), ("数据来源", source_label(e.source)),
    ]
    return {
        "enterprise": dict(firm_brief(e), name_en=e.name_en, address=e.address, business_scope=e.business_scope,
                           risk_flags=e.risk_flags, merged_into_id=e.merged_into_id, source=e.source,
                           merged_into={"id": survivor.id, "name": survivor.name} if survivor else None),
        "fields": [{"label": k, "value": v.isoformat() if isinstance(v, date) else v} for k, v in fields],
        "aliases": [{"alias": a.alias, "kind": a.kind, "source": a.source} for a in e.aliases],
        "designations": [{"name": d.name, "level": d.level, "year": d.year} for d in e.designations],
        "products": [p.product for p in e.products],
        "provenance": _provenance(session, e),
        # share: the strength of a rule placement, the revenue share of the product lines behind it (None: unknown)
        "effective": [dict(asdict(p), node=node_ref(chain, p.node_id), share=placement_share(p.evidence))
                      for p in effective_rows],
        "placement_rows": raw, "off_chain": off_chain, "hints": [asdict(h) for h in hints],
        "relations": relations,
        "graph": ego_network(relations),
        "projects": [project_dict(p, chain) for p in projects],
        "chain": {"id": chain.id, "name_zh": chain.name_zh},
        "node_choices": [{"id": n.id, "label": node_label(chain, n.id)} for n in chain.nodes.values()],
        "is_demo": e.is_demo or any(r["other"]["is_demo"] for r in relations),
    }


def _provenance(session: Session, e: Enterprise) -> list[dict]:
    """Where the page's facts come from and how old they are: the registration facts, then each product line's file."""
    found = provenances(session, [e.source, *(p.source for p in e.products)])
    rows = [{"fact": "企业登记信息（名称、地址、注册资本等）", **asdict(found[e.source])}]
    by_source: dict[str, list[str]] = {}
    for p in e.products:
        share = f"（{p.revenue_share:.1%}）" if p.revenue_share is not None else ""
        by_source.setdefault(p.source or e.source, []).append(p.product + share)
    for source, lines in by_source.items():
        prov = found.get(source) or provenances(session, [source])[source]
        rows.append({"fact": "主营产品：" + "、".join(lines[:6]) + (f" 等 {len(lines)} 条" if len(lines) > 6 else ""),
                     **asdict(prov)})
    return rows


def _survivor(session: Session, e: Enterprise) -> Enterprise | None:
    """The firm a merged record now lives in (following merges of merges), None for a live firm: the page names
    it instead of “企业 #1091”."""
    seen = {e.id}
    firm = e
    while firm.merged_into_id is not None and firm.merged_into_id not in seen:
        seen.add(firm.merged_into_id)
        nxt = session.get(Enterprise, firm.merged_into_id)
        if nxt is None:
            break
        firm = nxt
    return firm if firm is not e else None


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


_EVIDENCE_FIELD = {"products": "产品", "name": "名称", "scope": "经营范围", "business_scope": "经营范围",
                   "industry": "所属行业", "supplied": "供货", "industry_code": "国民经济行业代码（GB/T 4754）",
                   "manual": "人工判断", "import": "导入", "imported": "导入", "model": "模型判断（概率）"}


def evidence_groups(evidence: list[Any], limit: int = 6) -> list[tuple[str, list[str]]]:
    """Placement evidence as chips: one per field (产品, 经营范围, 行业代码 …) with the words matched in it, so the
    page shows 产品 [激光雷达] [车载激光雷达] rather than one run of text."""
    groups: dict[str, list[str]] = {}
    for ev in evidence or []:
        label = evidence_label(ev)
        field, sep, words = label.partition("：")
        field, words = (field, words) if sep else ("依据", label)
        if words and words not in groups.setdefault(field, []):
            groups[field].append(words)
    return [(f, w[:limit]) for f, w in groups.items()]


_METHOD = {"rule": "规则匹配", "manual": "人工确认", "imported": "导入"}


def method_label(method: str, evidence: list[Any] | None = None) -> str:
    """How a placement was made, as officers read it: 规则匹配, 人工确认, 导入, or 泛称推断 for a rule placement that
    rests on a generic line only (the chain file's fallback: the node is inferred, to be checked)."""
    if inferred_from_generic_line(method, evidence):
        return "泛称推断"
    return _METHOD.get(method, method)


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
    if ev.get("kind") == "generic":  # the fallback for a generic line: the node is inferred, not read
        share = ev.get("share")
        told = f" {share:.1%}" if isinstance(share, (int, float)) else ""
        return f"泛称推断：{ev.get('product') or ev.get('word') or ''}{told}，环节待核实"
    if ev.get("field") == "supplied" and ev.get("customer"):  # a supply relation: what, and to whom
        return f"{field}：{ev.get('product') or ev.get('word') or ''}（客户：{ev['customer']}）"
    label = f"{field}：{ev.get('word') or ev.get('value') or ''}"
    # a word of the chain's derived vocabulary says so: the keyword list never named it, the product graph did
    return label + "（产品图谱派生）" if ev.get("source") == "derived" else label

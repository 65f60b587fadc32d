"""The reasons shown with a target, in Chinese: what its placement rests on, and one sentence over the
components that carry the most weight."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.domain.money import format_yuan
from chainatlas.services.targets.weights import target_settings
from chainatlas.store.models import Placement

_FIELD_ZH = {"name": "企业名称", "scope": "经营范围", "industry": "所属行业"}


def evidence_text(method: str, evidence: list[dict]) -> str:
    """What a placement rests on, in words: the matched product line and its revenue share first."""
    if method == "manual":
        return "分析员人工归入该环节"
    lines = [e for e in evidence if e.get("field") == "products" and e.get("product")]
    if lines:
        # a fallback placement is told by its generic line, whatever else corroborates its node
        generic = [e for e in lines if e.get("kind") == "generic"]
        best = max(generic or lines, key=lambda e: (e.get("share") is not None, e.get("share") or 0.0))
        share = best.get("share")
        told = f"占营收{share:.1%}" if share is not None else "营收占比未披露"
        derived = "（产品图谱派生词）" if best.get("source") == "derived" else ""
        if best.get("kind") == "generic":  # the fallback for a generic line: the node is inferred, not read
            return f"主营“{best['product']}”{told}，仅泛称“{best['word']}”，环节为推断，待核实"
        return f"主营“{best['product']}”{told}，匹配“{best['word']}”{derived}"
    supplied = [e for e in evidence if e.get("field") == "supplied" and e.get("customer")]
    if supplied:
        return f"向“{supplied[0]['customer']}”供应“{supplied[0].get('product') or supplied[0]['word']}”"
    words = [e for e in evidence if e.get("field") in _FIELD_ZH]
    if words:
        return f"{_FIELD_ZH[words[0]['field']]}含“{words[0]['word']}”"
    return ""


def fit_evidence(session: Session, chain_id: str, node_ids: Sequence[str], ids: Sequence[int]) -> dict[int, str]:
    """For each listed firm, the evidence of its best placement on the node (or a node below it)."""
    rows = session.execute(
        select(Placement.enterprise_id, Placement.method, Placement.confidence, Placement.evidence).where(
            Placement.chain_id == chain_id, Placement.node_id.in_(list(node_ids)), Placement.rejected.is_(False),
            Placement.enterprise_id.in_(list(ids)))
    ).all()
    best: dict[int, tuple[float, str]] = {}
    for eid, method, confidence, evidence in rows:
        rank = 2.0 if method == "manual" else float(confidence or 0.0)
        if eid not in best or rank > best[eid][0]:
            best[eid] = (rank, evidence_text(method, evidence or []))
    return {eid: text for eid, (_, text) in best.items()}



_PLACE_ZH = {"same_city": "与本区同城", "same_province": "与本区同省", "neighbour_province": "位于相邻省份"}


def explain(components: dict[str, float], weights: dict[str, float], facts: dict[str, Any]) -> str:
    """One Chinese sentence: the facts behind the components that carry the most weight, strongest first."""
    parts: list[tuple[float, str]] = []

    def add(key: str, text: str) -> None:
        if text and components.get(key, 0) > 0:
            parts.append((weights.get(key, 0) * components[key], text))

    if facts["leaders_supplied"]:
        by_leader: dict[str, list[str]] = {}
        for leader, what in facts["leaders_supplied"]:
            if what and what not in by_leader.setdefault(leader, []):
                by_leader[leader].append(what)
        text = "、".join(
            f"{leader}配套{'、'.join(w[:2])}" if w else leader for leader, w in list(by_leader.items())[:2]
        )
        add("leader_supply", f"已为本区链主{text}" if "配套" in text else f"已为本区链主{text}供货")
    if facts["peers"]:
        add("leader_peers", f"为与本区链主相近的{'、'.join(facts['peers'])}配套")
    add("designation", facts["designation"])
    if facts["listing_code"]:
        add("scale", f"上市公司（{facts['listing_code']}）")
    if facts["capital_yuan"]:
        add("scale", f"注册资本{format_yuan(facts['capital_yuan'])}")
    elif facts["revenue_yuan"]:
        add("scale", f"营业收入{format_yuan(facts['revenue_yuan'])}")
    elif facts["employees"]:
        add("scale", f"员工{facts['employees']}人")
    elif not facts.get("scale_known", True):
        add("scale", f"规模数据缺失（按本环节候选企业中位数计{components['scale']:.2f}）")
    if facts["expansion_count"]:
        add("expansion", f"近{target_settings().expansion_years}年所属集团新设企业{facts['expansion_count']}家")
    add("foreign", "外资企业" if facts["foreign_invested"] else "")
    add("distance", _PLACE_ZH.get(facts["place"], "所在地不详（按中位数计）" if facts["place"] == "unknown" else ""))
    parts.sort(key=lambda p: -p[0])
    # The fit always shows with what it rests on: it is why the firm is on this node's list at all.
    fit = f"环节契合度{facts['fit']:.2f}" + (f"（{facts['fit_evidence']}）" if facts.get("fit_evidence") else "")
    chosen = [fit] + [t for _, t in parts[:4]]
    return "；".join(chosen) + "。"

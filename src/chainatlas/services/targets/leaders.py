"""Chain-leader attraction (链主招商): a leader's known suppliers outside the zone, by node, and the suppliers
the network predicts for it, each with the local firms already trading with it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import load_chain
from chainatlas.engines import linkfeatures, linkpred
from chainatlas.services.catalog.zones import resolve_zone
from chainatlas.services.placement.placements import effective_placements
from chainatlas.services.targets.backtest import english_name_key, recency_weights, relations_from_db
from chainatlas.services.targets.forecast import side_info
from chainatlas.services.targets.leader_links import links_with_leader, peers_supplied
from chainatlas.services.targets.ranking import city_names
from chainatlas.services.targets.weights import TargetError, target_settings, veto_reason
from chainatlas.store.models import Enterprise, Relation



@dataclass
class SupplierLink:
    enterprise_id: int
    name: str
    city_name: str
    node_id: str  # '' when neither the relation nor a placement says
    node_name: str
    products: list[str]
    score: float | None  # network prediction for potential suppliers (0–1, best = 1); None for known ones
    via: list[str]  # similar OEMs it supplies (why it is predicted)
    warm_paths: list[str]  # local firms that already trade with it


@dataclass
class LeaderSuppliers:
    leader_id: int
    leader_name: str
    zone_id: str
    known_by_node: dict[str, list[SupplierLink]]  # known suppliers outside the zone, by node
    local_known: int  # known suppliers inside the zone
    outside_known: int
    potential: list[SupplierLink]  # predicted suppliers outside the zone, best first


def resolve_enterprise(session: Session, id_or_name: str | int) -> Enterprise:
    """An enterprise by id, full or short Chinese name, or English name (case and legal form ignored)."""
    text = str(id_or_name).strip()
    if text.isdigit():
        ent = session.get(Enterprise, int(text))
        if ent is not None:
            return ent
    ent = session.scalar(
        select(Enterprise).where(or_(Enterprise.name == text, Enterprise.short_name == text), Enterprise.merged_into_id.is_(None))
    )
    if ent is not None:
        return ent
    ent = session.scalar(select(Enterprise).where(func.lower(Enterprise.name_en) == text.lower(),
                                                  Enterprise.merged_into_id.is_(None)).limit(1))
    if ent is not None:
        return ent
    key = english_name_key(text)  # "DONGFENG MOTOR CORP." finds "Dongfeng Motor Corporation"
    for cand in session.scalars(select(Enterprise).where(Enterprise.name_en != "", Enterprise.merged_into_id.is_(None))):
        if english_name_key(cand.name_en) == key:
            return cand
    like = session.scalars(select(Enterprise).where(Enterprise.name.contains(text)).limit(6)).all()
    hint = "、".join(e.name for e in like) if like else "无相近名称"
    raise TargetError(f"找不到企业“{text}”。相近的企业：{hint}。请用企业全称、简称、英文名或编号")


def _best_nodes(session: Session, chain_id: str, ids: Iterable[int]) -> dict[int, str]:
    """Each enterprise's first effective placement (manual first, then best score)."""
    return {eid: ps[0].node_id for eid, ps in effective_placements(session, chain_id, ids).items() if ps}


def _warm_paths(session: Session, zone_id: str, supplier_ids: Iterable[int], exclude: int) -> dict[int, list[str]]:
    ids = list(set(supplier_ids))
    if not ids:
        return {}
    local = select(Enterprise.id).where(Enterprise.zone_id == zone_id, Enterprise.id != exclude)
    out: dict[int, list[str]] = {}
    pairs = session.execute(
        select(Relation.supplier_id, Relation.customer_id).where(
            or_(
                Relation.supplier_id.in_(ids) & Relation.customer_id.in_(local),
                Relation.customer_id.in_(ids) & Relation.supplier_id.in_(local),
            )
        )
    ).all()
    other = {c if s in ids else s for s, c in pairs}
    names = dict(session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(other))).all()) if other else {}
    for s_, c in pairs:
        firm, partner = (s_, c) if s_ in ids else (c, s_)
        lst = out.setdefault(firm, [])
        if names.get(partner) and names[partner] not in lst:
            lst.append(names[partner])
    return out


def suppliers_for_leader(session: Session, zone_id: str, leader: str | int, chain_id: str,
                         limit: int = 30) -> LeaderSuppliers:
    """A chain leader's known suppliers outside the zone, by node, and the suppliers the network predicts
    for it (firms that supply OEMs similar to it), each with the local firms already trading with it."""
    zone = resolve_zone(session, zone_id)
    chain = load_chain(chain_id)
    ent = resolve_enterprise(session, leader)
    rels = session.execute(
        select(Relation.supplier_id, Relation.node_id, Relation.product).where(Relation.customer_id == ent.id)
    ).all()
    sup_ids = {r[0] for r in rels}
    sups = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(sup_ids)))} if sup_ids else {}
    outside = [i for i in sup_ids if sups[i].zone_id != zone.id]
    placed = _best_nodes(session, chain.id, outside)

    links = links_with_leader(session, zone.id, ent.id)
    potential_ids, potential_scores = _predicted_for(session, ent.id, limit * 3)
    pot_ents = {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(potential_ids)))} if potential_ids else {}
    keep = [(i, sc) for i, sc in zip(potential_ids, potential_scores) if i in pot_ents and pot_ents[i].zone_id != zone.id
            and pot_ents[i].merged_into_id is None and not veto_reason(pot_ents[i].status, pot_ents[i].risk_flags or [])][:limit]
    placed.update(_best_nodes(session, chain.id, [i for i, _ in keep]))
    warm = _warm_paths(session, zone.id, outside + [i for i, _ in keep], ent.id)
    all_ents = {**sups, **pot_ents}
    cities = city_names(session, {e.city_code for e in all_ents.values() if e.city_code})
    via_ids = {i: peers_supplied(links, i, ent.id) for i, _ in keep}
    via_names = dict(session.execute(
        select(Enterprise.id, func.coalesce(func.nullif(Enterprise.short_name, ""), Enterprise.name)).where(
            Enterprise.id.in_({p for ps in via_ids.values() for p in ps}))
    ).all()) if via_ids else {}

    def link(eid: int, node: str, products: list[str], score: float | None, via: list[str]) -> SupplierLink:
        e = all_ents[eid]
        return SupplierLink(eid, e.name, cities.get(e.city_code, ""), node,
                            chain.nodes[node].name_zh if node in chain.nodes else "未归类", products, score, via,
                            warm.get(eid, []))

    order = {node_id: i for i, node_id in enumerate(chain.nodes)}
    by_node: dict[str, list[SupplierLink]] = {}
    for sid in sorted(outside, key=lambda i: sups[i].name):
        node = next((n for s_, n, _ in rels if s_ == sid and n), "") or placed.get(sid, "")
        products = sorted({p for s_, _, p in rels if s_ == sid and p})
        by_node.setdefault(node, []).append(link(sid, node, products, None, []))
    potential = [
        link(i, placed.get(i, ""), [], round(float(sc), 4), [via_names.get(p, str(p)) for p in via_ids[i]])
        for i, sc in keep
    ]
    return LeaderSuppliers(
        leader_id=ent.id,
        leader_name=ent.short_name or ent.name,
        zone_id=zone.id,
        known_by_node=dict(sorted(by_node.items(), key=lambda kv: order.get(kv[0], len(order)))),  # chain order
        local_known=len(sup_ids) - len(outside),
        outside_known=len(outside),
        potential=potential,
    )




def _predicted_for(session: Session, leader_id: int, limit: int) -> tuple[list[int], list[float]]:
    """The maker's likeliest next suppliers by the forecasting model (engines/linkfeatures.py, weights in
    data/targets.yaml, fitted by year on real supply links), among firms with some network evidence for this
    maker (a peer vote or co-supply); scores are probabilities scaled to the best (1.0)."""
    data = relations_from_db(session)
    pairs = {(e.customer, e.supplier) for e in data.edges}
    key = str(leader_id)
    if not any(c == key for c, _ in pairs):
        return [], []
    year = config.today().year
    recency = recency_weights(data.edges, pairs, year)
    graph = linkpred.bipartite((c, s_, recency[(c, s_)]) for c, s_ in sorted(pairs))
    row = graph.customer_index[key]
    feats = linkfeatures.features(graph, [row], side_info(data, graph, year))[0]
    weights = np.asarray([*target_settings().forecast_weights.values()])
    prob = 1.0 / (1.0 + np.exp(-linkfeatures.score(feats, weights)))
    evidence = (feats[:, linkfeatures.FEATURES.index("peers")] > 0) | (feats[:, linkfeatures.FEATURES.index("co_supply")] > 0)
    prob[~evidence | (graph.binary[row].toarray().ravel() > 0)] = 0.0
    order = [i for i in np.argsort(-prob, kind="stable")[:limit] if prob[i] > 0]
    top = prob[order[0]] if order else 1.0
    return [int(graph.suppliers[i]) for i in order], [float(prob[i] / top) for i in order]

"""What a zone's chain leaders buy, and what the supply network predicts they would buy (链主配套).

Direct supply comes from the relations; the prediction scores suppliers of OEMs similar to the leaders
(engines/linkpred.py). Computed once per zone and data version (services/targets/cache.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.engines import linkpred
from chainatlas.services.targets import cache
from chainatlas.services.targets.backtest import SupplyEdge, recency_weights
from chainatlas.store.models import Enterprise, Relation


@dataclass
class LeaderLinks:
    """What the zone's chain leaders buy, and what the network predicts they would buy (cached per zone)."""

    leader_ids: list[int]
    direct: dict[int, list[tuple[int, str]]]  # supplier id → [(leader id, node id or product)]
    direct_ids: np.ndarray  # sorted supplier ids supplying a leader
    pred_ids: np.ndarray  # sorted supplier ids with a positive prediction
    pred_values: np.ndarray  # best normalised prediction over the leaders, aligned with pred_ids
    graph: linkpred.Bipartite | None
    leader_rows: list[int]  # rows of the leaders in graph (leaders with no purchases are absent)
    leader_of_row: list[int]
    similarity: np.ndarray | None  # leader rows × customers
    names: dict[int, str] = field(default_factory=dict)  # short names of the leaders and of every customer


def _zone_leaders(session: Session, zone_id: str) -> list[int]:
    return list(
        session.scalars(
            select(Enterprise.id).where(
                Enterprise.zone_id == zone_id, Enterprise.is_leader.is_(True), Enterprise.merged_into_id.is_(None)
            ).order_by(Enterprise.id)
        )
    )


def _short_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(ids))
    out: dict[int, str] = {}
    for i in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        for eid, name, short in session.execute(
            select(Enterprise.id, Enterprise.name, Enterprise.short_name).where(Enterprise.id.in_(ids[i:i + 900]))
        ):
            out[eid] = short or name
    return out


def zone_leader_links(session: Session, zone_id: str) -> LeaderLinks:
    version = cache.version(session)
    links = cache.CACHE.get(("links", zone_id), version)
    if links is None:
        links = _compute_leader_links(session, zone_id)
        links.names = _short_names(session, set(links.leader_ids) | set(links.graph.customers if links.graph else ()))
        cache.CACHE.put(("links", zone_id), version, links)
    return links


def _compute_leader_links(session: Session, zone_id: str) -> LeaderLinks:
    leaders = _zone_leaders(session, zone_id)
    rel = session.execute(
        select(Relation.customer_id, Relation.supplier_id, Relation.node_id, Relation.product, Relation.year)
    ).all()
    direct: dict[int, list[tuple[int, str]]] = {}
    leader_set = set(leaders)
    for c, s_, node, product, _ in rel:
        if c in leader_set:
            direct.setdefault(s_, []).append((c, node or product or ""))
    empty = np.zeros(0, dtype=np.int64)
    # The graph is built whenever relations exist: a firm not flagged 链主 can still be asked about (suppliers).
    if not rel:
        return LeaderLinks(leaders, direct, np.array(sorted(direct), dtype=np.int64), empty, np.zeros(0),
                            None, [], [], None)
    # Current relations count more (see backtest.recency_weights): the ranking forecasts who is bought from next.
    pairs = {(c, s_) for c, s_, *_ in rel}
    weights = recency_weights([SupplyEdge(c, s_, y) for c, s_, _, _, y in rel], pairs, config.today().year)
    graph = linkpred.bipartite((c, s_, weights[(c, s_)]) for c, s_ in sorted(pairs))
    rows = [graph.customer_index[lid] for lid in leaders if lid in graph.customer_index]
    if not rows:
        return LeaderLinks(leaders, direct, np.array(sorted(direct), dtype=np.int64), empty, np.zeros(0),
                            graph, [], [], None)
    groups = dict(
        session.execute(
            select(Enterprise.id, Enterprise.parent_group).where(
                Enterprise.id.in_(list(graph.customers)), Enterprise.parent_group != ""
            )
        ).all()
    )
    codes: dict[str, int] = {}
    group_codes = np.asarray([codes.setdefault(groups[c], len(codes)) if c in groups else -1 for c in graph.customers])
    params = linkpred.Params()
    # "Supplies the leaders' peers": other OEMs vote; a supplier of one local leader is 'leader_supply' already.
    scores = linkpred.score_suppliers(graph, rows, params, group_codes, mute=rows)
    known = graph.binary[rows].toarray() > 0
    scores[known] = 0.0  # a leader's own suppliers are 'leader_supply', not a prediction
    top = scores.max(axis=1, keepdims=True)
    norm = np.where(top > 0, scores / np.maximum(top, 1e-12), 0.0).max(axis=0)
    sup_ids = np.asarray(graph.suppliers, dtype=np.int64)
    keep = norm > 0
    order = np.argsort(sup_ids[keep])
    sim = linkpred.customer_similarity(graph, rows, params.measure) ** params.sharpen
    return LeaderLinks(
        leader_ids=leaders,
        direct=direct,
        direct_ids=np.array(sorted(direct), dtype=np.int64),
        pred_ids=sup_ids[keep][order],
        pred_values=norm[keep][order].astype(np.float32),
        graph=graph,
        leader_rows=rows,
        leader_of_row=[graph.customers[r] for r in rows],
        similarity=sim,
    )




def peers_supplied(links: LeaderLinks, supplier_id: int, leader_id: int | None = None, limit: int = 2) -> list[int]:
    """Why a supplier is predicted: the OEMs it serves that are most similar to the zone's leaders (other
    than the leaders themselves), or to one named leader (any OEM, the zone's other leaders included)."""
    g = links.graph
    if g is None or links.similarity is None or supplier_id not in g.supplier_index:
        return []
    served = g.customers_of(g.supplier_index[supplier_id])
    if leader_id is None:
        sim = links.similarity
        served = served[~np.isin(served, links.leader_rows)]
    elif leader_id in links.leader_of_row:
        sim = links.similarity[[links.leader_of_row.index(leader_id)]]
    else:
        return []
    if served.size == 0:
        return []
    votes = sim[:, served].max(axis=0)
    return [g.customers[served[i]] for i in np.argsort(-votes)[:limit] if votes[i] > 0]




def links_with_leader(session: Session, zone_id: str, leader_id: int) -> LeaderLinks:
    """Links computed with one named firm as the leader (a leader of another zone, or not flagged 链主)."""
    links = zone_leader_links(session, zone_id)
    if leader_id in links.leader_ids or links.graph is None or leader_id not in links.graph.customer_index:
        return links
    g = links.graph
    row = g.customer_index[leader_id]
    sim = linkpred.customer_similarity(g, [row], linkpred.Params().measure) ** linkpred.Params().sharpen
    return replace(
        links,
        leader_ids=links.leader_ids + [leader_id],
        leader_rows=links.leader_rows + [row],
        leader_of_row=links.leader_of_row + [leader_id],
        similarity=sim if links.similarity is None else np.vstack([links.similarity, sim]),
    )


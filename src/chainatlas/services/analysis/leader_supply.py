"""A chain leader's supply (链主配套): its suppliers by node, local or not, the share bought locally and the nodes it
buys from outside the zone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain
from chainatlas.domain.money import format_yuan
from chainatlas.services.placement.placements import RULE
from chainatlas.services.analysis.world import HypotheticalFirm, World, apply_vetoes, load_world, veto_frame
from chainatlas.store.models import Enterprise, Placement, Relation, Zone


@dataclass
class SupplierLink:
    enterprise_id: int | None  # None for a hypothetical firm
    name: str
    city_code: str
    node_id: str | None
    node_name: str
    local: bool
    value_yuan: int | None
    product: str = ""
    hypothetical: bool = False


@dataclass
class OutsideNode:
    node_id: str
    name_zh: str
    supplier_count: int
    value_yuan: int | None
    local_firm_count: int  # zone firms already on the node (could be courted as local suppliers)


@dataclass
class LeaderView:
    leader_id: int
    leader_name: str
    zone_id: str
    suppliers_by_node: dict[str, list[SupplierLink]]
    local_ratio_count: float | None
    local_ratio_value: float | None
    outside_nodes: list[OutsideNode]
    chain_id: str
    supplier_count: int = 0
    value_known_count: int = 0
    reasons: list[str] = field(default_factory=list)
    is_demo: bool = False


@dataclass
class _Purchase:
    leader_id: int
    supplier_id: int
    supplier_name: str
    supplier_city: str
    local: bool
    node_id: str | None
    value_yuan: int | None
    product: str


def _purchases(session: Session, world: World, leader_ids: Sequence[int]) -> list[_Purchase]:
    """Relations into the given customers, each with its node (relation's own, else supplier's best placement)."""
    if not leader_ids:
        return []
    rows = session.execute(
        select(
            Relation.customer_id, Relation.supplier_id, Enterprise.name, Enterprise.city_code, Enterprise.zone_id,
            Relation.node_id, Relation.value_yuan, Relation.product,
        )
        .join(Enterprise, Enterprise.id == Relation.supplier_id)
        .where(Relation.customer_id.in_(list(leader_ids)))
        .order_by(Relation.id)
    ).all()
    # A supplier without a node on the relation is put on its first effective placement (manual first, then best
    # score), the order services/placement.effective_placements uses.
    supplier_ids = sorted({r[1] for r in rows})
    found = session.execute(
        select(Placement.enterprise_id, Placement.node_id, Placement.method == RULE, Placement.score).where(
            Placement.chain_id == world.chain.id, Placement.rejected.is_(False),
            Placement.enterprise_id.in_(supplier_ids), Placement.node_id.in_(world.node_ids))
    ).all()
    frame = pl.DataFrame(found, schema={"firm": pl.Int64, "node": pl.String, "rule": pl.Boolean, "score": pl.Float64},
                         orient="row")
    best = (
        apply_vetoes(frame, veto_frame(session, world.chain))
        .sort(["firm", "rule", "score", "node"], descending=[False, False, True, False])
        .unique("firm", keep="first")
    )
    best_node = dict(zip(best["firm"].to_list(), best["node"].to_list()))
    out = []
    for cust, sup, name, city, zone_id, node_id, value, product in rows:
        node = node_id if node_id in world.chain.nodes else best_node.get(sup)
        out.append(_Purchase(cust, sup, name, city or "", zone_id == world.zone.id, node, value, product or ""))
    return out


def _localised_nodes(chain: Chain, extra: Iterable[HypotheticalFirm]) -> set[str]:
    """Nodes whose outside purchases a hypothetical local firm would take over (its nodes and their sub-nodes)."""
    out: set[str] = set()
    for firm in extra:
        if firm.serves_leaders:
            for node_id in firm.node_ids:
                out.add(node_id)
                out |= {d.id for d in chain.descendants(node_id)}
    return out


def leader_demand(session: Session, world: World, extra: list[HypotheticalFirm]) -> dict[str, tuple[int, int | None]]:
    """Per node (rolled up): how many purchases the zone's leaders make outside the zone, and their known value."""
    leaders = world.zone_firms.filter(pl.col("leader"))["id"].to_list()
    localised = _localised_nodes(world.chain, extra)
    demand: dict[str, tuple[int, int | None]] = {}
    for p in _purchases(session, world, leaders):
        if p.local or p.node_id is None or p.node_id in localised:
            continue
        current: str | None = p.node_id
        while current is not None:
            count, value = demand.get(current, (0, None))
            if p.value_yuan is not None:
                value = (value or 0) + p.value_yuan
            demand[current] = (count + 1, value)
            current = world.chain.nodes[current].parent
    return demand


def _find_leader(session: Session, zone: Zone, leader_id_or_name: str | int) -> Enterprise:
    key = str(leader_id_or_name).strip()
    if key.isdigit() and (firm := session.get(Enterprise, int(key))) is not None:
        return firm
    exact = session.scalars(
        select(Enterprise).where((Enterprise.name == key) | (Enterprise.short_name == key)).order_by(
            (Enterprise.zone_id == zone.id).desc(), Enterprise.is_leader.desc(), Enterprise.id
        )
    ).first()
    if exact is not None:
        return exact
    like = session.scalars(
        select(Enterprise).where(Enterprise.name.contains(key)).order_by(
            (Enterprise.zone_id == zone.id).desc(), Enterprise.is_leader.desc(), Enterprise.id
        ).limit(2)
    ).all()
    if len(like) == 1 or (like and like[0].is_leader and not like[1].is_leader):
        return like[0]
    leaders = session.scalars(
        select(Enterprise.name).where(Enterprise.zone_id == zone.id, Enterprise.is_leader).order_by(Enterprise.name)
    ).all()
    hint = "、".join(leaders) or "（本区尚未标记链主企业）"
    found = "名称不唯一" if like else "找不到"
    raise LookupError(f"链主企业“{key}”{found}。请输入企业全称、简称或 id；本区链主：{hint}")


def leader_view(
    session: Session,
    zone_id: str,
    leader_id_or_name: str | int,
    chain_id: str,
    extra_firms: list[HypotheticalFirm] | None = None,
) -> LeaderView:
    """A leader's suppliers by node, local supply ratio (by count and by value), and nodes bought from outside."""
    world = load_world(session, zone_id, chain_id, zone_only=True)
    leader = _find_leader(session, world.zone, leader_id_or_name)
    return leader_view_in(session, world, leader, list(extra_firms or []))


def leader_view_in(session: Session, world: World, leader: Enterprise, extra: list[HypotheticalFirm]) -> LeaderView:
    chain = world.chain
    localised = _localised_nodes(chain, extra)
    purchases = _purchases(session, world, [leader.id])
    by_node: dict[str, list[SupplierLink]] = {}
    seen: set[tuple[int, str | None]] = set()
    for p in purchases:
        local = p.local or (p.node_id is not None and p.node_id in localised)
        link = SupplierLink(
            p.supplier_id, p.supplier_name, p.supplier_city, p.node_id,
            chain.nodes[p.node_id].name_zh if p.node_id else "未定环节", local, p.value_yuan, p.product,
        )
        key = p.node_id or ""
        if (p.supplier_id, p.node_id) in seen:
            # Several products or years from the same supplier on one node: one supplier, values added.
            for existing in by_node[key]:
                if existing.enterprise_id == p.supplier_id and p.value_yuan is not None:
                    existing.value_yuan = (existing.value_yuan or 0) + p.value_yuan
            continue
        seen.add((p.supplier_id, p.node_id))
        by_node.setdefault(key, []).append(link)
    links = [link for group in by_node.values() for link in group]
    n_links = len(links)
    n_local = sum(link.local for link in links)
    valued = [link for link in links if link.value_yuan is not None]
    total_value = sum(link.value_yuan or 0 for link in valued)
    local_value = sum(link.value_yuan or 0 for link in valued if link.local)
    ratio_count = n_local / n_links if n_links else None
    ratio_value = local_value / total_value if valued and total_value else None

    zone_on_node = (
        world.zone_placed.group_by("node").agg(pl.col("firm").n_unique())
    )
    zone_counts = dict(zone_on_node.iter_rows())
    outside: list[OutsideNode] = []
    for node_id, group in by_node.items():
        away = [link for link in group if not link.local]
        if not away or not node_id:
            continue
        values = [link.value_yuan for link in away if link.value_yuan is not None]
        outside.append(
            OutsideNode(node_id, chain.nodes[node_id].name_zh, len(away), sum(values) if values else None,
                        int(zone_counts.get(node_id, 0)))
        )
    outside.sort(key=lambda o: (-o.supplier_count, -(o.value_yuan or 0), o.node_id))

    reasons = []
    if not n_links:
        reasons.append("库中没有该企业的供应商关系（relations 表无记录），无法计算本地配套率")
    else:
        reasons.append(f"按家数：本地供应商 {n_local}/{n_links} = {ratio_count:.1%}")
        if ratio_value is None:
            reasons.append("按金额：数据不足（供应关系均无金额）")
        else:
            reasons.append(
                f"按金额：本地 {format_yuan(local_value)} / 已知金额 {format_yuan(total_value)} = {ratio_value:.1%}"
                f"（{len(valued)}/{n_links} 条有金额）"
            )
        if localised:
            reasons.append(f"假设情形：本地新增企业承接 {'、'.join(sorted(chain.nodes[n].name_zh for n in localised))} 的区外采购")
    return LeaderView(
        leader_id=leader.id, leader_name=leader.name, zone_id=world.zone.id, suppliers_by_node=by_node,
        local_ratio_count=ratio_count, local_ratio_value=ratio_value, outside_nodes=outside,
        supplier_count=n_links, value_known_count=len(valued), reasons=reasons,
        is_demo=world.is_demo or leader.source == "demo", chain_id=chain.id,
    )

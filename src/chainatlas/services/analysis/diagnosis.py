"""Chain diagnosis for a zone: node strength and verdicts, gaps and their opportunity, relatedness.

Everything is read with SELECTs (world.py) and computed in memory (numpy/polars); nothing here writes to the
database, so the what-if variant (whatif.py: hypothetical firms, a pipeline project) is the same computation on
modified copies. The chain leaders' demand a gap shows comes from leader_supply.py.

How the numbers are built (why):
- A firm on a sub-node also counts on its ancestors (a battery-cell maker is in the battery segment); counts are
  of distinct firms, so a firm placed on two children is one firm on the parent.
- Location quotient (LQ) = zone share of its firms on the node ÷ benchmark share (all firms in the database, or a
  peer group of cities/provinces). Denominators are *all* enterprises, so LQ measures specialisation.
- Relatedness uses the city × node matrix of every city in the database; the zone is scored as an extra row
  against that world (it is part of a city, not a city).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.cells import csv_cell
from chainatlas.domain.chain import Chain
from chainatlas.domain.money import format_yuan
from chainatlas.engines import relatedness as rel
from chainatlas.services.analysis.settings import AnalysisSettings, load_settings
from chainatlas.services.analysis.leader_supply import leader_demand
from chainatlas.services.analysis.world import MEASURE_COLUMNS, HypotheticalFirm, World, load_world
from chainatlas.store.models import Enterprise

VERDICT_RANK = {"未知": -1, "缺": 0, "样本不足": 1, "弱": 1, "较强": 2, "强": 3}
# How each scale measure (world.MEASURE_COLUMNS) is named and shown.
MEASURE_ZH = {"capital": "注册资本", "revenue": "营业收入", "output": "产值", "employees": "从业人数"}
QUADRANTS = {
    (True, True): "优势且关联强",
    (True, False): "优势但关联弱",
    (False, True): "潜力：关联强未形成",
    (False, False): "远期：关联弱",
}


# ---------------------------------------------------------------- public types


@dataclass
class NodeStrength:
    node_id: str
    name_zh: str
    name_en: str
    stage: str
    parent_id: str | None
    core: bool
    firm_count: int
    capital_yuan: int | None
    revenue_yuan: int | None
    output_yuan: int | None
    listed_count: int
    designated_count: int
    leader_count: int
    lq: float | None
    density: float | None
    verdict: str  # 强 较强 弱 样本不足 缺 未知
    reasons: list[str]
    enterprise_ids: list[int]
    # beyond the contract: relatedness detail and what-if bookkeeping
    rca: float | None = None
    present: bool | None = None
    peer_density: float | None = None
    quadrant: str = ""
    cog: float | None = None
    benchmark_count: int = 0
    hypothetical_count: int = 0
    scale_measure: str = ""  # the measure the verdict's scale rests on ("" = none known well enough)
    scale_share: float | None = None  # the zone's share of the benchmark's known measure on the node


@dataclass
class Gap:
    node_id: str
    name_zh: str
    gap_type: str  # 补链 强链 延链
    opportunity: float
    components: dict[str, float]
    reasons: list[str]


@dataclass
class Diagnosis:
    zone_id: str
    chain_id: str
    nodes: dict[str, NodeStrength]
    gaps: list[Gap]
    generated_at: datetime
    is_demo: bool
    zone_name: str = ""
    zone_firm_count: int = 0
    zone_chain_firm_count: int = 0
    benchmark: str = ""
    region_count: int = 0
    coi: float | None = None
    settings_source: str = ""
    hypothetical: list[HypotheticalFirm] = field(default_factory=list)


# ---------------------------------------------------------------- diagnosis


def _hyp_nodes(chain: Chain, firm: HypotheticalFirm) -> set[str]:
    """The firm's nodes and their ancestors (distinct, as for real firms)."""
    out: set[str] = set()
    for node_id in firm.node_ids:
        if node_id not in chain.nodes:
            raise ValueError(f"假设企业“{firm.name}”的环节 “{node_id}” 不在产业链 {chain.id} 中；请用 chainatlas chain show 查看环节 id。")
        current: str | None = node_id
        while current is not None:
            out.add(current)
            current = chain.nodes[current].parent
    return out


def _money_reason(label: str, total: int | None, known: int, count: int) -> str:
    if total is None:
        return f"{label}：数据不足（{count} 家企业都没有这项数据）"
    return f"{label}合计 {format_yuan(total)}（{known}/{count} 家有数据）"


def _measure_text(measure: str, value: float) -> str:
    return f"{int(value):,}人" if measure == "employees" else format_yuan(int(value))


@dataclass(frozen=True)
class _Scale:
    """The scale a node's verdict rests on: one measure, the zone's sum on the node against the benchmark's."""

    measure: str
    zone_sum: int
    known: int  # local firms on the node with the measure
    bench_sum: int
    bench_known: int
    share: float  # zone_sum / bench_sum
    quotient: float  # (zone_sum / zone's chain sum) / (bench_sum / benchmark's chain sum)

    def describe(self, count: int) -> str:
        label = MEASURE_ZH[self.measure]
        return (
            f"规模口径{label}：本区 {_measure_text(self.measure, self.zone_sum)}（{self.known}/{count} 家有数据），"
            f"占基准该环节已知{label} {_measure_text(self.measure, self.bench_sum)}（{self.bench_known} 家）的 "
            f"{self.share:.1%}，规模区位商 {self.quotient:.2f}"
        )


def _scale_verdict(scale: _Scale, settings: AnalysisSettings) -> tuple[str, str]:
    th, sc = settings.verdict, settings.scale
    if scale.share >= sc.strong_share and scale.quotient >= th.strong_lq:
        return "强", f"份额 ≥ {sc.strong_share:.0%} 且规模区位商 ≥ {th.strong_lq}"
    if scale.share >= sc.fairly_strong_share and scale.quotient >= th.fairly_strong_lq:
        return "较强", f"份额 ≥ {sc.fairly_strong_share:.0%} 且规模区位商 ≥ {th.fairly_strong_lq}"
    return "弱", f"较强须份额 ≥ {sc.fairly_strong_share:.0%} 且规模区位商 ≥ {th.fairly_strong_lq}"


def _count_verdict(count: int, lq: float | None, settings: AnalysisSettings) -> tuple[str, str]:
    th = settings.verdict
    lq_text = "区位商无法计算" if lq is None else f"区位商 {lq:.2f}"
    if count < th.min_sample_firms:
        return "样本不足", f"按家数：本区仅 {count} 家（少于样本下限 {th.min_sample_firms} 家），{lq_text}不足为据"
    if count >= th.strong_min_firms and (lq is None or lq >= th.strong_lq):
        return "强", f"按家数：{lq_text} ≥ {th.strong_lq} 且企业 {count} 家 ≥ {th.strong_min_firms} 家 → 强"
    if count >= th.fairly_strong_min_firms and (lq is None or lq >= th.fairly_strong_lq):
        return "较强", f"按家数：{lq_text} ≥ {th.fairly_strong_lq} 且企业 {count} 家 ≥ {th.fairly_strong_min_firms} 家 → 较强"
    return "弱", f"按家数：{lq_text}（较强须 ≥ {th.fairly_strong_lq}）、企业 {count} 家 → 弱"


def _verdict(
    count: int, lq: float | None, leaders: int, db_count: int, scale: _Scale | None, settings: AnalysisSettings
) -> tuple[str, list[str]]:
    """The rule written out in data/analysis.yaml: scale where known, counts above a sample floor, 链主 floor."""
    if db_count == 0:
        return "未知", ["全库没有任何企业落在该环节（名录或分类词表可能未覆盖），无法判断强弱"]
    if count == 0:
        return "缺", [f"本区没有企业落在该环节（全库有 {db_count} 家）→ 缺"]
    by_count, count_why = _count_verdict(count, lq, settings)
    if scale is None:
        verdict = by_count
        reasons = [f"依据：本区 {count} 家企业；规模数据不足（有数据的企业不到 {settings.scale.min_coverage:.0%}），只按家数判断",
                   count_why]
    else:
        verdict, scale_why = _scale_verdict(scale, settings)
        reasons = [f"依据：本区 {count} 家企业；{scale.describe(count)}", f"按规模：{scale_why} → {verdict}", count_why]
        if by_count != "样本不足" and VERDICT_RANK[by_count] > VERDICT_RANK[verdict]:
            lifted = by_count if VERDICT_RANK[by_count] <= VERDICT_RANK["较强"] else "较强"
            if VERDICT_RANK[lifted] > VERDICT_RANK[verdict]:
                reasons.append(f"企业家数多而规模小：按家数最多提到 较强 → {lifted}")
                verdict = lifted
    floor = settings.verdict.anchor_min_verdict
    if leaders and floor and VERDICT_RANK[verdict] < VERDICT_RANK[floor]:
        reasons.append(f"有分析员标记的链主企业 {leaders} 家，按设置至少判为 {floor}")
        verdict = floor
    return verdict, reasons


def _pick_scale(
    j: int, count: int, bench_count: float, zone_sum: dict[str, np.ndarray], zone_known: dict[str, np.ndarray],
    zone_chain: dict[str, float], bench_sum: dict[str, np.ndarray], bench_known: dict[str, np.ndarray],
    bench_chain: dict[str, float], settings: AnalysisSettings,
) -> _Scale | None:
    """The first measure (in the configured order) that enough of the node's firms have, locally and in the
    benchmark: a share of a benchmark that knows only the zone's own figures would be 100 % by construction."""
    for m in settings.scale.measures:
        known = int(zone_known[m][j])
        if not count or known / count < settings.scale.min_coverage:
            continue
        if not bench_count or bench_known[m][j] / bench_count < settings.scale.min_coverage:
            continue
        if bench_known[m][j] - known < settings.verdict.min_sample_firms:
            continue  # a share of a node that hardly anyone else is known on says nothing
        if bench_sum[m][j] <= 0 or zone_chain[m] <= 0 or bench_chain[m] <= 0 or zone_sum[m][j] <= 0:
            continue
        share = float(zone_sum[m][j] / bench_sum[m][j])
        quotient = float((zone_sum[m][j] / zone_chain[m]) / (bench_sum[m][j] / bench_chain[m]))
        return _Scale(m, int(zone_sum[m][j]), known, int(bench_sum[m][j]), int(bench_known[m][j]), share, quotient)
    return None


def _measure_sums(placed: pl.DataFrame, node_index: dict[str, int]) -> tuple[dict, dict, dict]:
    """Per measure: the node sums and known counts (arrays over nodes) and the chain sum over distinct firms."""
    n = len(node_index)
    sums = {m: np.zeros(n) for m in MEASURE_COLUMNS}
    known = {m: np.zeros(n) for m in MEASURE_COLUMNS}
    if placed.height:
        by_node = placed.group_by("node").agg(
            *(pl.col(m).sum().alias(m) for m in MEASURE_COLUMNS),
            *(pl.col(m).count().alias(f"{m}_known") for m in MEASURE_COLUMNS),
        )
        for row in by_node.iter_rows(named=True):
            j = node_index[row["node"]]
            for m in MEASURE_COLUMNS:
                sums[m][j] = row[m] or 0
                known[m][j] = row[f"{m}_known"]
    firms = placed.unique("firm")
    chain = {m: float(firms[m].sum() or 0) if firms.height else 0.0 for m in MEASURE_COLUMNS}
    return sums, known, chain


def diagnose(
    session: Session,
    zone_id: str,
    chain_id: str,
    settings: AnalysisSettings | None = None,
    extra_firms: list[HypotheticalFirm] | None = None,
    baseline: Path | None = None,
) -> Diagnosis:
    """Node strength, verdicts, relatedness and ranked gaps for a zone; extra_firms are added in memory only.
    baseline: a region × node matrix to compare the zone with (default CHAINATLAS_BASELINE; none: the database)."""
    settings = settings or load_settings()
    world = load_world(session, zone_id, chain_id, baseline=baseline or config.baseline_path())
    return diagnose_world(session, world, settings, list(extra_firms or []))


def diagnose_world(session: Session, world: World, settings: AnalysisSettings, extra: list[HypotheticalFirm]) -> Diagnosis:
    chain, nodes, zone = world.chain, world.node_ids, world.zone
    n_nodes = len(nodes)
    node_index = {n: j for j, n in enumerate(nodes)}
    regions = list(world.regions)
    region_index = {r: i for i, r in enumerate(regions)}
    x, row_totals, node_all = world.x.copy(), world.row_totals.copy(), world.node_all.copy()
    city_totals = dict(world.city_totals)
    all_total = world.all_total
    zone_chain_total = world.zone_chain_total
    zone_total = world.zone_firms.height
    zf = world.zone_firms
    stats = world.zone_stats

    # What-if: hypothetical firms join the zone, its city row and the benchmark — on copies only.
    hyp_count = np.zeros(n_nodes, dtype=int)
    hyp_money = {k: np.zeros(n_nodes, dtype=np.int64) for k in MEASURE_COLUMNS}
    hyp_known = {k: np.zeros(n_nodes, dtype=int) for k in MEASURE_COLUMNS}
    hyp_chain = dict.fromkeys(MEASURE_COLUMNS, 0.0)
    hyp_leader = np.zeros(n_nodes, dtype=int)
    hyp_listed = np.zeros(n_nodes, dtype=int)
    for firm in extra:
        cols = [node_index[n] for n in _hyp_nodes(chain, firm)]
        hyp_count[cols] += firm.count
        for key, value in (("capital", firm.capital_yuan), ("revenue", firm.revenue_yuan),
                           ("output", firm.output_yuan), ("employees", firm.employees)):
            if value is not None:
                hyp_money[key][cols] += value * firm.count
                hyp_known[key][cols] += firm.count
                hyp_chain[key] += value * firm.count
        hyp_leader[cols] += firm.count * int(firm.is_leader)
        hyp_listed[cols] += firm.count * int(firm.listed)
        zone_chain_total += firm.count
        zone_total += firm.count
        all_total += firm.count
        node_all[cols] += firm.count
        if zone.city_code:
            city_totals[zone.city_code] = city_totals.get(zone.city_code, 0) + firm.count
            if zone.city_code not in region_index:
                region_index[zone.city_code] = len(regions)
                regions.append(zone.city_code)
                x = np.vstack([x, np.zeros(n_nodes)])
                row_totals = np.append(row_totals, 0.0)
            x[region_index[zone.city_code], cols] += firm.count
            row_totals[region_index[zone.city_code]] += firm.count

    zone_counts = np.array([len(stats[n]["ids"]) if n in stats else 0 for n in nodes]) + hyp_count

    # Benchmark for LQ.
    bench = settings.benchmark
    bench_text = bench.describe() + (f"，全国基准矩阵 {world.baseline}" if world.baseline else "")
    if bench.kind == "all":
        bench_nodes, bench_total = node_all, float(all_total)
        peer_rows = np.ones(len(regions), dtype=bool)
    else:
        peer_rows = np.array([r.startswith(bench.peers) for r in regions], dtype=bool)
        bench_nodes = x[peer_rows].sum(axis=0) if peer_rows.any() else np.zeros(n_nodes)
        bench_total = float(sum(n for c, n in city_totals.items() if c and c.startswith(bench.peers)))
    lq = rel.location_quotient(zone_counts, zone_total, bench_nodes, bench_total)

    # Scale: the zone's and the benchmark's measure sums per node and over the chain (hypothetical firms join
    # both, the benchmark where the zone's city is in it).
    in_bench = bench.kind == "all" or bool(zone.city_code and zone.city_code.startswith(bench.peers))
    bench_placed = world.placed if bench.kind == "all" else world.placed.filter(
        pl.any_horizontal(*(pl.col("city").fill_null("").str.starts_with(p) for p in bench.peers)))
    bench_sum, bench_known, bench_chain = _measure_sums(bench_placed, node_index)
    zone_sum, zone_known, zone_chain = _measure_sums(world.zone_placed, node_index)
    for m in MEASURE_COLUMNS:
        zone_sum[m] += hyp_money[m]
        zone_known[m] += hyp_known[m]
        zone_chain[m] += hyp_chain[m]
        if in_bench:
            bench_sum[m] += hyp_money[m]
            bench_known[m] += hyp_known[m]
            bench_chain[m] += hyp_chain[m]

    # Relatedness against every city in the database; the zone is an extra row.
    dens = cog = rca_zone = m_zone = peer_density = None
    coi = None
    if len(regions) >= 2 and row_totals.sum() > 0:
        world_rel = rel.relatedness(x, regions, nodes, settings.presence_rca, row_totals=row_totals)
        scored = world_rel.score_row(zone_counts.astype(float), float(zone_chain_total), settings.presence_rca)
        dens, cog, rca_zone, m_zone = scored["density"], scored["cog"], scored["rca"], scored["m"]
        coi = float(scored["coi"][0])
        active = peer_rows & (row_totals > 0)
        peer_density = world_rel.density[active].mean(axis=0) if active.any() else np.zeros(n_nodes)

    # Node strength and verdicts.
    result: dict[str, NodeStrength] = {}
    for j, node_id in enumerate(nodes):
        node = chain.nodes[node_id]
        st = stats.get(node_id, {})
        ids = st.get("ids", [])
        count = int(zone_counts[j])
        money: dict[str, tuple[int | None, int]] = {}
        for key in ("capital", "revenue", "output"):
            known = int(st.get(f"{key}_known", 0)) + int(hyp_known[key][j])
            total = int(st.get(key) or 0) + int(hyp_money[key][j])
            money[key] = (total if known else None, known)
        listed = int(st.get("listed", 0)) + int(hyp_listed[j])
        leaders = int(st.get("leader", 0)) + int(hyp_leader[j])
        designated = int(st.get("designated", 0))
        lq_j = None if np.isnan(lq[j]) else float(lq[j])
        scale = _pick_scale(j, count, float(bench_nodes[j]), zone_sum, zone_known, zone_chain, bench_sum, bench_known, bench_chain, settings)
        verdict, why = _verdict(count, lq_j, leaders, int(node_all[j]), scale, settings)
        reasons: list[str] = []
        if count:
            extra_text = f"，其中假设企业 {hyp_count[j]} 家" if hyp_count[j] else ""
            reasons.append(
                f"本区该环节企业 {count} 家{extra_text}（上市 {listed} 家、获评称号 {designated} 家、链主 {leaders} 家）"
            )
            reasons.append(_money_reason("注册资本", money["capital"][0], money["capital"][1], count))
            reasons.append(_money_reason("营业收入", money["revenue"][0], money["revenue"][1], count))
            reasons.append(_money_reason("产值", money["output"][0], money["output"][1], count))
        if lq_j is not None and zone_total:
            reasons.append(
                f"区位商 {lq_j:.2f} = 本区占比 {count / zone_total:.2%}（{count}/{zone_total}）÷ "
                f"基准占比 {bench_nodes[j] / bench_total:.2%}（{int(bench_nodes[j])}/{int(bench_total)}，{bench_text}）"
            )
        elif node_all[j]:
            reasons.append(f"区位商无法计算：基准（{bench_text}）中该环节无企业，或本区无企业名录")
        reasons.extend(why)
        quadrant, dens_j, peer_j = "", None, None
        # A node no firm anywhere is on has no relatedness to speak of (its density is 0 by construction).
        if dens is not None and peer_density is not None and m_zone is not None and node_all[j] > 0:
            dens_j, peer_j = float(dens[j]), float(peer_density[j])
            quadrant = QUADRANTS[(bool(m_zone[j]), dens_j >= peer_j)]
            reasons.append(
                f"关联密度 {dens_j:.2f}（对标城市平均 {peer_j:.2f}），本区 RCA {float(rca_zone[j]):.2f} → {quadrant}"
            )
        result[node_id] = NodeStrength(
            node_id=node_id, name_zh=node.name_zh, name_en=node.name_en, stage=node.stage, parent_id=node.parent,
            core=node.core, firm_count=count, capital_yuan=money["capital"][0], revenue_yuan=money["revenue"][0],
            output_yuan=money["output"][0], listed_count=listed, designated_count=designated, leader_count=leaders,
            lq=lq_j, density=dens_j, verdict=verdict, reasons=reasons, enterprise_ids=[int(i) for i in ids],
            rca=None if rca_zone is None else float(rca_zone[j]), present=None if m_zone is None else bool(m_zone[j]),
            peer_density=peer_j, quadrant=quadrant, cog=None if cog is None else float(cog[j]),
            benchmark_count=int(bench_nodes[j]), hypothetical_count=int(hyp_count[j]),
            scale_measure=scale.measure if scale else "", scale_share=scale.share if scale else None,
        )

    demand = leader_demand(session, world, extra)
    gaps = _gaps(chain, result, demand, settings)
    return Diagnosis(
        zone_id=zone.id, chain_id=chain.id, nodes=result, gaps=gaps, generated_at=datetime.now(timezone.utc),
        is_demo=world.is_demo or bool(zf["demo"].any()), zone_name=zone.name, zone_firm_count=zone_total,
        zone_chain_firm_count=zone_chain_total, benchmark=bench_text, region_count=len(regions), coi=coi,
        settings_source=settings.source, hypothetical=extra,
    )


def _gaps(
    chain: Chain, nodes: dict[str, NodeStrength], demand: dict[str, tuple[int, int | None]], settings: AnalysisSettings
) -> list[Gap]:
    th = settings.verdict
    weights = settings.opportunity_weights
    max_weight = max(n.weight for n in chain.nodes.values()) or 1.0
    max_demand = max((c for c, _ in demand.values()), default=0)
    # Feasibility is density scaled by the zone's best density on the chain: raw densities of a sparse world sit
    # near 0 everywhere, which would silence this component; the scaling keeps their order and the raw value shows.
    max_density = max((n.density for n in nodes.values() if n.density is not None), default=0.0)
    gaps: list[Gap] = []
    for node_id, ns in nodes.items():
        if ns.verdict == "缺":
            strong = sorted(
                n for n in chain.neighbours(node_id) if nodes[n].verdict in settings.extend_from
            )
            if strong:
                gap_type = "延链"
                why = [f"本区无该环节企业，但相邻环节较强：{'、'.join(nodes[n].name_zh + '(' + nodes[n].verdict + ')' for n in strong)} → 延链"]
            else:
                gap_type, why = "补链", ["本区无该环节企业，相邻环节也不强 → 补链"]
            gap_size = 1.0
        elif ns.verdict in ("弱", "样本不足"):
            gap_type = "强链"
            by_lq = 0.5 if ns.lq is None else max(0.0, 1.0 - min(ns.lq, th.fairly_strong_lq) / th.fairly_strong_lq)
            by_count = max(0.0, 1.0 - min(ns.firm_count, th.fairly_strong_min_firms) / th.fairly_strong_min_firms)
            gap_size = max(by_lq, by_count)
            why = [f"本区有 {ns.firm_count} 家但判为{ns.verdict} → 强链"]
        else:
            continue
        node = chain.nodes[node_id]
        importance = _importance(node.core, node.weight, max_weight, settings.importance_core_share)
        feasibility = ns.density / max_density if ns.density is not None and max_density > 0 else 0.0
        outside_count, outside_value = demand.get(node_id, (0, None))
        demand_c = outside_count / max_demand if max_demand else 0.0
        components = {
            "importance": round(importance, 4),
            "gap": round(gap_size, 4),
            "feasibility": round(feasibility, 4),
            "demand": round(demand_c, 4),
        }
        score = sum(weights[k] * components[k] for k in components) / sum(weights.values())
        reasons = why + [
            f"重要性 {importance:.2f}（{'核心环节' if node.core else '非核心环节'}，权重 {node.weight:g}/最高 {max_weight:g}）",
            f"缺口大小 {gap_size:.2f}",
            "可行性 " + (
                f"{feasibility:.2f}（关联密度 {ns.density:.3f} ÷ 本区各环节最高密度 {max_density:.3f}）"
                if ns.density is not None else "0（无关联密度数据：全库城市不足两个）"
            ),
            f"需求 {demand_c:.2f}（本区链主从区外采购该环节 {outside_count} 笔"
            + (f"，金额 {format_yuan(outside_value)}" if outside_value is not None else "")
            + "）",
            "机会分 = " + " + ".join(f"{weights[k]:g}×{components[k]:.2f}" for k in components)
            + (f" ÷ {sum(weights.values()):g}" if abs(sum(weights.values()) - 1) > 1e-9 else "")
            + f" = {score:.3f}",
        ]
        gaps.append(Gap(node_id, ns.name_zh, gap_type, round(score, 4), components, reasons))
    gaps.sort(key=lambda g: (-g.opportunity, g.node_id))
    return gaps


def _importance(core: bool, weight: float, max_weight: float, core_share: float) -> float:
    return core_share * float(core) + (1.0 - core_share) * (weight / max_weight if max_weight else 0.0)


# ---------------------------------------------------------------- export


def diagnosis_to_dict(diagnosis: Diagnosis) -> dict:
    data = asdict(diagnosis)
    data["generated_at"] = diagnosis.generated_at.isoformat()
    return data


def placed_firms(session: Session, diagnosis: Diagnosis) -> list[dict]:
    """The zone's firms on the chain: id, key (USCC, else stock code, else name), name and their nodes."""
    nodes: dict[int, list[str]] = {}
    for ns in diagnosis.nodes.values():
        for eid in ns.enterprise_ids:
            nodes.setdefault(eid, []).append(ns.node_id)
    rows = session.execute(select(Enterprise.id, Enterprise.uscc, Enterprise.listing_code, Enterprise.name)
                           .where(Enterprise.id.in_(list(nodes)))) if nodes else []
    return sorted(({"id": eid, "key": uscc or listing or name, "name": name, "nodes": nodes[eid]}
                   for eid, uscc, listing, name in rows), key=lambda f: f["id"])


def nothing_placed_hint(diagnosis: Diagnosis, chain: Chain) -> str:
    """Why a zone has no firm on the chain, and what to run (Chinese first)."""
    head = f"开发区“{diagnosis.zone_name}”在产业链“{chain.name_zh}”上没有企业："
    if diagnosis.zone_firm_count == 0:
        return (head + "区内还没有企业。请先导入企业名单（chainatlas import enterprises 文件），"
                "或检查开发区的区划代码是否覆盖企业所在地（chainatlas zone show 开发区）。")
    return (head + f"区内 {diagnosis.zone_firm_count} 家企业都没有归到链上——它们缺少主营产品、经营范围或所属行业。"
            "请导入产品文件（chainatlas import products 文件），或补充经营范围后重新归链（chainatlas place）。")


NODE_CSV_COLUMNS = (
    "node_id", "name_zh", "stage", "core", "verdict", "firm_count", "capital_yuan", "revenue_yuan", "output_yuan",
    "listed_count", "designated_count", "leader_count", "lq", "density", "peer_density", "quadrant", "gap_type",
    "opportunity", "reasons",
)


def diagnosis_to_csv(diagnosis: Diagnosis) -> str:
    gaps = {g.node_id: g for g in diagnosis.gaps}
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(NODE_CSV_COLUMNS)
    for ns in diagnosis.nodes.values():
        gap = gaps.get(ns.node_id)
        writer.writerow([
            ns.node_id, csv_cell(ns.name_zh), ns.stage, int(ns.core), ns.verdict, ns.firm_count, ns.capital_yuan, ns.revenue_yuan,
            ns.output_yuan, ns.listed_count, ns.designated_count, ns.leader_count,
            "" if ns.lq is None else round(ns.lq, 4), "" if ns.density is None else round(ns.density, 4),
            "" if ns.peer_density is None else round(ns.peer_density, 4), ns.quadrant,
            gap.gap_type if gap else "", gap.opportunity if gap else "", csv_cell("；".join(ns.reasons)),
        ])
    return buf.getvalue()

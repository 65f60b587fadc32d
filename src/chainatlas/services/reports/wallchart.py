"""The wall chart (产业链企业挂图): the zone's chain, node by node, with its firms, verdicts, gaps and targets.

`render_wallchart` gathers the data (diagnosis, targets, firms) into a `WallSpec`, lets the layout engine place
everything, and draws the sheets as PDF (exact ISO page size, font embedded) or SVG (engines/wall_render.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from chainatlas import config
from chainatlas.domain.chain import Chain, load_chain
from chainatlas.domain.money import format_yuan
from chainatlas.engines.wall_layout import (
    WallFirm,
    WallNode,
    WallSpec,
    WallTarget,
    layout_wallchart,
)
from chainatlas.ingest.names import basic, name_key
from chainatlas.engines.wall_render import layout_to_pdf, layout_to_svg
from chainatlas.engines.fonts import font_path
from chainatlas.services.sites.overview import available_panel
from chainatlas.services.catalog.zones import resolve_zone
from chainatlas.store.models import Enterprise, ImportBatch, Zone

TARGETS_PER_GAP = 3


def render_wallchart(
    session: Session, zone_id: str, chain_id: str, size: str = "A0", out: Path | str = "wallchart.pdf",
    *, today: date | None = None,
) -> list[Path]:
    """Write the chart to `out` (.pdf: all sheets in one file; .svg: one file per sheet, -2, -3 … appended)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".svg"):
        raise ValueError(f"输出文件“{out}”的扩展名应为 .pdf 或 .svg")
    font_path()  # a missing font is a clear error before any work
    spec = build_wall_spec(session, zone_id, chain_id, today=today)
    layout = layout_wallchart(spec, size)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        out.write_bytes(layout_to_pdf(layout, spec.title))
        return [out]
    paths = []
    for i, svg in enumerate(layout_to_svg(layout), 1):
        path = out if i == 1 else out.with_name(f"{out.stem}-{i}{out.suffix}")
        path.write_text(svg, encoding="utf-8")
        paths.append(path)
    return paths


def wallchart_pdf(session: Session, zone_id: str, chain_id: str, size: str = "A0") -> bytes:
    """The chart as PDF bytes, for a web download."""
    font_path()  # a missing font is a clear error before any work
    spec = build_wall_spec(session, zone_id, chain_id)
    return layout_to_pdf(layout_wallchart(spec, size), spec.title)


# ---------------------------------------------------------------- data


def build_wall_spec(session: Session, zone_id: str, chain_id: str, *, today: date | None = None) -> WallSpec:
    from chainatlas.services.analysis.diagnosis import diagnose  # issue 5
    from chainatlas.services.targets.ranking import rank_targets  # issue 6

    zone = resolve_zone(session, zone_id)
    chain = load_chain(chain_id)
    diagnosis = diagnose(session, zone.id, chain.id)
    gaps = {g.node_id: g for g in diagnosis.gaps}
    ids = {i for ns in diagnosis.nodes.values() for i in ns.enterprise_ids}
    firms = _firms(session, ids)
    places = _place_names(zone)

    def node(node_id: str) -> WallNode:
        ns = diagnosis.nodes[node_id]
        kids = [node(c.id) for c in chain.children(node_id) if c.id in diagnosis.nodes]
        # A segment prints only the firms not already printed on one of its sub-nodes.
        below = {i for c in chain.descendants(node_id) if c.id in diagnosis.nodes for i in diagnosis.nodes[c.id].enterprise_ids}
        own = sorted((firms[i] for i in ns.enterprise_ids if i in firms and i not in below), key=_print_order)
        gap = gaps.get(node_id)
        targets = []
        if gap is not None:
            rows = rank_targets(session, zone.id, node_id, chain.id, limit=TARGETS_PER_GAP * 2)
            targets = [
                WallTarget(abbreviate(r.name, places), r.city_name, r.score) for r in rows if not r.vetoed
            ][:TARGETS_PER_GAP]
        return WallNode(
            id=node_id, name_zh=ns.name_zh, stage=ns.stage, verdict=ns.verdict, firm_count=ns.firm_count,
            firms=[_wall_firm(e, places) for e in own], core=ns.core, stats=_stats(ns),
            gap_type=gap.gap_type if gap else None, targets=targets, children=kids,
        )

    segments = [node(s.id) for s in chain.segments() if s.id in diagnosis.nodes]
    demo = diagnosis.is_demo or any(e.source == "demo" for e in firms.values())
    day = today or config.today()
    in_zone = len(ids)
    return WallSpec(
        title=f"{zone.name}{chain.name_zh}产业链企业分布图",
        subtitle=(
            f"截至 {day:%Y年%m月%d日} · 链上本区企业 {in_zone} 家 · 节点 {len(diagnosis.nodes)} 个 · "
            f"缺口节点 {len(gaps)} 个（补链 {sum(g.gap_type == '补链' for g in gaps.values())}、"
            f"强链 {sum(g.gap_type == '强链' for g in gaps.values())}、延链 {sum(g.gap_type == '延链' for g in gaps.values())}）"
            + (" · 含演示数据" if demo else "")
        ),
        sources=_sources_line(session, zone, chain, firms.values()),
        stages=[(s.id, s.name_zh) for s in chain.stages],
        segments=segments,
        demo=demo,
        footer=f"ChainAtlas 链图 · 生成于 {day:%Y-%m-%d} · 产业链 {chain.id} v{chain.version}",
        sites=sites_line(session, zone.id, day),
    )


def sites_line(session: Session, zone_id: str, day: date) -> str:
    """The 载体 panel as one paragraph: what each park can offer now, in the units bureaus quote."""
    rows = available_panel(session, zone_id, day)
    if not rows:
        return ""
    parts = []
    for r in rows:
        offer = [f"{label}{value:,.{digits}f}{unit}" for label, value, digits, unit in (
            ("工业用地", r["land_mu"], 1, "亩"), ("标准厂房", r["factory_m2"], 0, "㎡"), ("写字楼", r["office_m2"], 0, "㎡"))
            if value]
        parts.append(f"{r['park']} {'、'.join(offer)}")
    return f"可供载体（截至 {day:%Y-%m-%d}）：" + "；".join(parts)


def _firms(session: Session, ids: set[int]) -> dict[int, Enterprise]:
    out: dict[int, Enterprise] = {}
    id_list = sorted(ids)
    for start in range(0, len(id_list), 900):  # SQLite bound-parameter limit
        chunk = id_list[start : start + 900]
        stmt = select(Enterprise).where(Enterprise.id.in_(chunk)).options(selectinload(Enterprise.designations))
        out.update((e.id, e) for e in session.scalars(stmt))
    return out


def _print_order(e: Enterprise) -> tuple:
    # Leaders first, then listed, designated, then the larger firms: the names a visitor looks for.
    return (not e.is_leader, not e.listing_code, not e.designations, -(e.registered_capital_yuan or 0), e.name)


def _wall_firm(e: Enterprise, places: Sequence[str]) -> WallFirm:
    return WallFirm(
        label=e.short_name or abbreviate(e.name, places), full_name=e.name, leader=e.is_leader,
        listed=bool(e.listing_code), designated=bool(e.designations),
    )


def _stats(ns: object) -> str:
    parts = []
    capital = getattr(ns, "capital_yuan", None)
    if capital:
        parts.append(f"注册资本 {format_yuan(capital)}")
    output = getattr(ns, "output_yuan", None)
    if output:
        parts.append(f"产值 {format_yuan(output)}")
    lq = getattr(ns, "lq", None)
    if lq is not None:
        parts.append(f"LQ {lq:.2f}")
    return " · ".join(parts)


ZONE_WORDS = ("经济技术开发区", "经济开发区", "高新技术产业开发区", "开发区", "经开区")


def _place_names(zone: Zone) -> list[str]:
    """Zone-level prefixes the name normaliser does not know (it strips divisions, not development zones)."""
    names = {zone.name, *(zone.aliases or []), *ZONE_WORDS, *(m.name for m in zone.members)}
    return sorted(names, key=len, reverse=True)


def abbreviate(name: str, prefixes: Sequence[str] = ()) -> str:
    """A firm name as printed on the wall: the matching core of ingest.names (no place prefix, （武汉）, legal
    suffix or branch part) in its original letter case, then any zone prefix; never under two characters."""
    text = basic(name)
    core = name_key(name).core
    at = text.lower().find(core)
    label = text[at : at + len(core)] if at >= 0 and core else (core or text)
    for prefix in prefixes:
        if label.startswith(prefix) and len(label) - len(prefix) >= 2:
            label = label[len(prefix):]
            break
    return label if len(label) >= 2 else text


def _sources_line(session: Session, zone: Zone, chain: Chain, firms: object) -> str:
    kinds: set[str] = set()
    batch_ids: set[int] = set()
    for e in firms:  # type: ignore[attr-defined]
        src = e.source or ""
        if src == "demo":
            kinds.add("演示数据（虚构企业，仅供演示）")
        elif src.startswith("import:"):
            tail = src.split(":", 1)[1]
            if tail.isdigit():
                batch_ids.add(int(tail))
            else:
                kinds.add(f"导入文件 {tail}")
        elif src:
            kinds.add(src)
    if batch_ids:
        files = session.scalars(select(ImportBatch.file_name).where(ImportBatch.id.in_(batch_ids)))
        kinds.update(f"导入文件 {f}" for f in files)
    parts = [f"企业：{'；'.join(sorted(kinds)) or '无'}", f"产业链：{chain.name_zh} v{chain.version}（{chain.source}）"]
    if zone.source:
        parts.append(f"开发区范围：{zone.source}")
    parts.append("强弱判定：ChainAtlas 产业链诊断（企业数、注册资本、上市/认定企业、区位熵）；目标：ChainAtlas 目标企业评分")
    return "数据来源　" + "　".join(parts)

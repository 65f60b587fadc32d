"""Excel exports (企业名录、缺口与机会、目标企业、项目台账、年度目标、归链核实清单) for people who work in spreadsheets.

Every sheet: a title row, a note row (date, and 演示数据 when any demo row is in it), then one row of Chinese
headers frozen in place; numbers are numeric cells (money in 亿元, the unit in the header), never text.
The ledger is the pipeline's own export (services/pipeline/ledger.py), so its import reads back what is written here;
the target lists are the targets engineer's workbook (services/reports/target_list.py) for every gap node.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from chainatlas import config
from chainatlas.domain.chain import load_chain
from chainatlas.domain.money import yi
from chainatlas.services.catalog.zones import resolve_zone
from chainatlas.services.enterprises import evidence_label, method_label, source_label
from chainatlas.services.reports.sheet import Col, Sheet, any_demo, sheet_note
from chainatlas.store.models import Enterprise, Park

EXPORT_KINDS = ("firms", "gaps", "targets", "ledger", "kpi", "check")
EXPORT_TITLES = {"firms": "链上企业名录", "gaps": "节点强弱与缺口", "targets": "目标企业", "ledger": "招商项目台账",
                 "kpi": "年度目标完成情况", "check": "归链核实清单"}
TARGETS_PER_GAP = 10


def export(
    session: Session, kind: str, zone_id: str, out: Path | str, *, chain_id: str,
    year: int | None = None, as_of: date | None = None, username: str | None = None,
) -> int:
    """Write one export to `out` (.xlsx); returns the number of data rows. Used by the CLI and the web app.
    `username`: the target lists are ranked with that user's saved weights, as the 目标企业 page shows them."""
    if kind not in EXPORT_KINDS:
        raise ValueError(f"未知的导出类型“{kind}”，可选：{'、'.join(EXPORT_KINDS)}")
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise ValueError(f"输出文件“{out}”的扩展名应为 .xlsx")
    out.parent.mkdir(parents=True, exist_ok=True)
    zone = resolve_zone(session, zone_id)
    as_of = as_of or config.today()
    if kind == "ledger":
        from chainatlas.services.pipeline.ledger import export_ledger

        return export_ledger(session, out, zone.id, chain_id=chain_id, year=year or as_of.year, as_of=as_of)
    if kind == "targets":
        return _targets(session, zone.id, chain_id, out, username)
    with xlsxwriter.Workbook(str(out)) as wb:
        return _BUILDERS[kind](wb, session, zone.id, chain_id, year or as_of.year, as_of)


def export_bytes(session: Session, kind: str, zone_id: str, **options: Any) -> bytes:
    """The same workbook as bytes, for a web download."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}.xlsx"
        export(session, kind, zone_id, path, **options)
        return path.read_bytes()


# ---------------------------------------------------------------- builders

FIRM_COLS = (
    Col("环节", 8), Col("一级环节", 16), Col("节点", 18), Col("节点编码", 18), Col("节点判定", 8),
    Col("企业名称", 36), Col("统一社会信用代码", 21), Col("链主企业", 8, "bool"), Col("上市代码", 10),
    Col("认定（专精特新等）", 22), Col("注册资本（亿元）", 12, "yi"), Col("营业收入（亿元）", 12, "yi"),
    Col("产值（亿元）", 12, "yi"), Col("成立日期", 12, "date"), Col("园区", 20), Col("地址", 36),
    Col("归类方式", 9), Col("置信度", 8, "float"), Col("归类依据", 36), Col("数据来源", 14),
)


def _firms(wb: xlsxwriter.Workbook, session: Session, zone_id: str, chain_id: str, year: int, as_of: date) -> int:
    from chainatlas.services.analysis.diagnosis import diagnose
    from chainatlas.services.placement.placements import effective_placements

    zone = resolve_zone(session, zone_id)
    chain = load_chain(chain_id)
    diagnosis = diagnose(session, zone.id, chain.id)
    firms = {
        e.id: e for e in session.scalars(
            select(Enterprise).where(Enterprise.zone_id == zone.id, Enterprise.merged_into_id.is_(None))
            .options(selectinload(Enterprise.designations))
        )
    }
    placements = effective_placements(session, chain.id, enterprise_ids=list(firms))
    parks = {p.id: p.name for p in session.scalars(select(Park).where(Park.zone_id == zone.id))}
    by_node: dict[str, list[tuple[Enterprise, Any]]] = {}
    for eid, rows in placements.items():
        for p in rows:
            if eid in firms and p.node_id in chain.nodes:
                by_node.setdefault(p.node_id, []).append((firms[eid], p))
    demo = any(e.source == "demo" for node in by_node.values() for e, _ in node)
    sheet = Sheet(wb, "企业名录", f"{zone.name}{chain.name_zh}产业链企业名录（按节点）",
                   sheet_note(as_of, "一家企业可在多个节点"), FIRM_COLS, demo)
    for node in chain.nodes.values():
        segment = chain.segment_of(node.id)
        verdict = diagnosis.nodes[node.id].verdict if node.id in diagnosis.nodes else ""
        rows = sorted(by_node.get(node.id, []), key=lambda r: (not r[0].is_leader, -(r[0].registered_capital_yuan or 0)))
        for e, p in rows:
            sheet.append([
                chain.stage_name(node.stage), segment.name_zh, node.name_zh, node.id, verdict, e.name, e.uscc or "",
                e.is_leader, e.listing_code, "、".join(f"{d.level}{d.name}" for d in e.designations),
                yi(e.registered_capital_yuan), yi(e.revenue_yuan), yi(e.output_yuan), e.founded_on,
                parks.get(e.park_id or "", ""), e.address, method_label(p.method, p.evidence), p.confidence,
                _evidence_text(p.evidence), source_label(e.source),
            ])
    return sheet.finish()


def _evidence_text(evidence: Any) -> str:
    """The evidence as the enterprise page words it (产品：钴盐；所属行业：汽车配件), not the stored record's values
    (products、钴盐、strong、lithium-resources …)."""
    items = evidence if isinstance(evidence, (list, tuple)) else [evidence] if evidence else []
    return "；".join(dict.fromkeys(evidence_label(ev) for ev in items[:6]))


NODE_COLS = (
    Col("环节", 8), Col("节点", 18), Col("上级", 14), Col("核心", 6, "bool"), Col("判定", 8), Col("企业数", 8, "int"),
    Col("注册资本（亿元）", 12, "yi"), Col("营业收入（亿元）", 12, "yi"), Col("产值（亿元）", 12, "yi"),
    Col("上市企业数", 9, "int"), Col("认定企业数", 9, "int"), Col("链主企业数", 9, "int"), Col("区位熵 LQ", 9, "float"),
    Col("关联密度", 9, "float"), Col("判定依据", 80),
)
GAP_COLS = (Col("排序", 6, "int"), Col("节点", 18), Col("节点编码", 20), Col("缺口类型", 9), Col("机会分", 9, "float"))
COMPONENT_ZH = {"importance": "重要性", "gap": "缺口大小", "feasibility": "可行性", "demand": "需求"}


def _gaps(wb: xlsxwriter.Workbook, session: Session, zone_id: str, chain_id: str, year: int, as_of: date) -> int:
    from chainatlas.services.analysis.diagnosis import diagnose

    zone = resolve_zone(session, zone_id)
    chain = load_chain(chain_id)
    d = diagnose(session, zone.id, chain.id)
    keys = list(dict.fromkeys(k for g in d.gaps for k in g.components))
    cols = [*GAP_COLS, *(Col(f"分项：{COMPONENT_ZH.get(k, k)}", 10, "float") for k in keys), Col("理由", 90)]
    gaps = Sheet(wb, "缺口与机会", f"{zone.name}{chain.name_zh}产业链缺口与招商机会",
                  sheet_note(as_of, "机会分越高越优先；各分项 0–1"), cols, d.is_demo)
    for i, g in enumerate(d.gaps, 1):
        gaps.append([i, g.name_zh, g.node_id, g.gap_type, g.opportunity, *(g.components.get(k) for k in keys),
                     "；".join(g.reasons)])
    nodes = Sheet(wb, "节点强弱", f"{zone.name}{chain.name_zh}产业链节点强弱诊断", sheet_note(as_of), NODE_COLS, d.is_demo)
    for node in chain.nodes.values():
        ns = d.nodes.get(node.id)
        if ns is None:
            continue
        parent = chain.nodes[ns.parent_id].name_zh if ns.parent_id in chain.nodes else ""
        nodes.append([
            chain.stage_name(ns.stage), ns.name_zh, parent, ns.core, ns.verdict, ns.firm_count, yi(ns.capital_yuan),
            yi(ns.revenue_yuan), yi(ns.output_yuan), ns.listed_count, ns.designated_count, ns.leader_count, ns.lq,
            ns.density, "；".join(ns.reasons),
        ])
    nodes.finish()
    return gaps.finish()


def _targets(session: Session, zone_id: str, chain_id: str, out: Path, username: str | None) -> int:
    """The target lists of every gap node, best gap first: the targets engineer's workbook (one sheet a node)."""
    from chainatlas.services.analysis.diagnosis import diagnose
    from chainatlas.services.reports.target_list import export_targets_xlsx

    gaps = diagnose(session, zone_id, chain_id).gaps
    if not gaps:
        raise ValueError("诊断未发现缺口节点，没有目标企业可导出；可用 chainatlas targets 指定环节导出")
    return export_targets_xlsx(session, zone_id, [g.node_id for g in gaps], out, chain_id=chain_id,
                               limit=TARGETS_PER_GAP, username=username)


def kpi_columns() -> tuple[Col, ...]:
    return (
        Col("指标", 24), Col("单位", 8), Col("年度目标", 12, "float"), Col("累计完成", 12, "float"),
        Col("完成率（%）", 10, "pct"), Col("时序目标", 12, "float"), Col("是否超时序", 10), Col("预计全年", 12, "float"),
        Col("预计缺口", 8), *(Col(f"{m}月", 8, "float") for m in range(1, 13)), Col("说明", 40),
    )


def kpi_value(unit: str, value: int | None) -> float | None:
    """Counts stay counts; money goes to 亿元 so the cell is a number a leader reads."""
    if value is None:
        return None
    return yi(value) if unit == "元" else float(value)


def kpi_unit(unit: str) -> str:
    return "亿元" if unit == "元" else unit


def _kpi(wb: xlsxwriter.Workbook, session: Session, zone_id: str, chain_id: str, year: int, as_of: date) -> int:
    from chainatlas.services.pipeline.kpi import kpi_report

    zone = resolve_zone(session, zone_id)
    report = kpi_report(session, zone.id, year, as_of=as_of, chain_id=chain_id)
    sheet = Sheet(wb, "年度目标", f"{zone.name}{year}年招商目标完成情况",
                   sheet_note(report.as_of, f"预测方法：{report.method_zh}；金额单位亿元"), kpi_columns(), report.has_demo)
    for r in report.rows:
        sheet.append([
            r.label_zh, kpi_unit(r.unit), kpi_value(r.unit, r.target), kpi_value(r.unit, r.actual), r.pct,
            kpi_value(r.unit, r.time_target), "" if r.ahead is None else ("超时序" if r.ahead else "滞后"),
            kpi_value(r.unit, r.projection), "有缺口" if r.at_risk else "", *(kpi_value(r.unit, v) for v in r.monthly),
            r.note_zh,
        ])
    alerts = Sheet(wb, "预警", f"{zone.name}{year}年招商预警", sheet_note(report.as_of),
                    (Col("类型", 10), Col("项目编号", 14), Col("天数", 8, "int"), Col("内容", 100)), report.has_demo)
    kinds = {"stalled": "停滞", "overdue": "逾期", "target_at_risk": "目标风险", "unknown_measure": "指标不明"}
    for a in report.alerts:
        alerts.append([kinds.get(a.kind, a.kind), a.project_code, a.days, a.detail_zh or a.message_zh])
    alerts.finish()
    return sheet.finish()


CHECK_COLS = (
    Col("类别", 14), Col("企业名称", 36), Col("统一社会信用代码", 21), Col("所属行业", 14), Col("主营产品", 44),
    Col("推断或线索环节", 24), Col("依据", 60), Col("核实结论（归入环节 / 不在本链）", 26), Col("核实人", 10),
)


def _check(wb: xlsxwriter.Workbook, session: Session, zone_id: str, chain_id: str, year: int, as_of: date) -> int:
    """归链核实清单: the page's two lists in full, with empty columns for the verdict of whoever checks (a street
    office, the park), as bureaus hand such lists out; the verdicts go back in through the firm's page."""
    from chainatlas.services.enterprises import evidence_label
    from chainatlas.services.placement.check import placement_check

    zone = resolve_zone(session, zone_id)
    chain = load_chain(chain_id)
    check = placement_check(session, zone.id, chain, limit=None)
    rows = check.inferred + check.unplaced
    uscc = dict(session.execute(select(Enterprise.id, Enterprise.uscc).where(
        Enterprise.zone_id == zone.id, Enterprise.merged_into_id.is_(None))).all())
    sheet = Sheet(wb, "归链核实", f"{zone.name}{chain.name_zh}产业链归链核实清单",
                  sheet_note(as_of, f"泛称推断 {check.inferred_total} 家、未挂链 {check.unplaced_total} 家（其中文本含产业链词 "
                                    f"{check.unplaced_with_hints} 家）"),
                  CHECK_COLS, any_demo(session, [r.enterprise_id for r in rows]))
    for r in rows:
        if r.inferred is not None:
            kind, nodes = "泛称推断待核实", [chain.nodes[r.inferred.node_id].name_zh]
            why = [evidence_label(e) for e in r.inferred.evidence[:4]]
        else:
            kind = "未挂链（有线索）" if r.hints else "未挂链"
            nodes = [h.node_name for h in r.hints]
            why = [f"{h.node_name}：" + "、".join(evidence_label(e) for e in h.evidence[:3]) for h in r.hints]
        sheet.append([kind, r.name, uscc.get(r.enterprise_id) or "", r.industry, "；".join(r.products),
                      "、".join(nodes), "；".join(why), "", ""])
    return sheet.finish()


_BUILDERS: dict[str, Callable[..., int]] = {"firms": _firms, "gaps": _gaps, "kpi": _kpi, "check": _check}

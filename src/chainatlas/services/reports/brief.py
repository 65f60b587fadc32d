"""The monthly brief (招商月报): one PDF a leader reads on paper.

Sections: progress against the year's targets (table and two charts), the month's new projects and stage
moves, stalled and overdue projects, the top gaps with their top targets, and where the numbers come from.
Progress is counted as of the last day of the month, or today while the month runs (kpi_report); gaps and targets are today's diagnosis.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from chainatlas import config
from chainatlas.domain.chain import load_chain
from chainatlas.engines.charts import Progress, monthly_columns, progress_bars
from chainatlas.services.reports import printing
from chainatlas.services.reports.printing import esc
from chainatlas.services.reports.excel import kpi_unit, kpi_value
from chainatlas.services.catalog.zones import resolve_zone
from chainatlas.store.models import Project

TOP_GAPS = 5
TARGETS_PER_GAP = 3
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        m = _MONTH.match(text.strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f"月份“{text}”格式不对，应为 YYYY-MM，例如 2024-10")
        return cls(int(m.group(1)), int(m.group(2)))

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __contains__(self, day: date | None) -> bool:
        return day is not None and self.first <= day <= self.last


def render_brief(session: Session, zone_id: str, month: str, out: Path | str, chain_id: str) -> Path:
    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise ValueError(f"输出文件“{out}”的扩展名应为 .pdf")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(brief_pdf(session, zone_id, month, chain_id))
    return out


def brief_pdf(session: Session, zone_id: str, month: str, chain_id: str) -> bytes:
    return printing.html_to_pdf(brief_html(session, zone_id, month, chain_id))


def brief_title(zone_name: str, chain_name: str, m: Month) -> str:
    return f"{zone_name}{chain_name}产业链招商月报（{m.year}年{m.month}月）"


def brief_html(session: Session, zone_id: str, month: str, chain_id: str) -> str:
    from chainatlas.services.analysis.diagnosis import diagnose
    from chainatlas.services.pipeline.kpi import format_measure, kpi_report
    from chainatlas.services.targets.ranking import rank_targets

    m = Month.parse(month)
    zone = resolve_zone(session, zone_id)
    chain = load_chain(chain_id)
    # The month so far when it is the current one: 统计截至 is the day the numbers were read, never a future day.
    as_of = min(m.last, config.today())
    if as_of < m.first:
        raise ValueError(f"{m.year}年{m.month}月尚未开始，没有可统计的数据；请选择本月或以前的月份")
    report = kpi_report(session, zone.id, m.year, as_of=as_of, chain_id=chain.id)
    diagnosis = diagnose(session, zone.id, chain.id)
    projects = list(session.scalars(
        select(Project).where(Project.zone_id == zone.id, Project.chain_id == chain.id)
        .options(selectinload(Project.stage_changes))
    ))
    new = [p for p in projects if _entered_on(p) in m]
    moves = [(p, c) for p in projects for c in p.stage_changes if c.from_stage and c.changed_on in m]
    moves.sort(key=lambda pc: (pc[1].changed_on, pc[0].code))
    alerts = [a for a in report.alerts if a.kind in ("stalled", "overdue")]
    gaps = [(g, [t for t in rank_targets(session, zone.id, g.node_id, chain.id, limit=TARGETS_PER_GAP * 2)
                 if not t.vetoed][:TARGETS_PER_GAP]) for g in diagnosis.gaps[:TOP_GAPS]]
    demo = report.has_demo or diagnosis.is_demo or any(p.source == "demo" for p in projects)
    title = brief_title(zone.name, chain.name_zh, m)
    time_pct = report.months_elapsed / 12 * 100

    # Break the long title before 招商月报 rather than wherever the line happens to end.
    head, _, tail = title.partition("招商月报")
    h: list[str] = [f"<h1>{esc(head)}<br>招商月报{esc(tail)}</h1>" if tail else f"<h1>{esc(title)}</h1>"]
    h.append(f"<p class='meta'>统计截至 {as_of:%Y年%m月%d日}（时序进度 {time_pct:.0f}%）· 生成于 {config.now():%Y-%m-%d %H:%M}"
             f" · 在库项目 {report.project_count} 个</p>")
    if demo:
        h.append("<p class='demo'>演示数据：本月报含程序生成的虚构企业与项目，仅供演示，不是真实统计。</p>")

    h.append("<h2>一、年度目标完成情况</h2>")
    rows = [r for r in report.rows if r.target is not None] or report.rows[:3]
    h.append("<table><tr><th>指标</th><th>年度目标</th><th>累计完成</th><th>完成率</th><th>时序目标</th>"
             "<th>预计全年</th><th>状态</th></tr>")
    for r in rows:
        state = "—" if r.ahead is None else ("超时序" if r.ahead else "<b class='bad'>滞后</b>")
        if r.at_risk:
            state += "，<b class='bad'>预计有缺口</b>"
        h.append(
            f"<tr><td>{esc(r.label_zh)}</td><td class='n'>{esc(format_measure(r.unit, r.target))}</td>"
            f"<td class='n'>{esc(format_measure(r.unit, r.actual))}</td>"
            f"<td class='n'>{'—' if r.pct is None else f'{r.pct:.1f}%'}</td>"
            f"<td class='n'>{esc(format_measure(r.unit, r.time_target))}</td>"
            f"<td class='n'>{esc(format_measure(r.unit, r.projection))}</td><td>{state}</td></tr>"
        )
    h.append("</table>")
    bars = [Progress(r.label_zh, r.pct, time_pct,
                     f"{format_measure(r.unit, r.actual)} / {format_measure(r.unit, r.target)}") for r in rows]
    h.append(f"<figure>{progress_bars(bars)}<figcaption>图1 目标完成率（绿色：达到时序进度；红色：滞后；蓝色虚线：时序进度 "
             f"{time_pct:.0f}%）</figcaption></figure>")
    main = next((r for r in report.rows if r.measure == "signed_investment_yuan" and r.target), None) or rows[0]
    columns = monthly_columns([kpi_value(main.unit, v) or 0.0 for v in main.monthly], kpi_value(main.unit, main.target),
                              m.month, kpi_unit(main.unit), whole=main.unit == "个")
    h.append(
        f"<figure>{columns}"
        f"<figcaption>图2 {esc(main.label_zh)}：柱为各月完成，绿线为累计，蓝色虚线为均衡进度下的全年目标路径"
        f"（单位：{esc(kpi_unit(main.unit))}）</figcaption></figure>"
    )

    h.append(f"<h2>二、本月项目动态</h2><h3>新增项目（{len(new)} 个）</h3>")
    h.append(_project_table(new, "本月无新增项目。"))
    h.append(f"<h3>阶段推进（{len(moves)} 次）</h3>")
    if moves:
        h.append("<table><tr><th>日期</th><th>项目编号</th><th>项目名称</th><th>阶段变化</th><th>投资额</th></tr>")
        for p, c in moves:
            h.append(f"<tr><td>{c.changed_on:%m-%d}</td><td>{esc(p.code)}</td><td>{esc(p.name)}</td>"
                     f"<td>{esc(c.from_stage)} → {esc(c.to_stage)}</td>"
                     f"<td class='n'>{esc(format_measure('元', p.investment_yuan))}</td></tr>")
        h.append("</table>")
    else:
        h.append("<p>本月无阶段变化。</p>")

    h.append(f"<h2>三、停滞与逾期项目（{len(alerts)} 个）</h2>")
    if alerts:
        h.append("<ol class='alerts'>" + "".join(f"<li>{esc(a.message_zh)}</li>" for a in alerts[:20]) + "</ol>")
        if len(alerts) > 20:
            h.append(f"<p>另有 {len(alerts) - 20} 条，见年度目标导出表“预警”页。</p>")
    else:
        h.append("<p>无停滞或逾期项目。</p>")

    h.append(f"<h2>四、产业链缺口与目标企业（机会分前 {TOP_GAPS}）</h2>")
    for i, (g, targets) in enumerate(gaps, 1):
        h.append(f"<h3>{i}. {esc(g.name_zh)}（{esc(g.gap_type)}，机会分 {g.opportunity:.2f}）</h3>")
        h.append(f"<p class='why'>{esc(g.reasons[0] if g.reasons else '')}</p>")
        if targets:
            h.append("<table class='targets'><colgroup><col style='width:27%'><col style='width:10%'>"
                     "<col style='width:8%'><col></colgroup><tr><th>目标企业</th><th>城市</th><th>得分</th>"
                     "<th>推荐理由（得分满分 100）</th></tr>")
            for t in targets:
                h.append(f"<tr><td>{esc(t.name)}</td><td>{esc(t.city_name)}</td><td class='n'>{t.score:.0f}</td>"
                         f"<td class='why'>{esc(t.reason_zh)}</td></tr>")
            h.append("</table>")
        else:
            h.append("<p>暂无推荐目标企业。</p>")
    if not gaps:
        h.append("<p>诊断未发现缺口节点。</p>")

    h.append("<h2>数据来源与口径</h2><p class='small'>项目：本区招商项目台账（签约、开工、投产按里程碑日期计入当月）；"
             f"目标：{esc('；'.join(report.target_sources_zh) or '未设年度目标')}；"
             + "".join(f"{esc(note)}；" for note in sorted({r.note_zh for r in rows if r.note_zh})) +
             f"预测方法：{esc(report.method_zh)}；缺口与目标：ChainAtlas 产业链诊断与目标企业评分（按生成日数据）；"
             f"产业链：{esc(chain.name_zh)} v{esc(chain.version)}。</p>")
    return _page(title, demo, "".join(h))


def _entered_on(p: Project) -> date | None:
    first = [c.changed_on for c in p.stage_changes if c.from_stage is None]
    if first:
        return min(first)
    return date(int(p.code[:4]), int(p.code[4:6]), int(p.code[6:8])) if p.code[:8].isdigit() else None


def _project_table(projects: list[Project], empty: str) -> str:
    from chainatlas.services.pipeline.kpi import format_measure

    if not projects:
        return f"<p>{empty}</p>"
    rows = "".join(
        f"<tr><td>{esc(p.code)}</td><td>{esc(p.name)}</td><td>{esc(p.investor_name)}</td><td>{esc(p.stage)}</td>"
        f"<td class='n'>{esc(format_measure('元', p.investment_yuan))}</td><td>{esc(p.officer)}</td></tr>"
        for p in sorted(projects, key=lambda p: p.code)
    )
    return ("<table><tr><th>项目编号</th><th>项目名称</th><th>投资方</th><th>阶段</th><th>投资额</th><th>责任人</th></tr>"
            + rows + "</table>")


def _page(title: str, demo: bool, body: str) -> str:
    css = printing.font_css() + f"""
@page {{ size: A4; margin: 20mm 16mm 18mm 16mm;
  @top-center {{ content: "{esc(title)}"; font-size: 8pt; color: #666; font-family: "WenQuanYi Micro Hei"; }}
  @bottom-center {{ content: "第 " counter(page) " 页 / 共 " counter(pages) " 页{'　演示数据' if demo else ''}";
    font-size: 8pt; color: #666; font-family: "WenQuanYi Micro Hei"; }} }}
body {{ font-size: 10.5pt; line-height: 1.5; color: #222; }}
h1 {{ font-size: 18pt; text-align: center; margin: 0 0 4pt; }}
h2 {{ font-size: 13pt; border-bottom: 1.5pt solid #1f4e79; color: #1f4e79; margin: 14pt 0 6pt; }}
h3 {{ font-size: 11pt; margin: 8pt 0 4pt; }}
.meta {{ text-align: center; color: #555; font-size: 9pt; }}
.demo {{ border: 1.5pt solid #c00000; color: #c00000; padding: 4pt; text-align: center; font-weight: bold; }}
table {{ border-collapse: collapse; width: 100%; font-size: 9pt; margin: 4pt 0; }}
table.targets {{ table-layout: fixed; }}
th, td {{ border: 0.5pt solid #999; padding: 2pt 4pt; vertical-align: top; }}
th {{ background: #dde4ec; }}
td.n {{ text-align: right; white-space: nowrap; }}
.bad {{ color: #c62828; }}
.why, .small {{ font-size: 8.5pt; color: #444; }}
figure {{ margin: 6pt 0; text-align: center; page-break-inside: avoid; }}
figcaption {{ font-size: 8.5pt; color: #444; }}
ol.alerts {{ font-size: 9pt; }}
"""
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<style>{css}</style></head><body>{body}</body></html>")

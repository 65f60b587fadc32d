"""The year's targets and how far the zone is: progress, monthly series, projection to year end, alerts.

Counting follows bureau habits (reference/zhaoshang-practice.md §2):
- a project counts for a measure in the year its milestone date falls in (签约 by signed_on, 开工 by
  started_on, 投产 by producing_on), and only up to `as_of`;
- each project counts once per measure (one date per milestone; going back clears the date);
- 终止 (退库) projects are out of every count; 搁置 projects keep the milestones they reached;
- money is summed in yuan and shown in 亿元.

Projection to year end (method "pipeline", the default): what is counted so far, plus every open project
that has not yet reached the milestone, weighted by the chance that a project in its stage reaches it
before 31 December: P(stage → milestone) × min(1, months left / usual months to get there) — the table is
CONVERSION below. Milestones dated after `as_of` but inside the year (a ledger viewed as of an earlier day)
count in full. Method "run_rate" extrapolates the year so far: actual × 12 / months elapsed.
超时序: actual ≥ target × months elapsed / 12 (fractional months: 31 October is 10.0, 15 October 9.48).
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from chainatlas import config
from chainatlas.domain.money import YI, format_yuan
from chainatlas.domain.stages import DROP, HOLD, LADDER
from chainatlas.services.pipeline.projects import last_progress_on, node_scope, stage_on
from chainatlas.store.models import Project, YearlyTarget


@dataclass(frozen=True)
class Measure:
    id: str
    label_zh: str
    unit: str  # 个 | 元
    milestone: str  # the ladder stage whose date places the project in a month
    value: Callable[[Project], int | None]  # what one project contributes
    note_zh: str = ""


def _one(_: Project) -> int:
    return 1


def _large(p: Project) -> int:
    return 1 if (p.investment_yuan or 0) >= YI else 0


MEASURES: tuple[Measure, ...] = (
    Measure("signed_projects", "签约项目数", "个", "签约", _one),
    Measure("signed_investment_yuan", "签约投资额", "元", "签约", lambda p: p.investment_yuan),
    Measure("signed_large_projects", "亿元以上签约项目数", "个", "签约", _large),
    Measure("signed_fixed_investment_yuan", "签约固定资产投资额", "元", "签约", lambda p: p.fixed_investment_yuan),
    Measure("funds_in_place_yuan", "到位资金", "元", "签约", lambda p: p.funds_in_place_yuan,
            "本年签约项目填报的当年到位资金，按签约月份计；预测不含已签约项目此后新增到位"),
    Measure("started_projects", "开工项目数", "个", "开工", _one),
    Measure("producing_projects", "投产项目数", "个", "投产", _one),
    Measure("output_yuan", "产值（新投产项目预计年产值）", "元", "投产", lambda p: p.expected_output_yuan,
            "园区全口径产值以统计部门数据为准；此处为本年投产项目的预计年产值"),
)
MEASURE_BY_ID = {m.id: m for m in MEASURES}
_DATE_OF = {"签约": "signed_on", "开工": "started_on", "投产": "producing_on"}

# (current stage, milestone) → (chance of reaching it eventually, usual months to get there).
# Assumptions written down so they can be argued with; a zone can pass its own table.
CONVERSION: dict[tuple[str, str], tuple[float, float]] = {
    ("线索", "签约"): (0.10, 12), ("接洽", "签约"): (0.25, 8), ("在谈", "签约"): (0.60, 4),
    ("在谈", "开工"): (0.30, 10), ("签约", "开工"): (0.70, 6), ("注册", "开工"): (0.80, 4),
    ("签约", "投产"): (0.20, 24), ("注册", "投产"): (0.30, 18), ("开工", "投产"): (0.80, 12),
}

# Days without any dated progress before a project is flagged, by stage (reference §4: 谋划 45, 在谈 30, 签约 20).
STALE_DAYS: dict[str, int] = {"线索": 45, "接洽": 45, "在谈": 30, "签约": 20, "注册": 20, "开工": 30}


@dataclass
class KpiRow:
    measure: str
    label_zh: str
    unit: str  # 个 | 元
    target: int | None
    actual: int
    pct: float | None  # actual / target × 100
    projection: int
    monthly: list[int]  # 12 values, each month's own amount (not cumulative), zero after as_of
    at_risk: bool  # projection below target
    time_target: int | None = None  # target × months elapsed / 12, rounded up
    ahead: bool | None = None  # True 超时序, False 滞后, None without target
    run_rate: int | None = None
    note_zh: str = ""


@dataclass
class Alert:
    kind: str  # stalled / overdue / target_at_risk / unknown_measure
    project_id: int | None
    message_zh: str  # the whole sentence, project code first where there is one (CLI, brief, 大屏)
    project_code: str = ""
    days: int | None = None
    detail_zh: str = ""  # the sentence without the code, for places that show the code beside it (KPI page, Excel)

    @classmethod
    def for_project(cls, kind: str, project: Project, detail_zh: str, days: int) -> Alert:
        return cls(kind, project.id, f"{project.code} {detail_zh}", project.code, days, detail_zh)


@dataclass
class KpiReport:
    zone_id: str
    year: int
    as_of: date
    rows: list[KpiRow]
    alerts: list[Alert]
    chain_id: str
    node_id: str | None = None
    months_elapsed: float = 0.0
    method: str = "pipeline"
    method_zh: str = ""
    project_count: int = 0
    has_demo: bool = False
    by_stage: dict[str, int] = field(default_factory=dict)
    target_sources_zh: list[str] = field(default_factory=list)  # where the year's targets come from, as entered

    def row(self, measure: str) -> KpiRow:
        return next(r for r in self.rows if r.measure == measure)


def months_elapsed(year: int, as_of: date) -> float:
    if as_of.year < year:
        return 0.0
    if as_of.year > year:
        return 12.0
    return as_of.month - 1 + as_of.day / calendar.monthrange(year, as_of.month)[1]


def format_measure(unit: str, value: int | None) -> str:
    if value is None:
        return "—"
    return format_yuan(value, "亿") if unit == "元" else f"{value}个"


def _conversion_zh() -> str:
    return "、".join(f"{a}→{b} {chance:.0%}（约{months:g}个月）" for (a, b), (chance, months) in CONVERSION.items())


METHOD_ZH = {
    "pipeline": "按在库项目加权预测：已完成值 + 未达成项目 × 各阶段达成概率 × 剩余月份折算"
                f"（达成概率：{_conversion_zh()}）",
    "run_rate": "按序时进度外推：已完成值 × 12 ÷ 已过月数",
}


def target_warning_zh(label_zh: str, unit: str, target: int, actual: int, projection: int | None) -> str:
    """The one wording of a target at risk (KPI page, 大屏, `chainatlas kpi`, Excel 预警 sheet, brief).

    尚差 is always target − done; while the year runs the projection to year end follows, with its own shortfall.
    """
    show = partial(format_measure, unit)
    pct = actual * 100 / target if target else 0.0
    text = f"{label_zh}：目标{show(target)}，已完成{show(actual)}（{pct:.1f}%）"
    text += f"，尚差{show(target - actual)}" if actual < target else "，已达目标"
    if projection is not None and projection < target:
        text += f"；按在库项目预计年底完成{show(projection)}，仍差{show(target - projection)}"
    return text


def _projects(session: Session, zone_id: str, chain_id: str, node_id: str | None) -> list[Project]:
    rows = session.scalars(
        select(Project)
        .where(Project.zone_id == zone_id, Project.chain_id == chain_id)
        .options(selectinload(Project.stage_changes), selectinload(Project.activities))
        .order_by(Project.code)
    ).all()
    if node_id is None:
        return list(rows)
    scope = node_scope(chain_id, node_id)
    return [p for p in rows if scope & set(p.node_ids or [])]


def _targets(session: Session, zone_id: str, year: int, chain_id: str, node_id: str | None) -> list[YearlyTarget]:
    return list(session.scalars(
        select(YearlyTarget).where(YearlyTarget.zone_id == zone_id, YearlyTarget.year == year,
                                   YearlyTarget.chain_id == chain_id, YearlyTarget.node_id == (node_id or ""))
        .order_by(YearlyTarget.measure)
    ))


def _pipeline_chance(stage: str | None, milestone: str, months_left: float) -> float:
    if stage not in LADDER or stage == "投产":
        return 0.0
    chance, months = CONVERSION.get((stage, milestone), (0.0, 1.0))
    return chance * min(1.0, months_left / months)


def _row(m: Measure, projects: list[Project], stages: dict[int, str | None], year: int, as_of: date,
         target: int | None, method: str) -> KpiRow:
    elapsed = months_elapsed(year, as_of)
    months_left = 12.0 - elapsed
    date_field = _DATE_OF[m.milestone]
    monthly = [0] * 12
    later = 0.0  # milestones already dated after as_of within the year
    weighted = 0.0
    for p in projects:
        stage = stages[p.id]
        if stage is None or stage == DROP:
            continue
        value = m.value(p) or 0
        when: date | None = getattr(p, date_field)
        if when is not None and when.year == year:
            if when <= as_of:
                monthly[when.month - 1] += value
            else:
                later += value
        elif when is None and months_left > 0:
            weighted += value * _pipeline_chance(stage, m.milestone, months_left)
    actual = sum(monthly)
    run_rate = round(actual * 12 / elapsed) if elapsed > 0 else None
    if method == "run_rate":
        projection = run_rate if run_rate is not None else actual
    else:
        projection = round(actual + later + weighted)
    on_schedule = target * elapsed / 12 if target is not None else None
    return KpiRow(
        measure=m.id, label_zh=m.label_zh, unit=m.unit, target=target, actual=actual,
        pct=round(actual * 100 / target, 1) if target else None, projection=projection, monthly=monthly,
        at_risk=target is not None and projection < target,
        # Rounded up: the least a zone must have to be on schedule (12.5 projects → 13).
        time_target=None if on_schedule is None else math.ceil(on_schedule - 1e-9),
        ahead=None if on_schedule is None else actual >= on_schedule - 1e-9, run_rate=run_rate, note_zh=m.note_zh,
    )


def kpi_report(
    session: Session,
    zone_id: str,
    year: int,
    as_of: date | None = None,
    node_id: str | None = None,
    *,
    chain_id: str,
    method: str = "pipeline",
    stale_days: dict[str, int] | None = None,
) -> KpiReport:
    """Targets against progress for one zone and year (whole chain, or one node and the nodes below it)."""
    if method not in METHOD_ZH:
        raise ValueError(f"未知的预测方法“{method}”，可选：{'、'.join(METHOD_ZH)}")
    # A past year is read at its end; the current one as of today.
    as_of = as_of or min(config.today(), date(year, 12, 31))
    projects = _projects(session, zone_id, chain_id, node_id)
    target_rows = _targets(session, zone_id, year, chain_id, node_id)
    targets = {t.measure: int(t.target_value) for t in target_rows}
    # A ledger viewed as of an earlier day uses the stages of that day.
    stages = {p.id: stage_on(p, as_of) for p in projects}
    rows = [_row(m, projects, stages, year, as_of, targets.get(m.id), method) for m in MEASURES]
    alerts = [
        Alert("unknown_measure", None, f"目标指标“{mid}”不在指标表中（可用：{'、'.join(MEASURE_BY_ID)}），未计算进度")
        for mid in sorted(set(targets) - set(MEASURE_BY_ID))
    ]
    year_over = as_of >= date(year, 12, 31)
    for r in rows:
        if r.at_risk and r.target is not None:
            text = target_warning_zh(r.label_zh, r.unit, r.target, r.actual, None if year_over else r.projection)
            alerts.append(Alert("target_at_risk", None, text, detail_zh=text))
    alerts += project_alerts(projects, as_of, stale_days)
    by_stage: dict[str, int] = {}
    for p in projects:
        by_stage[p.stage] = by_stage.get(p.stage, 0) + 1
    return KpiReport(
        zone_id=zone_id, year=year, as_of=as_of, rows=rows, alerts=alerts, chain_id=chain_id, node_id=node_id,
        months_elapsed=round(months_elapsed(year, as_of), 2), method=method, method_zh=METHOD_ZH[method],
        project_count=len(projects), has_demo=any(p.source == "demo" for p in projects), by_stage=by_stage,
        target_sources_zh=list(dict.fromkeys(t.source for t in target_rows if t.source)),
    )


def project_alerts(projects: list[Project], as_of: date, stale_days: dict[str, int] | None = None) -> list[Alert]:
    """Overdue next actions, then projects with no dated progress for longer than their stage allows."""
    limits = {**STALE_DAYS, **(stale_days or {})}
    overdue: list[Alert] = []
    stalled: list[Alert] = []
    for p in projects:
        last = last_progress_on(p, as_of)
        stage = stage_on(p, as_of)
        if last is None or stage in (None, "投产", HOLD, DROP):
            continue  # not yet entered at as_of, or nothing left to chase
        who = f"，责任人{p.officer}" if p.officer else ""
        if p.next_action_on and p.next_action_on < as_of:
            days = (as_of - p.next_action_on).days
            overdue.append(Alert.for_project("overdue", p, f"{p.name}：下一步工作“{p.next_action or '未填写'}”"
                                             f"应于{p.next_action_on.isoformat()}完成，已逾期{days}天{who}", days))
        limit = limits.get(stage)
        idle = (as_of - last).days
        if limit is not None and idle > limit:
            stalled.append(Alert.for_project("stalled", p, f"{p.name}（{stage}）已{idle}天无进展（{stage}阶段"
                                             f"预警线{limit}天，最近一次{last.isoformat()}）{who}，请更新进展或说明原因",
                                             idle))
    # Longest first: that is the order a weekly meeting reads them in.
    return sorted(overdue, key=lambda a: -(a.days or 0)) + sorted(stalled, key=lambda a: -(a.days or 0))


def target_years(session: Session, zone_id: str) -> list[int]:
    """The years the zone has yearly targets for, oldest first."""
    return sorted(set(session.scalars(select(YearlyTarget.year).where(YearlyTarget.zone_id == zone_id))))


def default_year(session: Session, zone_id: str, this_year: int) -> int:
    """This year when it has targets; else the latest earlier target year in which projects actually signed."""
    years = target_years(session, zone_id)
    if this_year in years or not years:
        return this_year
    signed_years = {d.year for d in session.scalars(
        select(Project.signed_on).where(Project.zone_id == zone_id, Project.signed_on.is_not(None)))}
    past = [y for y in years if y <= this_year]
    active = [y for y in past if y in signed_years]
    return (active or past or years)[-1]

"""The demo ledger (演示台账): a realistic year for 武汉经开区, dated relative to today so the KPI is alive on any day.

Projects come from data/demo/ledger.yaml (one year's story written for a base year, see its header) and are
entered through the pipeline service exactly as an officer would (create, change stage on the recorded dates,
log contacts), so the stage history and the audit trail are real. Every project has source="demo", "（演示）" in
its name and 演示数据 in its notes; every investor is a generated name marked 虚构企业, never a real company.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.money import YI
from chainatlas.services.demo.files import DEMO_CHAIN, DEMO_ZONE, demo_file
from chainatlas.services.pipeline import projects as pipeline
from chainatlas.services.catalog.zones import load_zone
from chainatlas.store.models import Project, YearlyTarget, Zone

DEMO = "demo"
DEMO_USER = "demo"
NAME_MARK = "（演示）"
NOTE = "演示数据：项目、投资方、金额与日期均为虚构，仅用于展示台账与考核功能。"
INVESTOR_MARK = "（虚构企业）"
BASE_AS_OF = date(2024, 10, 31)  # the day the story in ledger.yaml is told as of; it becomes today on load

# Shares used to fill the money columns the file does not spell out (demo only, stated here so they are visible).
FIXED_SHARE = {"新建": 0.8, "扩建": 0.8, "总部": 0.3, "研发中心": 0.3, "其他": 0.5}
OUTPUT_PER_YUAN = {"新建": 1.5, "扩建": 1.5, "总部": 0.5, "研发中心": 0.5, "其他": 1.0}
FUNDS_SHARE_BY_STAGE = {"签约": 0.10, "注册": 0.20, "开工": 0.35, "投产": 0.60, "搁置": 0.10}
TAX_SHARE_OF_OUTPUT = 0.04


@dataclass(frozen=True)
class DemoCalendar:
    """Moves the story's dates to today: base 1 Jan … BASE_AS_OF onto this year's 1 Jan … today (stretched or
    squeezed, order kept), earlier dates by whole years, later ones (next actions due) to as many days after today."""

    today: date

    def __call__(self, d: date) -> date:
        base_start = date(BASE_AS_OF.year, 1, 1)
        if d > BASE_AS_OF:
            return self.today + (d - BASE_AS_OF)
        if d >= base_start:
            start = date(self.today.year, 1, 1)
            share = (d - base_start).days / (BASE_AS_OF - base_start).days
            return start + timedelta(days=round(share * (self.today - start).days))
        year = d.year + self.today.year - BASE_AS_OF.year
        return d.replace(year=year, day=min(d.day, 28)) if (d.month, d.day) == (2, 29) else d.replace(year=year)


@dataclass(frozen=True)
class _Step:
    on: date
    stage: str
    reason: str


def load_demo_ledger(
    session: Session,
    zone_id: str = DEMO_ZONE,
    today: date | None = None,
    chain_id: str = DEMO_CHAIN,
) -> list[Project]:
    """Enter the demo projects as they stand `today` (default: today in the configured time zone), once: if the
    zone already has demo projects they are returned unchanged. Targets are set for this year and last year."""
    existing = list(session.scalars(
        select(Project).where(Project.zone_id == zone_id, Project.source == DEMO).order_by(Project.code)))
    if existing:
        return existing
    if session.get(Zone, zone_id) is None:
        load_zone(session, zone_id, chain_id=chain_id)
    today = today or config.today()
    moved = DemoCalendar(today)
    data = demo_file("ledger.yaml")
    for key, year in (("this_year", today.year), ("last_year", today.year - 1)):
        _demo_targets(session, zone_id, year, chain_id, data["targets"][key])
    officers, leaders = data["officers"], data["leaders"]
    projects = []
    for i, item in enumerate(data["projects"]):
        steps = [_Step(moved(s[0]), s[1], s[2] if len(s) > 2 else "") for s in item["steps"] if s[0] <= BASE_AS_OF]
        if not steps:
            continue
        projects.append(_enter(session, zone_id, chain_id, item, steps, officers[i % len(officers)],
                               leaders[i % len(leaders)], moved))
    return projects


def _demo_targets(session: Session, zone_id: str, year: int, chain_id: str, targets: list[dict]) -> None:
    """Demo targets for a year, where the zone has none of its own for that measure (public targets stay)."""
    for t in targets:
        node = t.get("node", "")
        found = session.scalar(select(YearlyTarget).where(
            YearlyTarget.zone_id == zone_id, YearlyTarget.year == year, YearlyTarget.measure == t["measure"],
            YearlyTarget.chain_id == chain_id, YearlyTarget.node_id == node))
        if found is None:
            value = int(round(t["target_yi"] * YI)) if "target_yi" in t else int(t["target"])
            session.add(YearlyTarget(zone_id=zone_id, year=year, measure=t["measure"], chain_id=chain_id, node_id=node,
                                     target_value=value, source="演示数据：示例目标，非官方公布数字"))
    session.flush()


def _enter(session: Session, zone_id: str, chain_id: str, item: dict, steps: list[_Step], officer: str, leader: str,
           moved: DemoCalendar) -> Project:
    investment = int(round(item["yi"] * YI))
    kind = item.get("type", "新建")
    final = steps[-1].stage
    reached = {s.stage for s in steps}
    funds_stage = final if final in FUNDS_SHARE_BY_STAGE else None
    signed = "签约" in reached and final not in ("在谈", "接洽", "线索", "终止")
    output = int(round(item["output_yi"] * YI)) if "output_yi" in item else int(investment * OUTPUT_PER_YUAN[kind])
    investor = item["investor"] + INVESTOR_MARK
    source_kind, source_detail = item.get("source", ["", ""])
    project = pipeline.create_project(
        session, zone_id=zone_id, chain_id=chain_id, name=item["name"] + NAME_MARK, by_user=DEMO_USER,
        investor_id=None, investor_name=investor, node_ids=item["nodes"], source_kind=source_kind,
        source_detail=source_detail, investment_yuan=investment, on=steps[0].on,
        project_type=kind, purpose=item.get("purpose", ""),
        fixed_investment_yuan=int(investment * FIXED_SHARE[kind]),
        funds_in_place_yuan=int(investment * FUNDS_SHARE_BY_STAGE[funds_stage]) if signed and funds_stage else None,
        expected_output_yuan=output, expected_tax_yuan=int(output * TAX_SHARE_OF_OUTPUT),
        jobs=item.get("jobs"), land_mu=item.get("land"), park_id=item.get("park"), officer=officer, leader=leader,
        summary=f"{investor}投资建设{item['name']}，计划总投资{item['yi']}亿元。", notes=NOTE, source=DEMO,
    )
    for step in steps[1:]:
        pipeline.change_stage(session, project.id, step.stage, on=step.on, by_user=officer, reason=step.reason)
    for on, activity_kind, content in item.get("log", []):
        if on <= BASE_AS_OF:
            pipeline.log_activity(session, project.id, on=moved(on), kind=activity_kind, content=content,
                                  by_user=officer)
    if item.get("next"):
        action, due = item["next"]
        pipeline.set_next_action(session, project.id, action, moved(due), by_user=officer)
    return project

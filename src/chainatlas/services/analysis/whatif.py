"""What-if (推演): the diagnosis and the leaders' supply before and after adding hypothetical firms or a pipeline
project; the database is only read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.services.analysis.settings import AnalysisSettings, load_settings
from chainatlas.services.analysis.diagnosis import Diagnosis, diagnose_world
from chainatlas.services.analysis.leader_supply import LeaderView, leader_view_in
from chainatlas.services.analysis.world import HypotheticalFirm, load_world
from chainatlas.store.models import Enterprise, Project


@dataclass
class NodeChange:
    node_id: str
    name_zh: str
    verdict_before: str
    verdict_after: str
    firms_before: int
    firms_after: int
    lq_before: float | None
    lq_after: float | None
    opportunity_before: float | None
    opportunity_after: float | None


@dataclass
class WhatIf:
    before: Diagnosis
    after: Diagnosis
    changes: list[NodeChange]
    leaders: list[tuple[LeaderView, LeaderView]]


def firms_from_project(session: Session, project_id: int) -> list[HypotheticalFirm]:
    """A pipeline project as the firm it would bring (its nodes, planned output), for what-if."""
    project = session.get(Project, project_id)
    if project is None:
        raise LookupError(f"找不到项目 id={project_id}；请用项目台账中的 id。")
    if not project.node_ids:
        raise ValueError(f"项目“{project.name}”（{project.code}）未指定产业链环节，无法推演；请先在台账中填写环节。")
    return [HypotheticalFirm(
        node_ids=tuple(project.node_ids), name=project.investor_name or project.name,
        output_yuan=project.expected_output_yuan,
    )]


def what_if(
    session: Session,
    zone_id: str,
    firms: list[HypotheticalFirm],
    chain_id: str,
    settings: AnalysisSettings | None = None,
) -> WhatIf:
    """Diagnosis and leader views before and after adding hypothetical firms; the database is only read."""
    settings = settings or load_settings()
    world = load_world(session, zone_id, chain_id, baseline=config.baseline_path())
    before = diagnose_world(session, world, settings, [])
    after = diagnose_world(session, world, settings, list(firms))
    before_gap = {g.node_id: g.opportunity for g in before.gaps}
    after_gap = {g.node_id: g.opportunity for g in after.gaps}
    changes = []
    for node_id, b in before.nodes.items():
        a = after.nodes[node_id]
        if (b.verdict, b.firm_count, before_gap.get(node_id)) != (a.verdict, a.firm_count, after_gap.get(node_id)):
            changes.append(NodeChange(node_id, b.name_zh, b.verdict, a.verdict, b.firm_count, a.firm_count, b.lq, a.lq,
                                      before_gap.get(node_id), after_gap.get(node_id)))
    leaders = session.scalars(
        select(Enterprise).where(Enterprise.zone_id == world.zone.id, Enterprise.is_leader,
                                 Enterprise.merged_into_id.is_(None)).order_by(Enterprise.id)
    ).all()
    views = [(leader_view_in(session, world, ld, []), leader_view_in(session, world, ld, list(firms))) for ld in leaders]
    return WhatIf(before, after, changes, views)

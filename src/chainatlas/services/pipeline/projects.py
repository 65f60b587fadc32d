"""The project pipeline (招商项目台账): create and edit projects, move them along the stages, log visits.

Every write a user makes goes through here and leaves an audit entry (who, when, before, after), so the
CLI, the web app and the Excel import all keep the same history.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from chainatlas import config
from chainatlas.domain.chain import Chain, ChainFileError, load_chain
from chainatlas.domain.money import WAN, format_yuan
from chainatlas.domain.stages import (
    ALL_STAGES,
    DATE_FIELD,
    DROP,
    HOLD,
    LADDER,
    STAGES,
    StageError,
    StageFacts,
    check_transition,
    dates_to_clear,
    normalize_stage,
)
from chainatlas.services.catalog.chains import node_ref
from chainatlas.store.db import audit
from chainatlas.store.models import AuditEntry, Enterprise, Park, Project, ProjectActivity, StageChange, Zone

__all__ = [
    "STAGES",
    "ALL_STAGES",
    "StageError",
    "ProjectError",
    "PROJECT_TYPES",
    "PURPOSES",
    "ACTIVITY_KINDS",
    "FIELD_LABELS",
    "create_project",
    "update_project",
    "correct_dates",
    "correct_hold_reason",
    "change_stage",
    "log_activity",
    "set_next_action",
    "get_project",
    "list_projects",
    "board",
    "node_scope",
    "ProjectFilter",
    "HistoryEvent",
    "project_history",
    "last_progress_on",
    "stage_on",
    "resume_stage",
    "next_code",
    "snapshot",
]

PROJECT_TYPES = ("新建", "扩建", "总部", "研发中心", "其他")
PURPOSES = ("", "补链", "强链", "延链")
ACTIVITY_KINDS = ("拜访", "接待", "洽谈", "电话", "会议", "考察", "其他")

# Fields a user may set with create/update. Stage and stage dates change only through change_stage, so the
# history and the counts can never disagree.
EDITABLE = (
    "name", "investor_id", "investor_name", "chain_id", "node_ids", "project_type", "purpose",
    "investment_yuan", "fixed_investment_yuan", "funds_in_place_yuan", "expected_output_yuan",
    "expected_tax_yuan", "jobs", "land_mu", "park_id", "officer", "leader", "source_kind", "source_detail",
    "foreign_invested", "fdi_usd", "next_action", "next_action_on", "summary", "notes", "source",
)
# Chinese names of the ledger fields, for history lines and the Excel ledger's column headers.
FIELD_LABELS: dict[str, str] = {
    "code": "项目编号", "name": "项目名称", "zone_id": "所属开发区", "investor_id": "投资方企业",
    "investor_name": "投资方", "chain_id": "产业链", "node_ids": "产业链环节", "project_type": "项目类型",
    "purpose": "招商目的", "investment_yuan": "投资金额", "fixed_investment_yuan": "固定资产投资",
    "funds_in_place_yuan": "当年到位资金", "expected_output_yuan": "预计年产值", "expected_tax_yuan": "预计年税收",
    "jobs": "就业人数", "land_mu": "用地", "park_id": "所在园区", "officer": "责任人", "leader": "区级责任领导",
    "source_kind": "项目来源", "source_detail": "来源说明", "foreign_invested": "是否外资", "fdi_usd": "外资金额",
    "stage": "阶段", "stage_changed_on": "阶段变更日期", "signed_on": "签约日期", "registered_on": "注册日期",
    "started_on": "开工日期", "producing_on": "投产日期", "hold_reason": "搁置/终止原因", "next_action": "下一步工作",
    "next_action_on": "下一步工作日期", "summary": "项目简介", "notes": "进度、备注", "source": "数据来源",
    "created_at": "录入时间",
}
_MONEY = ("investment_yuan", "fixed_investment_yuan", "funds_in_place_yuan", "expected_output_yuan",
          "expected_tax_yuan", "fdi_usd")
_CODE = re.compile(r"^\d{8}\d{3}$")


class ProjectError(ValueError):
    """Bad project input or an unknown project; the message is Chinese and says what to do."""


class StageConflict(ProjectError):
    """Someone else changed the project's stage since the caller read it (HTTP 409); reload and decide again."""


# ---------------------------------------------------------------- snapshots for the audit log


def _json(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return list(value)
    return value


def snapshot(project: Project, fields: Iterable[str] | None = None) -> dict[str, Any]:
    names = fields if fields is not None else (
        ("code", "zone_id", "stage", "stage_changed_on", "hold_reason") + EDITABLE + tuple(DATE_FIELD.values())
    )
    return {f: _json(getattr(project, f)) for f in names}


# ---------------------------------------------------------------- codes and lookups


def next_code(session: Session, on: date) -> str:
    """区级编码: the creation date YYYYMMDD plus the next 3-digit serial of that day."""
    prefix = on.strftime("%Y%m%d")
    codes = session.scalars(select(Project.code).where(Project.code.like(f"{prefix}%"))).all()
    serials = [int(c[8:]) for c in codes if _CODE.match(c)]
    serial = max(serials, default=0) + 1
    if serial > 999:
        raise ProjectError(f"{on.isoformat()} 当天的项目编号已用完（最多999个），请改用其他登记日期")
    return f"{prefix}{serial:03d}"


def get_project(session: Session, code_or_id: str | int) -> Project:
    project = None
    if isinstance(code_or_id, int):
        project = session.get(Project, code_or_id)
    else:
        project = session.scalar(select(Project).where(Project.code == str(code_or_id).strip()))
        if project is None and str(code_or_id).isdigit() and len(str(code_or_id)) < 8:
            project = session.get(Project, int(code_or_id))
    if project is None:
        raise ProjectError(f"找不到项目“{code_or_id}”。请用 chainatlas projects list 查看项目编号")
    return project


def project_dict(p: Project, chain: Chain | None = None) -> dict:
    """A project as the pipeline page, the API and the enterprise page show it (money also in 亿元 / 万元)."""
    return {
        "id": p.id, "code": p.code, "name": p.name, "investor_id": p.investor_id, "investor_name": p.investor_name,
        "stage": p.stage, "stage_changed_on": p.stage_changed_on, "node_ids": list(p.node_ids or []),
        "nodes": [node_ref(chain, n) for n in (p.node_ids or []) if chain and n in chain.nodes],
        "purpose": p.purpose, "project_type": p.project_type,
        "investment_yuan": p.investment_yuan, "investment_zh": format_yuan(p.investment_yuan),
        "signed_on": p.signed_on, "started_on": p.started_on, "producing_on": p.producing_on,
        "officer": p.officer, "leader": p.leader, "source_kind": p.source_kind, "next_action": p.next_action,
        "next_action_on": p.next_action_on, "hold_reason": p.hold_reason, "is_demo": p.source == "demo",
    }


def investors_in_pipeline(session: Session, zone_id: str, enterprise_ids: Iterable[int]) -> set[int]:
    """Which of these firms already invest in a project of the zone (the 目标企业 list marks them)."""
    ids = list(enterprise_ids)
    if not ids:
        return set()
    return set(session.scalars(select(Project.investor_id).where(Project.zone_id == zone_id,
                                                                 Project.investor_id.in_(ids))))


def _validate_fields(session: Session, zone_id: str | None, chain_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ProjectError(f"不能直接修改字段：{'、'.join(unknown)}（阶段请用“变更阶段”，编号不可改）")
    out = dict(fields)
    if "name" in out and not str(out["name"] or "").strip():
        raise ProjectError("项目名称不能为空")
    if "project_type" in out and out["project_type"] not in PROJECT_TYPES:
        raise ProjectError(f"项目类型“{out['project_type']}”无效，可选：{'、'.join(PROJECT_TYPES)}")
    if "purpose" in out and (out["purpose"] or "") not in PURPOSES:
        raise ProjectError(f"招商目的“{out['purpose']}”无效，可选：补链、强链、延链 或留空")
    for f in _MONEY + ("jobs",):
        v = out.get(f)
        if v is not None:
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ProjectError(f"{f} 须为非负整数（金额以元为单位），收到“{v}”")
    if out.get("land_mu") is not None and float(out["land_mu"]) < 0:
        raise ProjectError(f"用地面积不能为负数，收到“{out['land_mu']}”")
    if "node_ids" in out:
        chain = load_chain(chain_id)
        ids = list(dict.fromkeys(out["node_ids"] or []))
        bad = [n for n in ids if n not in chain.nodes]
        if bad:
            raise ProjectError(f"产业链“{chain.name_zh}”中没有环节：{'、'.join(bad)}。请用 chainatlas chain show 查看环节编码")
        out["node_ids"] = ids
    if out.get("park_id"):
        park = session.get(Park, out["park_id"])
        if park is None or (zone_id and park.zone_id != zone_id):
            raise ProjectError(f"园区“{out['park_id']}”不属于本开发区，请检查园区编码")
    if out.get("investor_id") is not None:
        firm = session.get(Enterprise, out["investor_id"])
        if firm is None:
            raise ProjectError(f"找不到投资方企业 id={out['investor_id']}")
        if not (out.get("investor_name") or "").strip():
            out["investor_name"] = firm.name
    return out


# ---------------------------------------------------------------- writes


def create_project(
    session: Session,
    *,
    zone_id: str,
    name: str,
    by_user: str,
    investor_id: int | None = None,
    investor_name: str = "",
    node_ids: Sequence[str] = (),
    chain_id: str,
    source_kind: str = "",
    source_detail: str = "",
    investment_yuan: int | None = None,
    on: date | None = None,
    **fields: Any,
) -> Project:
    """Register a new project as a 线索, dated `on` (default today), with a fresh 区级编码."""
    if session.get(Zone, zone_id) is None:
        raise ProjectError(f"开发区“{zone_id}”不存在，请先运行 chainatlas demo load 或导入开发区")
    on = on or config.today()
    values = _validate_fields(
        session, zone_id, chain_id,
        dict(fields, name=name, investor_id=investor_id, investor_name=investor_name, node_ids=list(node_ids),
             source_kind=source_kind, source_detail=source_detail, investment_yuan=investment_yuan),
    )
    values["name"] = values["name"].strip()
    project = Project(code=next_code(session, on), zone_id=zone_id, chain_id=chain_id, stage=LADDER[0],
                      stage_changed_on=on, source=values.pop("source", None) or "manual", **values)
    project.stage_changes.append(StageChange(from_stage=None, to_stage=LADDER[0], changed_on=on, reason="新建项目",
                                             by_user=by_user))
    session.add(project)
    session.flush()
    audit(session, by_user, "project.create", "project", project.code, None, snapshot(project))
    return project


def update_project(session: Session, project_id: int | str, *, by_user: str, **changes: Any) -> Project:
    """Change ledger fields; the audit entry keeps only the fields that really changed."""
    project = get_project(session, project_id)
    values = _validate_fields(session, project.zone_id, changes.get("chain_id", project.chain_id), changes)
    changed = [f for f, v in values.items() if getattr(project, f) != v]
    if not changed:
        return project
    before = snapshot(project, changed)
    for f in changed:
        setattr(project, f, values[f])
    session.flush()
    audit(session, by_user, "project.update", "project", project.code, before, snapshot(project, changed))
    return project


def correct_dates(session: Session, project_id: int | str, dates: dict[str, date | None], *, by_user: str) -> Project:
    """Correct the day a milestone was reached (签约/注册/开工/投产 dates): the project's date and the history line of
    that step move together, so the KPI and the history never disagree. Whether the dates fit the stage is the
    caller's check (the ledger's row rules)."""
    project = get_project(session, project_id)
    stage_of = {f: stage for stage, f in DATE_FIELD.items()}
    unknown = sorted(set(dates) - set(stage_of))
    if unknown:
        raise ProjectError(f"不是阶段日期：{'、'.join(unknown)}")
    changed = {f: d for f, d in dates.items() if getattr(project, f) != d}
    if not changed:
        return project
    before = snapshot(project, list(changed) + ["stage_changed_on"])
    steps = list(project.stage_changes)
    for f, day in changed.items():
        setattr(project, f, day)
        i = next((i for i in range(len(steps) - 1, -1, -1) if steps[i].to_stage == stage_of[f]), None)
        if i is None or day is None:
            continue
        # The history keeps its order: the step stays after the one before it and before the one after it.
        earlier, later = steps[i - 1] if i > 0 else None, steps[i + 1] if i + 1 < len(steps) else None
        if earlier is not None and day < earlier.changed_on:
            raise ProjectError(f"{FIELD_LABELS[f]} {day.isoformat()} 早于上一步“{earlier.to_stage}”的日期"
                               f"（{earlier.changed_on.isoformat()}），请核对日期")
        if later is not None and day > later.changed_on:
            raise ProjectError(f"{FIELD_LABELS[f]} {day.isoformat()} 晚于下一步“{later.to_stage}”的日期"
                               f"（{later.changed_on.isoformat()}），请核对日期")
        steps[i].changed_on = day
        if project.stage == stage_of[f] and day is not None:
            project.stage_changed_on = day
    session.flush()
    audit(session, by_user, "project.dates", "project", project.code, before,
          snapshot(project, list(changed) + ["stage_changed_on"]))
    return project


def correct_hold_reason(session: Session, project_id: int | str, reason: str, *, by_user: str) -> Project:
    """Reword why a project is on hold or dropped (the reason given at 变更阶段 stays in its history line)."""
    project = get_project(session, project_id)
    if project.stage not in (HOLD, DROP):
        raise ProjectError(f"项目处于“{project.stage}”阶段，没有搁置/终止原因可改")
    if not reason.strip():
        raise ProjectError(f"{project.stage}项目须写明原因")
    before = snapshot(project, ["hold_reason"])
    project.hold_reason = reason.strip()
    session.flush()
    audit(session, by_user, "project.update", "project", project.code, before, snapshot(project, ["hold_reason"]))
    return project


def resume_stage(project: Project) -> str | None:
    """The last ladder stage in the history: where a 搁置 or 终止 project stood when it stopped."""
    for change in reversed(project.stage_changes):
        if change.to_stage in LADDER:
            return change.to_stage
    return None


def change_stage(
    session: Session,
    project_id: int | str,
    to_stage: str,
    *,
    on: date,
    by_user: str,
    reason: str = "",
    as_admin: bool = False,
    expected_stage: str | None = None,
) -> Project:
    """Move a project to another stage (rules in domain/stages.py), date the milestone, record and audit it.

    expected_stage: the stage the user saw; if the project has moved since, StageConflict (nothing written).
    Two moves at the same moment: the second's UPDATE finds the stage changed (Project's version column) and
    raises StageConflict too.
    """
    project = get_project(session, project_id)
    if expected_stage is not None and expected_stage != project.stage:
        raise StageConflict(f"项目“{project.name}”已被他人变更为“{project.stage}”（您看到的是“{expected_stage}”），"
                            "请刷新页面后再决定。")
    reached = frozenset(s for s, f in DATE_FIELD.items() if getattr(project, f) is not None)
    facts = StageFacts(project.stage, reached, resume_stage(project), is_admin=as_admin)
    move = check_transition(facts, to_stage, reason)
    if project.stage_changed_on and on < project.stage_changed_on:
        raise StageError(
            f"变更日期 {on.isoformat()} 早于上一次阶段变更（{project.stage_changed_on.isoformat()}），请检查日期"
        )
    before = snapshot(project, ("stage", "stage_changed_on", "hold_reason") + tuple(DATE_FIELD.values()))
    project.stage = move.to_stage
    project.stage_changed_on = on
    if move.kind in ("hold", "drop"):
        project.hold_reason = reason.strip()
    elif move.kind in ("resume", "reopen"):
        project.hold_reason = ""
    elif move.kind == "back":
        for field in dates_to_clear(move.to_stage):
            setattr(project, field, None)
    elif move.kind == "forward" and move.to_stage in DATE_FIELD:
        setattr(project, DATE_FIELD[move.to_stage], on)
    project.stage_changes.append(StageChange(from_stage=move.from_stage, to_stage=move.to_stage, changed_on=on,
                                             reason=reason.strip(), by_user=by_user))
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise StageConflict(f"项目“{project.name}”的阶段刚被他人变更，本次变更未保存，请刷新页面后再决定。") from None
    after = snapshot(project, before.keys())
    audit(session, by_user, f"project.stage.{move.kind}", "project", project.code, before, after)
    return project


def log_activity(
    session: Session,
    project_id: int | str,
    *,
    on: date,
    by_user: str,
    content: str,
    kind: str = "拜访",
    next_action: str | None = None,
    next_action_on: date | None = None,
) -> ProjectActivity:
    """A visit, reception, call or meeting; optionally the next action agreed there."""
    project = get_project(session, project_id)
    if kind not in ACTIVITY_KINDS:
        raise ProjectError(f"记录类型“{kind}”无效，可选：{'、'.join(ACTIVITY_KINDS)}")
    if not (content or "").strip():
        raise ProjectError("走访/联系记录的内容不能为空")
    activity = ProjectActivity(on=on, kind=kind, content=content.strip(), by_user=by_user)
    project.activities.append(activity)
    session.flush()
    audit(session, by_user, "project.activity", "project", project.code, None,
          {"on": on.isoformat(), "kind": kind, "content": activity.content})
    if next_action is not None or next_action_on is not None:
        set_next_action(session, project.id, next_action or project.next_action, next_action_on, by_user=by_user)
    return activity


def set_next_action(session: Session, project_id: int | str, action: str, on: date | None, *, by_user: str) -> Project:
    return update_project(session, project_id, by_user=by_user, next_action=(action or "").strip(), next_action_on=on)


# ---------------------------------------------------------------- reads


@dataclass
class ProjectFilter:
    zone_id: str | None = None
    chain_id: str | None = None
    stages: Sequence[str] = ()
    node_id: str | None = None  # the node or any node below it
    officer: str | None = None
    park_id: str | None = None
    signed_year: int | None = None
    text: str | None = None  # in name, investor or notes
    include_demo: bool = True


def list_projects(session: Session, flt: ProjectFilter | None = None) -> list[Project]:
    """The ledger table: projects matching the filter, newest code first."""
    flt = flt or ProjectFilter()
    q = select(Project).options(selectinload(Project.activities), selectinload(Project.stage_changes))
    if flt.zone_id:
        q = q.where(Project.zone_id == flt.zone_id)
    if flt.chain_id:
        q = q.where(Project.chain_id == flt.chain_id)
    if flt.stages:
        q = q.where(Project.stage.in_([normalize_stage(s) for s in flt.stages]))
    if flt.officer:
        q = q.where(Project.officer == flt.officer)
    if flt.park_id:
        q = q.where(Project.park_id == flt.park_id)
    if not flt.include_demo:
        q = q.where(Project.source != "demo")
    rows = list(session.scalars(q.order_by(Project.code.desc())))
    if flt.signed_year:
        rows = [p for p in rows if p.signed_on and p.signed_on.year == flt.signed_year]
    if flt.node_id:  # the node in each project's own chain (the filter's chain, when it names one)
        scopes = {chain_id: node_scope(chain_id, flt.node_id) for chain_id in {p.chain_id for p in rows if p.chain_id}}
        rows = [p for p in rows if p.chain_id and scopes[p.chain_id] & set(p.node_ids or [])]
    if flt.text:
        needle = flt.text.strip()
        rows = [p for p in rows if needle in p.name or needle in p.investor_name or needle in p.notes]
    return rows


SIGNED_OR_LATER = ("签约", "注册", "开工", "投产")


def projects_by_node(session: Session, zone_id: str, chain_id: str) -> dict[str, list[Project]]:
    """The zone's open projects (not 终止) under each node they name, so a node with no firm yet still shows the
    projects coming to it."""
    out: dict[str, list[Project]] = {}
    rows = session.scalars(select(Project).where(Project.zone_id == zone_id, Project.chain_id == chain_id,
                                                 Project.stage != "终止").order_by(Project.code))
    for p in rows:
        for node_id in p.node_ids or []:
            out.setdefault(node_id, []).append(p)
    return out


def node_scope(chain_id: str, node_id: str) -> set[str]:
    """A node and every node below it: a project on any of them belongs to the node (JSON lists are not
    SQL-portable, so callers filter in Python with this set)."""
    chain = load_chain(chain_id)
    return {node_id} | ({n.id for n in chain.descendants(node_id)} if node_id in chain.nodes else set())


def board(session: Session, zone_id: str, chain_id: str | None = None) -> dict[str, list[Project]]:
    """Projects by stage, every stage present (the wall chart of 挂图作战)."""
    out: dict[str, list[Project]] = {s: [] for s in ALL_STAGES}
    for p in list_projects(session, ProjectFilter(zone_id=zone_id, chain_id=chain_id)):
        out.setdefault(p.stage, []).append(p)
    return out


def last_progress_on(project: Project, as_of: date | None = None) -> date | None:
    """The latest dated sign of life (stage change or logged contact) on or before `as_of`."""
    dates = [c.changed_on for c in project.stage_changes] + [a.on for a in project.activities]
    dates = [d for d in dates if d is not None and (as_of is None or d <= as_of)]
    return max(dates, default=None)


def stage_on(project: Project, as_of: date | None = None) -> str | None:
    """The stage the history says the project was in at the end of `as_of` (None: not yet entered)."""
    stage = None
    for change in sorted(project.stage_changes, key=lambda c: (c.changed_on, c.id or 0)):
        if as_of is None or change.changed_on <= as_of:
            stage = change.to_stage
    return stage


@dataclass
class HistoryEvent:
    on: date
    at: datetime | None
    kind: str  # 阶段 / 走访 / 修改
    text: str
    by_user: str


def _history_values(session: Session, project: Project) -> Callable[[str, Any], str]:
    """How an edited value reads in the history: the audit keeps yuan, ids and flags; an officer reads 3.50亿元,
    万美元, node and park names, the investor's name, 是/否."""
    try:
        chain = load_chain(project.chain_id) if project.chain_id else None
    except ChainFileError:  # a chain since removed: its node ids are shown as stored
        chain = None

    def shown(key: str, value: Any) -> str:
        if value is None or value == "" or value == []:
            return "空"
        if key == "fdi_usd":
            return f"{value / WAN:,.2f}万美元"
        if key in _MONEY:
            return format_yuan(int(value))
        if key == "foreign_invested":
            return "是" if value else "否"
        if key == "land_mu":
            return f"{float(value):g}亩"
        if key == "jobs":
            return f"{value}人"
        if key == "node_ids":
            return "、".join(chain.nodes[n].name_zh if chain and n in chain.nodes else str(n) for n in value)
        if key == "park_id":
            park = session.get(Park, value)
            return park.name if park else str(value)
        if key == "investor_id":
            firm = session.get(Enterprise, value)
            return firm.name if firm else str(value)
        return str(value)

    return shown


def project_history(session: Session, project_id: int | str) -> list[HistoryEvent]:
    """One timeline: stage changes, contacts and field edits (from the audit log), oldest first."""
    project = get_project(session, project_id)
    events = [
        HistoryEvent(c.changed_on, c.at, "阶段",
                     f"{c.from_stage or '—'} → {c.to_stage}" + (f"（{c.reason}）" if c.reason else ""), c.by_user)
        for c in project.stage_changes
    ]
    events += [HistoryEvent(a.on, None, "走访", f"{a.kind}：{a.content}", a.by_user) for a in project.activities]
    edits = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "project", AuditEntry.entity_id == project.code,
                                 AuditEntry.action.in_(["project.update", "project.import"]))
        .order_by(AuditEntry.id)
    )
    shown = _history_values(session, project)
    for e in edits:
        before, after = e.before or {}, e.after or {}
        parts = [f"{FIELD_LABELS.get(k, k)}：{shown(k, before.get(k))} → {shown(k, after.get(k))}"
                 for k in after if before.get(k) != after.get(k)]
        if parts:
            events.append(HistoryEvent(e.at.date(), e.at, "修改", "；".join(parts), e.username))
    return sorted(events, key=lambda ev: (ev.on, ev.at.replace(tzinfo=None) if ev.at else datetime.min))

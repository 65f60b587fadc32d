"""The project form of the browser: every column of the Excel 台账, read and checked by the ledger import's own
cell parsers and row rules (services/pipeline/ledger.py), written through the pipeline service with its audit.

A form is one ledger row typed by hand, so it gets the same answers as a row in a file: money in 亿元 (外资 in 万美元),
nodes by Chinese name, park by name, milestone dates that fit the stage and follow each other. The stage itself
moves only through 变更阶段 (its rules and history); the milestone dates here correct the day a step was reached.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.domain.chain import load_chain
from chainatlas.domain.money import WAN, YI, yi
from chainatlas.domain.stages import DATE_FIELD, DROP, HOLD
from chainatlas.ingest.values import ValueProblem
from chainatlas.services.pipeline import projects as pipeline
from chainatlas.services.pipeline.ledger import (
    COLUMN_OF,
    LedgerProblem,
    ProblemReader,
    RowContext,
    check_row,
    investor_id_for,
    parse_cell,
)
from chainatlas.store.models import Enterprise, Park, Project, Zone

# The form's fields in the ledger's column order; stage, code, zone, chain, source and 录入时间 are shown, not typed.
FORM_FIELDS: tuple[str, ...] = (
    "name", "investor_name", "investor_uscc", "node_ids", "project_type", "purpose",
    "investment_yuan", "fixed_investment_yuan", "funds_in_place_yuan", "expected_output_yuan", "expected_tax_yuan",
    "jobs", "land_mu", "park_id", "officer", "leader", "source_kind", "source_detail", "foreign_invested", "fdi_usd",
    "signed_on", "registered_on", "started_on", "producing_on", "hold_reason", "next_action", "next_action_on",
    "summary", "notes",
)
SHOWN_FIELDS: tuple[str, ...] = ("code", "chain_id", "stage", "stage_changed_on", "source", "zone_id", "created_at")
_DATES = tuple(DATE_FIELD.values())
_UNIT = {"yi": YI, "wan_usd": WAN}


@dataclass(frozen=True)
class FormField:
    field: str
    label: str  # the ledger's column header, unit included
    kind: str
    value: str  # as the form shows it (亿元, 万美元, node names, park name, 是/否)


class ProjectFormError(ValueError):
    """Every problem of the form at once, each naming its field in the ledger's words."""

    def __init__(self, problems: list[LedgerProblem]):
        self.problems = problems
        self.by_field: dict[str, str] = {}
        for p in problems:
            text = f"值“{p.value}”{p.message}。{p.action}".replace("值“”", "")
            self.by_field[p.column] = f"{self.by_field[p.column]}；{text}" if p.column in self.by_field else text
        super().__init__("项目未保存，请改正：" + "；".join(f"{c}：{m}" for c, m in self.by_field.items()))


def _shown(project: Project, f: str, kind: str, session: Session) -> str:
    value: Any = getattr(project, f, None)
    if f == "investor_uscc":
        firm = session.get(Enterprise, project.investor_id) if project.investor_id else None
        return firm.uscc or "" if firm else ""
    if value is None or value == "":
        return ""
    if kind in _UNIT:
        return f"{value / _UNIT[kind]:g}" if kind == "wan_usd" else f"{yi(value):g}"
    if kind == "nodes":
        chain = load_chain(project.chain_id)
        return "、".join(chain.nodes[n].name_zh if n in chain.nodes else n for n in value)
    if kind == "park":
        park = session.get(Park, value)
        return park.name if park else str(value)
    if kind == "bool":
        return "是" if value else "否"
    if kind == "chain":
        return load_chain(value).name_zh
    if kind == "zone":
        zone = session.get(Zone, value)
        return zone.name if zone else str(value)
    if kind == "datetime":
        moment = config.local_time(value)
        return f"{moment:%Y-%m-%d %H:%M}" if moment else ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def form_fields(session: Session, project: Project) -> tuple[list[FormField], list[FormField]]:
    """(editable fields, shown fields) with the project's values as the form displays them."""
    def one(f: str) -> FormField:
        col = COLUMN_OF[f]
        return FormField(f, col.header, col.kind, _shown(project, f, col.kind, session))
    return [one(f) for f in FORM_FIELDS], [one(f) for f in SHOWN_FIELDS]


def save_project_form(session: Session, project_id: int, form: Mapping[str, str], *, by_user: str) -> Project:
    """Check the whole form like a ledger row, then write the fields and corrected dates (both audited).

    Nothing is written when any field is wrong: the error lists every problem, by field.
    """
    project = pipeline.get_project(session, project_id)
    problems: list[LedgerProblem] = []
    reader = ProblemReader("项目表单", problems)
    zone = session.get(Zone, project.zone_id)
    ctx = RowContext(session, zone, project.chain_id, config.today())
    values: dict[str, Any] = {"chain_id": project.chain_id}
    raw: dict[str, str] = {}
    for f in FORM_FIELDS:
        col = COLUMN_OF[f]
        raw[f] = str(form.get(f, "") or "").strip()
        try:
            values[f] = parse_cell(col, raw[f], _UNIT.get(col.kind, 1), ctx, values)
        except ValueProblem as exc:
            reader.problem("表单", 1, col.header, raw[f], f"：{exc.message}", exc.action)
    values.update(stage=project.stage, zone_id=project.zone_id)
    check_row("表单", 1, values, raw, {f: COLUMN_OF[f].header for f in FORM_FIELDS}, reader, ctx, {})
    if problems:
        raise ProjectFormError(problems)
    uscc = values.pop("investor_uscc", "") or ""
    investor = values.get("investor_name") or ""
    values["investor_id"] = investor_id_for(session, uscc, investor) if (uscc or investor) else None
    if uscc and values["investor_id"] is None:
        raise ProjectFormError([LedgerProblem("项目表单", "表单", 1, COLUMN_OF["investor_uscc"].header, uscc,
                                              "：库中没有这个统一社会信用代码的企业", "请核对代码，或留空只填投资方名称")])
    dates = {f: values.pop(f) for f in _DATES}
    for f in ("stage", "zone_id", "chain_id"):
        values.pop(f, None)
    values.setdefault("project_type", project.project_type)
    hold_reason = values.pop("hold_reason", "") or ""
    pipeline.update_project(session, project.id, by_user=by_user, **values)
    if project.stage in (HOLD, DROP) and hold_reason != project.hold_reason:
        pipeline.correct_hold_reason(session, project.id, hold_reason, by_user=by_user)
    return pipeline.correct_dates(session, project.id, dates, by_user=by_user)


def parks(session: Session, zone_id: str) -> list[str]:
    return list(session.scalars(select(Park.name).where(Park.zone_id == zone_id).order_by(Park.name)))

"""The browser's project form: a ledger row typed by hand gets the Excel import's checks and the pipeline's audit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.services.pipeline import projects as pipeline
from chainatlas.services.pipeline.kpi import kpi_report
from chainatlas.services.pipeline.project_form import FORM_FIELDS, ProjectFormError, form_fields, save_project_form
from chainatlas.services.pipeline.ledger import COLUMNS
from chainatlas.store.models import AuditEntry

pytestmark = pytest.mark.db
YI = 100_000_000


def _signed(s: Session) -> int:
    p = pipeline.create_project(s, zone_id="wuhan-edz", name="电驱项目", by_user="t", on=date(2024, 1, 5),
                                node_ids=["drive-motor"], investment_yuan=5 * YI, investor_name="某电驱公司", chain_id="nev-icv")
    pipeline.change_stage(s, p.id, "在谈", on=date(2024, 2, 1), by_user="t")
    pipeline.change_stage(s, p.id, "签约", on=date(2024, 3, 10), by_user="t")
    return p.id


def _form(s: Session, pid: int, **changes: str) -> dict[str, str]:
    fields, _ = form_fields(s, pipeline.get_project(s, pid))
    return {f.field: f.value for f in fields} | changes


def test_form_covers_every_ledger_column() -> None:
    from chainatlas.services.pipeline.project_form import SHOWN_FIELDS

    # 37 columns: 序号 is the sheet's own; every other column is typed in the form or shown beside it.
    assert len(COLUMNS) == 37
    assert {c.field for c in COLUMNS} - {"row_no"} == set(FORM_FIELDS) | set(SHOWN_FIELDS)


def test_form_saves_amounts_and_dates_with_audit_and_moves_the_kpi(zone_session: Session) -> None:
    s = zone_session
    pid = _signed(s)
    assert kpi_report(s, "wuhan-edz", 2024, as_of=date(2024, 12, 31), chain_id="nev-icv").row("signed_investment_yuan").actual == 5 * YI
    shown = _form(s, pid)
    assert shown["investment_yuan"] == "5" and shown["node_ids"] == "驱动电机" and shown["signed_on"] == "2024-03-10"
    save_project_form(s, pid, _form(s, pid, investment_yuan="12.5", signed_on="2024-04-20", officer="李娜",
                                    park_id="智能网联和电动汽车产业园", node_ids="驱动电机、电机控制器",
                                    next_action="催办注册", next_action_on="2024-05-30"), by_user="li")
    p = pipeline.get_project(s, pid)
    assert (p.investment_yuan, p.signed_on, p.officer, p.park_id) == (1_250_000_000, date(2024, 4, 20), "李娜",
                                                                       "icv-ev-park")
    assert p.node_ids == ["drive-motor", "motor-controller"] and p.next_action_on == date(2024, 5, 30)
    assert p.stage_changed_on == date(2024, 4, 20)  # the current step's day moved with its date
    assert [c.changed_on for c in p.stage_changes if c.to_stage == "签约"] == [date(2024, 4, 20)]
    actions = [a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.entity_id == p.code))]
    assert "project.update" in actions and "project.dates" in actions
    dates = s.scalars(select(AuditEntry).where(AuditEntry.action == "project.dates")).one()
    assert dates.before["signed_on"] == "2024-03-10" and dates.after["signed_on"] == "2024-04-20"
    kpi = kpi_report(s, "wuhan-edz", 2024, as_of=date(2024, 12, 31), chain_id="nev-icv").row("signed_investment_yuan")
    assert kpi.actual == 1_250_000_000 and kpi.monthly[3] == 1_250_000_000  # counted in April now
    # A date before the step that came first is refused: the history keeps its order.
    with pytest.raises(pipeline.ProjectError, match="早于上一步“在谈”"):
        save_project_form(s, pid, _form(s, pid, signed_on="2024-01-20"), by_user="li")


def test_bad_form_says_every_problem_by_column_and_writes_nothing(zone_session: Session) -> None:
    s = zone_session
    pid = _signed(s)
    before = s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()))
    with pytest.raises(ProjectFormError) as err:
        save_project_form(s, pid, _form(s, pid, investment_yuan="很多", node_ids="火星基地", started_on="2024-02-01",
                                        jobs="-3", name=""), by_user="li")
    by = err.value.by_field
    assert "不是有效的金额" in by["投资金额（亿元）"] or "金额" in by["投资金额（亿元）"], by
    assert "火星基地" in by["产业链环节"] and "不是产业链" in by["产业链环节"]
    assert "阶段只到“签约”" in by["开工日期"] and "非负整数" in by["就业人数（人）"] and "项目名称" in by
    p = pipeline.get_project(s, pid)
    assert p.investment_yuan == 5 * YI and p.started_on is None and p.name == "电驱项目"
    assert s.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) == before
    with pytest.raises(ProjectFormError) as err:  # dates out of order, as the import says it
        save_project_form(s, pid, _form(s, pid, registered_on="2024-03-01"), by_user="li")
    assert "早于签约日期" in err.value.by_field["注册日期"]

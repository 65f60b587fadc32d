"""The project pipeline on a real database: codes, stage changes with their history, audit trail, queries."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.services.pipeline import projects as pipeline
from chainatlas.services.pipeline import ProjectError, ProjectFilter, StageError
from chainatlas.store import db
from chainatlas.store.models import AuditEntry, Project

pytestmark = pytest.mark.db
# Input checks and pure arithmetic behave alike on both engines; one engine keeps the suite quick.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
YI = 100_000_000


def new(session: Session, name: str = "电芯项目", on: date = date(2024, 1, 5), **kw: object) -> Project:
    kw.setdefault("node_ids", ["battery-cells"])
    kw.setdefault("investment_yuan", 30 * YI)
    return pipeline.create_project(session, zone_id="wuhan-edz", name=name, by_user="zhang", on=on, **kw, chain_id="nev-icv")


def audits(session: Session, code: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.entity_id == code).order_by(AuditEntry.id)))


def test_codes_are_date_plus_serial(zone_session: Session) -> None:
    a = new(zone_session, "甲")
    b = new(zone_session, "乙")
    c = new(zone_session, "丙", on=date(2024, 2, 29))
    assert (a.code, b.code, c.code) == ("20240105001", "20240105002", "20240229001")
    assert a.stage == "线索" and a.stage_changed_on == date(2024, 1, 5)
    assert [(s.from_stage, s.to_stage, s.changed_on, s.by_user) for s in a.stage_changes] == [
        (None, "线索", date(2024, 1, 5), "zhang")
    ]
    created = audits(zone_session, a.code)
    assert [e.action for e in created] == ["project.create"]
    assert created[0].username == "zhang" and created[0].before is None
    assert created[0].after["investment_yuan"] == 30 * YI and created[0].after["node_ids"] == ["battery-cells"]


@SQLITE_ONLY
def test_create_validates_input(zone_session: Session) -> None:
    with pytest.raises(ProjectError, match="没有环节：no-such-node"):
        new(zone_session, node_ids=["no-such-node"])
    with pytest.raises(ProjectError, match="项目类型“工厂”无效"):
        new(zone_session, project_type="工厂")
    with pytest.raises(ProjectError, match="园区“nowhere”不属于本开发区"):
        new(zone_session, park_id="nowhere")
    with pytest.raises(ProjectError, match="非负整数"):
        new(zone_session, investment_yuan=-5)
    with pytest.raises(ProjectError, match="开发区“mars”不存在"):
        pipeline.create_project(zone_session, zone_id="mars", name="x", by_user="u", on=date(2024, 1, 1), chain_id="nev-icv")
    assert zone_session.scalar(select(Project.id)) is None


def test_full_ladder_dates_history_and_audit(db_url: str) -> None:
    with db.session_scope(db_url) as s:
        from chainatlas.services.catalog import load_zone

        load_zone(s, "wuhan-edz", chain_id="nev-icv")
        p = new(s, park_id="icv-ev-park", officer="张伟")
        for stage, on in [("接洽", date(2024, 1, 20)), ("在谈", date(2024, 2, 10)), ("签约", date(2024, 3, 28)),
                          ("注册", date(2024, 5, 10)), ("开工", date(2024, 8, 18)), ("投产", date(2025, 6, 30))]:
            pipeline.change_stage(s, p.code, stage, on=on, by_user="li")
        code = p.code
    # A fresh session sees what was committed: the milestones, the history and one audit entry per change.
    with db.session_scope(db_url) as s:
        p = pipeline.get_project(s, code)
        assert (p.signed_on, p.registered_on, p.started_on, p.producing_on) == (
            date(2024, 3, 28), date(2024, 5, 10), date(2024, 8, 18), date(2025, 6, 30))
        assert [c.to_stage for c in p.stage_changes] == ["线索", "接洽", "在谈", "签约", "注册", "开工", "投产"]
        assert all(c.by_user == "li" for c in p.stage_changes[1:])
        entries = [e for e in audits(s, code) if e.action.startswith("project.stage")]
        assert len(entries) == 6
        signing = entries[2]
        assert signing.action == "project.stage.forward" and signing.username == "li"
        assert signing.before["stage"] == "在谈" and signing.before["signed_on"] is None
        assert signing.after["stage"] == "签约" and signing.after["signed_on"] == "2024-03-28"
        assert signing.at is not None


@SQLITE_ONLY
def test_refused_change_writes_nothing(zone_session: Session) -> None:
    p = new(zone_session)
    pipeline.change_stage(zone_session, p.id, "在谈", on=date(2024, 2, 1), by_user="li")
    before_changes = len(p.stage_changes)
    before_audit = len(audits(zone_session, p.code))
    with pytest.raises(StageError, match="尚未签约"):
        pipeline.change_stage(zone_session, p.id, "开工", on=date(2024, 3, 1), by_user="li")
    with pytest.raises(StageError, match="早于上一次阶段变更"):
        pipeline.change_stage(zone_session, p.id, "签约", on=date(2024, 1, 1), by_user="li")
    assert p.stage == "在谈" and p.started_on is None
    assert len(p.stage_changes) == before_changes
    assert len(audits(zone_session, p.code)) == before_audit


def test_back_hold_resume_drop_reopen(zone_session: Session) -> None:
    p = new(zone_session)
    pipeline.change_stage(zone_session, p.id, "签约", on=date(2024, 3, 1), by_user="li")
    # Going back un-signs it: the signing no longer counts, the history keeps it.
    pipeline.change_stage(zone_session, p.id, "在谈", on=date(2024, 4, 1), by_user="li", reason="协议解除")
    assert p.stage == "在谈" and p.signed_on is None
    back = audits(zone_session, p.code)[-1]
    assert back.action == "project.stage.back" and back.before["signed_on"] == "2024-03-01"
    assert back.after["signed_on"] is None

    pipeline.change_stage(zone_session, p.id, "签约", on=date(2024, 5, 6), by_user="li")
    pipeline.change_stage(zone_session, p.id, "搁置", on=date(2024, 6, 1), by_user="li", reason="企业资金调整")
    assert p.hold_reason == "企业资金调整" and p.signed_on == date(2024, 5, 6)
    with pytest.raises(StageError, match="只能回到.*“签约”"):
        pipeline.change_stage(zone_session, p.id, "开工", on=date(2024, 7, 1), by_user="li")
    pipeline.change_stage(zone_session, p.id, "签约", on=date(2024, 7, 1), by_user="li")
    assert p.stage == "签约" and p.hold_reason == "" and p.signed_on == date(2024, 5, 6)

    pipeline.change_stage(zone_session, p.id, "终止", on=date(2024, 8, 1), by_user="li", reason="选址他地")
    with pytest.raises(StageError, match="只有管理员"):
        pipeline.change_stage(zone_session, p.id, "签约", on=date(2024, 9, 1), by_user="li", reason="重新洽谈")
    pipeline.change_stage(zone_session, p.id, "签约", on=date(2024, 9, 1), by_user="admin", reason="企业回心转意",
                          as_admin=True)
    assert p.stage == "签约"
    kinds = [e.action for e in audits(zone_session, p.code)]
    assert kinds[-2:] == ["project.stage.drop", "project.stage.reopen"]
    assert [(c.from_stage, c.to_stage, c.reason) for c in p.stage_changes][-2:] == [
        ("签约", "终止", "选址他地"), ("终止", "签约", "企业回心转意")]


def test_update_and_activity_are_audited(zone_session: Session) -> None:
    p = new(zone_session)
    pipeline.update_project(zone_session, p.code, by_user="wang", investment_yuan=32 * YI, officer="王磊",
                            notes=p.notes)
    edit = audits(zone_session, p.code)[-1]
    assert edit.action == "project.update" and edit.username == "wang"
    assert edit.before == {"investment_yuan": 30 * YI, "officer": ""}  # unchanged notes are not logged
    assert edit.after == {"investment_yuan": 32 * YI, "officer": "王磊"}
    with pytest.raises(ProjectError, match="不能直接修改字段：stage"):
        pipeline.update_project(zone_session, p.code, by_user="wang", stage="签约")

    pipeline.log_activity(zone_session, p.code, on=date(2024, 2, 3), by_user="wang", kind="接待", content="企业来访",
                          next_action="报送政策方案", next_action_on=date(2024, 2, 20))
    assert p.next_action == "报送政策方案" and p.next_action_on == date(2024, 2, 20)
    assert [(a.on, a.kind, a.content) for a in p.activities] == [(date(2024, 2, 3), "接待", "企业来访")]
    with pytest.raises(ProjectError, match="记录类型“喝茶”无效"):
        pipeline.log_activity(zone_session, p.code, on=date(2024, 2, 3), by_user="wang", kind="喝茶", content="x")
    history = pipeline.project_history(zone_session, p.code)
    assert [h.kind for h in history][:1] == ["阶段"]
    assert any(h.kind == "走访" and "企业来访" in h.text for h in history)
    assert any(h.kind == "修改" and "投资金额" in h.text and "王磊" in h.text for h in history)
    assert pipeline.last_progress_on(p, date(2024, 12, 31)) == date(2024, 2, 3)
    assert pipeline.last_progress_on(p, date(2024, 2, 1)) == date(2024, 1, 5)


@SQLITE_ONLY
def test_queries_filter_and_board(zone_session: Session) -> None:
    a = new(zone_session, "电芯", node_ids=["battery-cells"], officer="张伟")
    b = new(zone_session, "雷达", node_ids=["lidar"], officer="李娜", investor_name="禾赛")
    pipeline.change_stage(zone_session, a.id, "签约", on=date(2024, 3, 1), by_user="u")
    pipeline.change_stage(zone_session, b.id, "在谈", on=date(2024, 3, 1), by_user="u")

    def codes(**kw) -> list[str]:  # type: ignore[no-untyped-def]
        return sorted(p.code for p in pipeline.list_projects(zone_session, ProjectFilter(zone_id="wuhan-edz", **kw)))

    assert codes() == sorted([a.code, b.code])
    assert codes(stages=["签约"]) == [a.code]
    assert codes(node_id="battery-cells-packs") == [a.code]  # the parent node includes its children
    assert codes(officer="李娜") == [b.code]
    assert codes(signed_year=2024) == [a.code]
    assert codes(text="禾赛") == [b.code]
    board = pipeline.board(zone_session, "wuhan-edz")
    assert list(board) == ["线索", "接洽", "在谈", "签约", "注册", "开工", "投产", "搁置", "终止"]
    assert [p.code for p in board["签约"]] == [a.code] and [p.code for p in board["在谈"]] == [b.code]
    with pytest.raises(ProjectError, match="找不到项目“20990101001”"):
        pipeline.get_project(zone_session, "20990101001")


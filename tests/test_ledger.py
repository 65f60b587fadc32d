"""The Excel ledger: a round trip that keeps every field, idempotent re-import, bad rows named by row and column."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainatlas.domain.uscc import check_digit
from chainatlas.services.pipeline import projects as pipeline
from chainatlas.services.pipeline import kpi_report
from chainatlas.services.pipeline.ledger import (
    ACTIVITY_SHEET,
    HISTORY_SHEET,
    MAIN_SHEET,
    SUMMARY_SHEET,
    LedgerImportError,
    export_ledger,
    import_ledger,
)
from chainatlas.store.models import Enterprise, ImportBatch, Project

pytestmark = pytest.mark.db
# Input checks and pure arithmetic behave alike on both engines; one engine keeps the suite quick.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
SKIP = {"id", "updated_at"}  # the row id is the database's; updated_at is stamped by the database on every write


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return value


def snapshot(session: Session) -> dict[str, dict]:
    """Every column of every project, with its stage history and contacts, keyed by 项目编号."""
    out = {}
    for p in session.scalars(select(Project).order_by(Project.code)):
        row = {c.key: _utc(getattr(p, c.key)) for c in Project.__table__.columns if c.key not in SKIP}
        row["history"] = [(c.from_stage, c.to_stage, c.changed_on, c.reason, c.by_user, _utc(c.at))
                          for c in p.stage_changes]
        row["activities"] = [(a.on, a.kind, a.content, a.by_user) for a in p.activities]
        out[p.code] = row
    return out


def sheet_values(path: Path, sheet: str, first_row: int) -> list[tuple]:
    ws = load_workbook(path)[sheet]
    return [tuple(r) for r in ws.iter_rows(min_row=first_row, values_only=True)]


@pytest.fixture
def full_ledger(zone_session: Session) -> Session:
    s = zone_session
    body = "91350900MA2XXXXX0"
    firm = Enterprise(name="宁德时代新能源科技股份有限公司", uscc=body + check_digit(body), source="test")
    s.add(firm)
    s.flush()
    p = pipeline.create_project(
        s, zone_id="wuhan-edz", name="动力电池电芯基地（二期）", by_user="zhang", on=date(2024, 1, 5),
        investor_id=firm.id, node_ids=["battery-cells", "bms"], source_kind="以商招商", source_detail="东风引荐",
        investment_yuan=1_234_567_891, fixed_investment_yuan=987_654_321, funds_in_place_yuan=123_456_789,
        expected_output_yuan=2_500_000_001, expected_tax_yuan=99_999_999, jobs=321, land_mu=123.45,
        park_id="icv-ev-park", officer="张伟", leader="副主任甲", project_type="扩建", purpose="补链",
        foreign_invested=True, fdi_usd=12_345_678, summary="第一行\n第二行：企业简介、投资内容",
        notes="进度：厂房封顶；\"引号\"与'单引号'", next_action="协调临时用电", next_action_on=date(2024, 11, 20),
    chain_id="nev-icv")
    for stage, on, reason in [("在谈", date(2024, 2, 1), ""), ("签约", date(2024, 3, 28), ""),
                              ("注册", date(2024, 5, 10), ""), ("搁置", date(2024, 6, 1), "资金调整"),
                              ("注册", date(2024, 7, 1), ""), ("开工", date(2024, 8, 18), "")]:
        pipeline.change_stage(s, p.id, stage, on=on, by_user="li", reason=reason)
    pipeline.log_activity(s, p.id, on=date(2024, 9, 20), by_user="li", kind="拜访", content="走访工地")
    pipeline.log_activity(s, p.id, on=date(2024, 9, 20), by_user="li", kind="电话", content="走访工地")
    q = pipeline.create_project(s, zone_id="wuhan-edz", name="激光雷达项目", by_user="wang", on=date(2024, 2, 5),
                                investor_name="某激光雷达公司", node_ids=["lidar"], investment_yuan=600_000_000, chain_id="nev-icv")
    pipeline.change_stage(s, q.id, "签约", on=date(2024, 3, 1), by_user="wang")
    pipeline.change_stage(s, q.id, "在谈", on=date(2024, 4, 1), by_user="wang", reason="协议解除")
    pipeline.change_stage(s, q.id, "终止", on=date(2024, 5, 1), by_user="wang", reason="选址他地")
    pipeline.create_project(s, zone_id="wuhan-edz", name="空白线索", by_user="wang", on=date(2024, 2, 5), chain_id="nev-icv")
    s.flush()
    return s


def test_round_trip_keeps_every_field(full_ledger: Session, tmp_path: Path) -> None:
    s = full_ledger
    before = snapshot(s)
    first = tmp_path / "台账.xlsx"
    assert export_ledger(s, first, "wuhan-edz", year=2024, as_of=date(2024, 10, 31), chain_id="nev-icv") == 3
    for p in s.scalars(select(Project)):
        s.delete(p)
    s.flush()
    assert s.scalar(select(func.count(Project.id))) == 0

    result = import_ledger(s, first, by_user="importer", chain_id="nev-icv")
    assert (result.inserted, result.updated, result.unchanged) == (3, 0, 0)
    s.expire_all()
    after = snapshot(s)
    assert after == before  # every column, the whole stage history and every contact
    assert after["20240105001"]["investment_yuan"] == 1_234_567_891  # to the yuan through a 亿元 column

    again = import_ledger(s, first, by_user="importer", chain_id="nev-icv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert (again.stage_changes_added, again.activities_added) == (0, 0)
    s.expire_all()
    assert snapshot(s) == before

    second = tmp_path / "再导出.xlsx"
    export_ledger(s, second, "wuhan-edz", year=2024, as_of=date(2024, 10, 31), chain_id="nev-icv")
    for sheet, first_row in ((MAIN_SHEET, 3), (HISTORY_SHEET, 1), (ACTIVITY_SHEET, 1), (SUMMARY_SHEET, 3)):
        assert sheet_values(second, sheet, first_row) == sheet_values(first, sheet, first_row), sheet


@SQLITE_ONLY
def test_export_shape_and_monthly_summary(full_ledger: Session, tmp_path: Path) -> None:
    path = tmp_path / "台账.xlsx"
    export_ledger(full_ledger, path, "wuhan-edz", year=2024, as_of=date(2024, 10, 31), chain_id="nev-icv")
    wb = load_workbook(path)
    assert wb.sheetnames == [MAIN_SHEET, HISTORY_SHEET, ACTIVITY_SHEET, SUMMARY_SHEET]
    header = [c.value for c in wb[MAIN_SHEET][3]]
    for name in ("序号", "项目编号", "项目名称", "投资方", "产业链环节", "项目类型", "投资金额（亿元）", "阶段",
                 "签约日期", "开工日期", "责任人", "进度、备注", "下一步工作"):
        assert name in header
    row = dict(zip(header, [c.value for c in wb[MAIN_SHEET][4]]))
    assert row["产业链环节"] == "动力电芯、电池管理系统" and row["所在园区"] == "智能网联和电动汽车产业园"
    assert row["投资金额（亿元）"] == pytest.approx(12.34567891) and row["阶段"] == "开工"
    summary = {r[0]: r[1:] for r in wb[SUMMARY_SHEET].iter_rows(min_row=4, values_only=True)}
    heads = [c.value for c in wb[SUMMARY_SHEET][3]][1:]
    money = heads.index("签约投资额（亿元）")
    count = heads.index("签约项目数（个）")
    assert summary["3月"][money] == pytest.approx(12.3457, abs=1e-4)  # the lidar signing was undone, so not counted
    assert summary["合计"][count] == 1 and summary["年度目标"][count] == 15
    report = kpi_report(full_ledger, "wuhan-edz", 2024, as_of=date(2024, 10, 31), chain_id="nev-icv")
    assert summary["年底预计"][count] == report.row("signed_projects").projection
    assert summary["序时进度"][count] == "滞后"


def _write_book(path: Path, rows: list[list[Any]], headers: list[str]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "2024年项目台账"  # not the exported name: found by its header row
    ws.append(["经开区招商项目信息采集表"])
    ws.append(["填报单位：招商一局", None, "填报时间：2024-10-31"])
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)


HEADERS = ["序号", "项目编号", "项目名称", "投资主体", "产业链环节", "项目类型", "投资金额（万元）", "所在园区", "阶段",
           "签约日期", "开工日期", "搁置/终止原因", "进度备注", "本局自用列"]


@SQLITE_ONLY
def test_bad_rows_are_named_and_nothing_is_written(zone_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    good = [1, None, "好项目", "某企业", "动力电芯、激光雷达", "新建", 120000, "智能网联和电动汽车产业园", "签约",
            "2024/5/1", None, None, "已签约", "x"]
    rows = [
        good,
        [2, None, "日期错", "甲", None, "新建", 1, None, "签约", "2024-13-45", None, None, None, None],
        [3, None, "阶段错", "乙", None, "新建", 1, None, "落地", None, None, None, None, None],
        [4, None, "未签先开工", "丙", None, "新建", 1, None, "开工", None, "2024-06-01", None, None, None],
        [5, None, "负数", "丁", None, "新建", "-5", None, "线索", None, None, None, None, None],
        [6, None, "环节错", "戊", "飞行汽车", "新建", 1, None, "线索", None, None, None, None, None],
        [7, None, "园区错", "己", None, "新建", 1, "火星园", "线索", None, None, None, None, None],
        [8, None, "搁置无因", "庚", None, "新建", 1, None, "搁置", None, None, None, None, None],
        [9, "20240101001", "重复甲", "辛", None, "新建", 1, None, "线索", None, None, None, None, None],
        [10, "20240101001", "重复乙", "壬", None, "新建", 1, None, "线索", None, None, None, None, None],
        [11, None, "在谈却有签约日", "癸", None, "新建", 1, None, "在谈", "2024-03-01", None, None, None, None],
        [12, None, "类型错", "子", None, "工厂", 1, None, "线索", None, None, None, None, None],
    ]
    _write_book(path, rows, HEADERS)
    with pytest.raises(LedgerImportError) as info:
        import_ledger(zone_session, path, by_user="t", zone_id="wuhan-edz", chain_id="nev-icv")
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {
        (5, "签约日期"), (6, "阶段"), (7, "签约日期"), (8, "投资金额（万元）"), (9, "产业链环节"), (10, "所在园区"),
        (11, "搁置/终止原因"), (13, "项目编号"), (14, "签约日期"), (15, "项目类型"),
    }
    text = str(info.value)
    assert "bad.xlsx 工作表“2024年项目台账”第5行“签约日期”列：值“2024-13-45”" in text
    assert "第13行“项目编号”列：值“20240101001”与第12行重复" in text
    assert "第10行“所在园区”列：值“火星园”不是本开发区的园区。请填写园区名称：智能网联和电动汽车产业园" in text
    assert "未导入任何数据" in text
    assert zone_session.scalar(select(func.count(Project.id))) == 0
    assert zone_session.scalar(select(func.count(ImportBatch.id))) == 0


@SQLITE_ONLY
def test_a_ledger_typed_by_hand_imports_once(zone_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "hand.xlsx"
    row = [1, None, "好项目", "某企业", "动力电芯、lidar", "新建", 120000, "智能网联和电动汽车产业园", "签约",
           "2024年5月1日", None, None, "已签约", "自用"]
    _write_book(path, [row], HEADERS)
    first = import_ledger(zone_session, path, by_user="t", zone_id="wuhan-edz", today=date(2024, 10, 31), chain_id="nev-icv")
    assert (first.inserted, first.stage_changes_added) == (1, 1)
    p = zone_session.scalar(select(Project))
    assert p.code == "20240501001"  # 区级编码 from the date it reached its stage
    assert p.investment_yuan == 1_200_000_000  # 120000 under a (万元) header
    assert p.node_ids == ["battery-cells", "lidar"] and p.park_id == "icv-ev-park"
    assert p.investor_name == "某企业" and p.notes == "已签约" and p.signed_on == date(2024, 5, 1)
    assert [(c.from_stage, c.to_stage, c.changed_on, c.reason) for c in p.stage_changes] == [
        (None, "签约", date(2024, 5, 1), "台账导入")]
    assert p.source == f"import:{first.batch_id}"
    second = import_ledger(zone_session, path, by_user="t", zone_id="wuhan-edz", today=date(2024, 10, 31), chain_id="nev-icv")
    assert (second.inserted, second.updated, second.unchanged, second.stage_changes_added) == (0, 0, 1, 0)
    assert zone_session.scalar(select(func.count(Project.id))) == 1


@SQLITE_ONLY
def test_not_an_excel_file(zone_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"
    path.write_text("序号,项目名称\n1,x\n", encoding="utf-8")
    with pytest.raises(LedgerImportError, match="ledger.xlsx 无法作为 Excel 文件打开.*另存为 .xlsx"):
        import_ledger(zone_session, path, by_user="t", zone_id="wuhan-edz", chain_id="nev-icv")


@SQLITE_ONLY
def test_a_gbk_csv_ledger_reads_like_excel(zone_session: Session, tmp_path: Path) -> None:
    """The main sheet alone, saved from WPS as CSV in GBK with a title row: the shared reader copes."""
    path = tmp_path / "台账.csv"
    lines = ["经开区招商项目台账,,,,,", "项目名称,投资主体,产业链环节,投资金额(亿元),阶段,签约日期",
             "电驱项目,某电机公司,驱动电机,2.5,签约,2024-06-30"]
    path.write_bytes("\r\n".join(lines).encode("gb18030"))
    result = import_ledger(zone_session, path, by_user="t", zone_id="wuhan-edz", today=date(2024, 10, 31), chain_id="nev-icv")
    assert result.inserted == 1
    p = zone_session.scalar(select(Project))
    assert (p.name, p.investment_yuan, p.node_ids, p.signed_on) == ("电驱项目", 250_000_000, ["drive-motor"],
                                                                    date(2024, 6, 30))


@SQLITE_ONLY
def test_money_column_without_unit_is_refused(zone_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "no-unit.xlsx"
    _write_book(path, [[1, None, "项目", "甲", None, "新建", 5, None, "线索"]],
                ["序号", "项目编号", "项目名称", "投资方", "产业链环节", "项目类型", "投资金额", "所在园区", "阶段"])
    with pytest.raises(LedgerImportError) as info:
        import_ledger(zone_session, path, by_user="t", zone_id="wuhan-edz", chain_id="nev-icv")
    assert [(p.row, p.column, p.message) for p in info.value.problems] == [(3, "投资金额", "没有注明金额单位")]

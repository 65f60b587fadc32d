"""What an officer's day on the real listed-company data tripped over (session 13): each test fails on the code
before its fix. Files are made as a bureau has them: an .xlsx with merged title rows and a totals row under the
list, a GBK CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.services.ingest.enterprises import import_enterprises
from chainatlas.store.models import Enterprise, HeldRow

pytestmark = pytest.mark.db


def _bureau_xlsx(path: Path, footer: list[object]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["2026年汽车零部件重点企业名单"])
    ws.merge_cells("A1:E1")
    ws.append(["填报单位：区投资促进局　　单位：万元"])
    ws.merge_cells("A2:E2")
    ws.append(["序号", "企业名称", "注册地址", "主营产品", "注册资本（万元）"])
    ws.append([1, "武汉星测激光雷达科技有限公司", "武汉经济技术开发区车城大道88号", "车载激光雷达", 5000])
    ws.append([2, "武汉沌口热管理系统有限公司", "武汉经济技术开发区东风大道1号", "汽车热管理系统", 3000])
    ws.append([])
    ws.append(footer)
    ws.merge_cells(start_row=ws.max_row, start_column=2, end_row=ws.max_row, end_column=5)
    wb.save(path)
    return path


@pytest.mark.parametrize("footer", [["合计", "2家"], ["合　计：2家"], [None, "小计：2家"]])
def test_a_totals_row_under_the_list_is_held_not_a_firm(zone_session: Session, tmp_path: Path,
                                                        footer: list[object]) -> None:
    s = zone_session
    summary = import_enterprises(s, _bureau_xlsx(tmp_path / "名单.xlsx", footer))
    assert (summary.rows_inserted, summary.rows_held) == (2, 1)  # was 3 firms: one named "2家" or "合计：2家"
    assert sorted(s.scalars(select(Enterprise.name))) == ["武汉星测激光雷达科技有限公司", "武汉沌口热管理系统有限公司"]
    problem = summary.problems[0]
    assert problem.row == 7 and "汇总行" in problem.problem  # the spreadsheet's row, the column that says 合计
    assert problem.column == ("企业名称" if footer[0] is None else "序号")
    assert s.scalars(select(HeldRow)).one().problems[0]["row"] == 7


def test_a_totals_row_in_a_gbk_csv_is_held(zone_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "名录.csv"
    path.write_bytes("企业名称,注册地址\n武汉星测激光雷达科技有限公司,武汉经济技术开发区车城大道88号\n"
                     "武汉星测激光雷达科技有限公司,武汉经济技术开发区车城大道88号\n合 计,2\n".encode("gbk"))
    summary = import_enterprises(zone_session, path)
    assert (summary.rows_inserted, summary.rows_held) == (1, 1)
    assert [(p.row, p.column, p.value) for p in summary.problems] == [(4, "企业名称", "合 计")]


def test_a_firm_whose_name_starts_like_a_total_is_imported(zone_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "名录.csv"
    path.write_text("企业名称,注册地址\n合计通（武汉）科技有限公司,武汉经济技术开发区车城大道1号\n", encoding="utf-8")
    assert import_enterprises(zone_session, path).rows_inserted == 1

"""Item 8 of issue 22: search wildcards and length, duplicate headers, Excel error cells and NUL bytes in names,
the demo's normalised names, and the CSV delimiter a ;-rich list column no longer decides."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from chainatlas.ingest.mapping import ENTERPRISE_FIELDS, map_headers
from chainatlas.ingest.reader import read_table
from chainatlas.ingest.records import parse_table
from chainatlas.services import enterprises
from chainatlas.services.ingest.imports import preview
from chainatlas.store import db
from chainatlas.store.models import Enterprise
from hostile_files import text_cell, workbook


def _names(path: Path) -> tuple[list, dict]:
    table = read_table(path, ENTERPRISE_FIELDS)
    parsed = parse_table(table, map_headers(table.headers, ENTERPRISE_FIELDS), path.name)
    return parsed.values["name"], parsed.problems


@pytest.mark.db
def test_search_takes_percent_and_underscore_literally_and_bounds_the_query(session) -> None:
    session.add_all([Enterprise(name="甲_乙科技有限公司", name_norm="甲_乙科技有限公司"),
                     Enterprise(name="甲丙乙科技有限公司", name_norm="甲丙乙科技有限公司"),
                     Enterprise(name="百分%之百有限公司", name_norm="百分%之百有限公司")])
    session.flush()
    names = lambda q: [r["name"] for r in enterprises.search(session, q)["results"]]  # noqa: E731
    assert names("甲_乙") == ["甲_乙科技有限公司"]
    assert names("%") == ["百分%之百有限公司"]
    assert names("_") == ["甲_乙科技有限公司"]
    with pytest.raises(enterprises.SearchError, match="搜索词过长"):
        enterprises.search(session, "%_" * 200)


def test_a_repeated_header_is_said_not_dropped_silently(tmp_path: Path) -> None:
    path = tmp_path / "重复.csv"
    path.write_text("企业名称,注册地址,企业名称\n甲公司,武汉,乙公司\n", encoding="utf-8")
    pv = preview(path)
    assert pv.table.headers == ["企业名称", "注册地址", "企业名称_2"]
    assert len(pv.mapping.warnings) == 1
    assert "第 3 列“企业名称_2”与“企业名称”都对应“企业名称”" in pv.mapping.warnings[0]


@pytest.mark.parametrize("error", ["#N/A", "#REF!", "#VALUE!", "#DIV/0!"])
def test_excel_error_values_are_empty_never_a_firm_name(tmp_path: Path, error: str) -> None:
    path = tmp_path / "查找.csv"
    path.write_text(f"企业名称,注册地址\n{error},武汉\n甲公司,武汉\n", encoding="utf-8")
    names, problems = _names(path)
    assert names == [None, "甲公司"] and 0 in problems  # the row without a name is held back, said why


def test_an_error_cell_of_a_workbook_is_no_firm_name(tmp_path: Path) -> None:
    path = workbook(tmp_path / "查找.xlsx", [
        f'<row r="1">{text_cell("A1", "企业名称")}{text_cell("B1", "注册地址")}</row>',
        f'<row r="2"><c r="A2" t="e"><f>VLOOKUP(C2,D:E,2,0)</f><v>#N/A</v></c>{text_cell("B2", "武汉")}</row>',
        f'<row r="3">{text_cell("A3", "甲公司")}{text_cell("B3", "武汉")}</row>'])
    names, _ = _names(path)
    assert names == [None, "甲公司"]


def test_nul_bytes_are_stripped_from_names(tmp_path: Path) -> None:
    path = tmp_path / "空字符.csv"
    path.write_bytes("企业名称,注册地址\n甲\x00公司,武汉\n\x00乙公司\x00,武汉\n".encode())
    names, _ = _names(path)
    assert names == ["甲公司", "乙公司"]


def test_the_demo_firms_have_normalised_names(demo_db_url: str) -> None:
    with db.session_scope(demo_db_url) as s:
        assert s.scalar(select(func.count()).select_from(Enterprise)) > 0
        assert s.scalar(select(func.count()).where(Enterprise.name_norm == "")) == 0


def test_a_semicolon_rich_list_column_does_not_choose_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "产品.csv"
    rows = "".join(f"公司{i},武汉,电池;电机;电控;电驱;热管理\n" for i in range(5))
    path.write_text("企业名称,注册地址,主营产品\n" + rows, encoding="utf-8")
    table = read_table(path, ENTERPRISE_FIELDS)
    assert table.headers == ["企业名称", "注册地址", "主营产品"]
    assert table.columns[2][0] == "电池;电机;电控;电驱;热管理"

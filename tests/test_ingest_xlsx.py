"""Excel reading through calamine: cells as openpyxl gave them, layouts users have, legacy .xls, broken files.

openpyxl (still used for writing) is the reference: the same files are read with openpyxl's read-only mode,
as the reader did before calamine, and every cell must come out equal in value AND type.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from chainatlas.ingest.mapping import ENTERPRISE_FIELDS, map_headers
from chainatlas.ingest.reader import ReadError, read_table
from chainatlas.ingest.records import parse_table
from chainatlas.ingest.xlsx import read_sheet
from ingest_files import DONGFENG, HUACHUANG, merged_header_xlsx

HEADERS = ["企业名称", "统一社会信用代码", "成立日期", "注册资本", "员工人数", "股票代码", "营业收入(万元)", "行业代码",
           "是否上市", "备注"]
VALUES = [
    ["整数", 913420001234567890, 43467, 1000, 320, 538, 3500, 3670, True, 0],
    ["浮点", 9.1342e17, 43467.5, 1000.5, 320.0, 538.0, 0.1, 3670.0, False, -0.0],
    ["日期", HUACHUANG, datetime(2019, 1, 2), datetime(2019, 1, 2, 13, 45, 10), date(2020, 2, 29), time(8, 30),
     timedelta(hours=30), datetime(1900, 1, 1), datetime(1900, 3, 1), None],
    ["文本数字", "000538", "2019-01-02", "1,000万", " 320人 ", "—", "无", "-", "n/a", "1e3"],
    ["大数", 12345678901234567890, 1e16, 123456789012345, 2**53, 9999999999999998, -5, -5.5, 1e-7, 123.456789012345],
    ["公式", "=1+1", None, None, None, None, None, None, None, None],  # no cached value: empty, as in openpyxl
    [None] * 10,
    ["空白", "-", "", "\u3000", "\xa0", "null", "None", "nan", "/", "NaN"],
]


def _typed(rows: list[list[Any]]) -> list[list[tuple[str, Any]]]:
    """Rows with trailing empty cells dropped and each cell tagged with its type (1 == 1.0 == True otherwise)."""
    out = []
    for row in rows:
        cells = list(row)
        while cells and cells[-1] is None:
            cells.pop()
        out.append([(type(v).__name__, v) for v in cells])
    return out


def _openpyxl_rows(path: Path, sheet: str) -> list[list[Any]]:
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(r) for r in wb[sheet].iter_rows(values_only=True)]
    finally:
        wb.close()


def _types_workbook(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "类型"
    ws.append(HEADERS)
    for row in VALUES:
        ws.append(row)
    formats = {"C11": (datetime(2023, 12, 31, 23, 59, 59, 500000), "yyyy-mm-dd hh:mm:ss"),
               "D11": (date(1904, 1, 1), "yyyy-mm-dd"), "E11": (45000, "yyyy/m/d"), "F11": (0.25, "h:mm"),
               "G11": (1.5, "[h]:mm:ss"), "H11": (43467, "0.00"), "I11": (0.5, "0%"),
               # Excel's 1900 leap-year bug: serials 59 and 60 are both 1900-02-28 in openpyxl
               "B12": (1, "yyyy-mm-dd"), "C12": (59, "yyyy-mm-dd"), "D12": (60, "yyyy-mm-dd"), "E12": (61, "yyyy-mm-dd")}
    for ref, (value, number_format) in formats.items():
        ws[ref] = value
        ws[ref].number_format = number_format
    ws["A11"], ws["A12"], ws["A13"] = "格式", "序号日", "错误"
    for ref, error in (("B13", "#N/A"), ("C13", "#DIV/0!")):
        ws[ref] = error
        ws[ref].data_type = "e"
    wb.save(path)
    return path


def test_cells_come_out_as_openpyxl_gave_them(tmp_path: Path) -> None:
    path = _types_workbook(tmp_path / "类型.xlsx")
    sheet = read_sheet(path, None)
    assert sheet.name == "类型"
    assert _typed(list(sheet.rows)) == _typed(_openpyxl_rows(path, "类型"))


def test_xlsxwriter_and_1904_files_match_openpyxl(tmp_path: Path) -> None:
    path = tmp_path / "w.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("数据")
    day, moment = wb.add_format({"num_format": "yyyy-mm-dd"}), wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    ws.write_row(0, 0, HEADERS[:6])
    ws.write_row(1, 0, ["甲", 913420001234567890, 43467, 1000, 320, 538])
    ws.write_row(2, 0, ["乙", 9.1342e17, 43467.5, 1000.5, 320.0, 1e16])
    ws.write_datetime(3, 2, datetime(2019, 1, 2), day)
    ws.write_datetime(3, 3, datetime(2019, 1, 2, 8, 30), moment)
    ws.write_formula(4, 0, '="丁"&"公司"', None, "丁公司")
    ws.write_formula(4, 3, "=1+1", None, 2)
    ws.write(5, 0, "甲公司\r\n分部")  # stored as _x000D_: openpyxl's read-only mode left that escape in the text
    wb.close()
    ours = _typed(list(read_sheet(path, "数据").rows))
    theirs = _typed(_openpyxl_rows(path, "数据"))
    assert ours[:5] == theirs[:5]
    assert ours[5] == [("str", "甲公司\r\n分部")] and theirs[5] == [("str", "甲公司_x000D_\n分部")]

    mac = Workbook()
    mac.epoch = CALENDAR_MAC_1904
    mac.active.append(["企业名称", "成立日期"])
    mac.active.append(["甲", datetime(2019, 1, 2)])
    mac.save(tmp_path / "mac.xlsx")
    assert _typed(list(read_sheet(tmp_path / "mac.xlsx", None).rows)) == [
        [("str", "企业名称"), ("str", "成立日期")], [("str", "甲"), ("datetime", datetime(2019, 1, 2))]]


def test_error_cells_are_read_and_are_empty_values(tmp_path: Path) -> None:
    """A VLOOKUP that found nothing leaves "#N/A": the reader gives it as openpyxl did, and the parsers take it as
    an empty cell (issue 22: never a firm name or a code; a row left without its name is held for that)."""
    path = tmp_path / "e.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["企业名称", "统一社会信用代码"])
    ws.append(["甲公司", HUACHUANG])
    ws.append(["乙公司", "#N/A"])
    ws["B3"].data_type = "e"
    wb.save(path)
    table = read_table(path, ENTERPRISE_FIELDS)
    assert table.columns[1] == [HUACHUANG, "#N/A"]
    parsed = parse_table(table, map_headers(table.headers, ENTERPRISE_FIELDS), "e.xlsx")
    assert parsed.values["uscc"] == [HUACHUANG, None] and parsed.problems == {}


def test_layout_leading_empty_rows_and_columns_and_sheet_choice(tmp_path: Path) -> None:
    path = tmp_path / "layout.xlsx"
    wb = Workbook()
    hidden = wb.active
    hidden.title = "隐藏"
    hidden.sheet_state = "hidden"  # the first worksheet is read even when hidden, as before
    hidden.append(["企业名称"])
    hidden.append(["隐藏公司"])
    ws = wb.create_sheet("可见")
    ws["C2"] = "名录"
    ws.merge_cells("C2:F2")
    ws["C3"], ws["E3"] = "企业", "经营情况(亿元)"
    ws.merge_cells("C3:D3")
    ws.merge_cells("E3:F3")
    ws["C4"], ws["D4"], ws["E4"], ws["F4"] = "名称", "信用代码", "营业收入", "产值"
    ws.append([None, None, "甲公司", DONGFENG, 1.5, 2])
    ws.append([])
    ws.append([None, None, "乙公司", None, None, "3亿元"])
    chart = wb.create_chartsheet("图表")
    bars = BarChart()
    bars.add_data(Reference(ws, min_col=5, min_row=5, max_row=7))
    chart.add_chart(bars)
    wb.save(path)

    assert read_table(path, ENTERPRISE_FIELDS).columns == [["隐藏公司"]]
    table = read_table(path, ENTERPRISE_FIELDS, sheet="可见")
    assert table.sheet == "可见" and table.header_row == 4
    assert table.headers == ["第1列", "第2列", "名称", "信用代码", "营业收入(亿元)", "产值(亿元)"]
    assert table.row_numbers == [5, 7] and table.blank_rows == 1
    assert table.columns[2:] == [["甲公司", "乙公司"], [DONGFENG, None], [1.5, None], [2, "3亿元"]]
    with pytest.raises(ReadError, match="layout.xlsx 中没有工作表“名单”。已有：隐藏、可见、图表"):
        read_table(path, ENTERPRISE_FIELDS, sheet="名单")
    with pytest.raises(ReadError, match="“图表”是图表页，没有表格数据"):
        read_table(path, ENTERPRISE_FIELDS, sheet="图表")


def test_formatted_empty_rows_below_the_data_are_not_blank_rows(tmp_path: Path) -> None:
    """Templates keep bordered empty rows under the list; they are not rows the user left blank."""
    path = tmp_path / "模板.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["企业名称", "注册地址"])
    ws.append(["甲公司", "武汉市"])
    ws.append([])
    ws.append(["乙公司", None])
    for row in range(5, 200):
        ws.cell(row, 1).font = Font(bold=True)
    ws.cell(3, 8).font = Font(bold=True)  # a formatted cell right of the data adds no column
    wb.save(path)
    table = read_table(path, ENTERPRISE_FIELDS)
    assert table.headers == ["企业名称", "注册地址"]
    assert table.row_numbers == [2, 4] and table.blank_rows == 1


def test_legacy_xls_reads_like_the_xlsx(tmp_path: Path) -> None:
    import xlwt  # test extra: the only offline writer of real .xls files
    path = tmp_path / "名录.xls"
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("名单")
    ws.write_merge(0, 0, 0, 5, "经开区新能源汽车产业链企业名录")
    ws.write_merge(1, 2, 0, 0, "企业名称")
    ws.write_merge(1, 2, 1, 1, "统一社会信用代码")
    ws.write_merge(1, 1, 2, 3, "基本信息")
    ws.write_merge(1, 1, 4, 5, "财务数据(万元)")
    for col, text in enumerate(["注册地址", "成立日期", "注册资本", "营业收入"], start=2):
        ws.write(2, col, text)
    day = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for col, value in enumerate(["武汉华创智能科技有限公司", HUACHUANG, "武汉市汉南区纱帽街道通航大道18号"]):
        ws.write(3, col, value)
    ws.write(3, 3, datetime(2019, 1, 2), day)
    ws.write(3, 4, 1000)
    ws.write(3, 5, 3500)
    for col, value in enumerate(["东风智联汽车零部件有限公司", DONGFENG, "武汉市蔡甸区沌口街道东风大道10号", 40299, "500万美元"]):
        ws.write(5, col, value)
    wb.add_sheet("第二页").write(0, 0, "x")
    wb.save(str(path))

    old = read_table(path, ENTERPRISE_FIELDS)
    new = read_table(merged_header_xlsx(tmp_path / "名录.xlsx"), ENTERPRISE_FIELDS)
    assert old.kind == "xls" and new.kind == "xlsx"
    assert (old.sheet, old.header_row, old.headers, old.row_numbers, old.blank_rows) == (
        new.sheet, new.header_row, new.headers, new.row_numbers, new.blank_rows)
    assert [_typed([c]) for c in old.columns] == [_typed([c]) for c in new.columns]
    with pytest.raises(ReadError, match="名录.xls 中没有工作表“名录”。已有：名单、第二页"):
        read_table(path, ENTERPRISE_FIELDS, sheet="名录")


@pytest.mark.parametrize("name, content", [
    ("fake.xlsx", b"not a zip"),
    ("encrypted.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),  # an encrypted workbook is an OLE file
    ("broken.xls", b"\xd0\xcf\x11\xe0"),
    ("empty.xlsm", b""),
])
def test_broken_files_say_what_to_do(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadError, match=rf"{name} 无法作为 Excel 文件打开（\w+）。请在 Excel/WPS 中另存为 .xlsx 后重试"):
        read_table(path, ENTERPRISE_FIELDS)

"""Reading users' files: encodings, title rows, merged header cells, header mapping, mapping files."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chainatlas.ingest.mapping import ENTERPRISE_FIELDS, MappingError, load_mapping_file, map_headers
from chainatlas.ingest.reader import ReadError, detect_encoding, read_table
from chainatlas.ingest.records import parse_table
from ingest_files import DONGFENG, HUACHUANG, gbk_csv, merged_header_xlsx


def test_gbk_csv_with_title_row_and_blank_rows(tmp_path: Path) -> None:
    table = read_table(gbk_csv(tmp_path / "名单.csv"), ENTERPRISE_FIELDS)
    assert table.encoding == "gb18030"
    assert table.header_row == 2
    assert table.headers[:3] == ["企业名称", "统一社会信用代码", "注册地址"]
    assert table.blank_rows == 2
    assert table.row_numbers == [3, 5, 6, 7, 8, 9, 10, 11, 13]
    assert table.columns[0][0] == "武汉华创智能科技有限公司"


def test_utf8_bom_and_tsv(tmp_path: Path) -> None:
    path = tmp_path / "list.tsv"
    path.write_bytes("\ufeff公司名称\t信用代码\t地址\n甲公司\t\t武汉市\n".encode("utf-8"))
    table = read_table(path, ENTERPRISE_FIELDS)
    assert table.encoding == "utf-8-sig" and table.kind == "tsv"
    assert table.headers == ["公司名称", "信用代码", "地址"]
    assert [f.field for f in map_headers(table.headers, ENTERPRISE_FIELDS).columns] == ["name", "uscc", "address"]


def test_detect_encoding() -> None:
    text = "企业名称,地址\n华创,武汉"
    assert detect_encoding(text.encode("utf-8")) == "utf-8"
    assert detect_encoding(text.encode("gbk")) == "gb18030"
    assert detect_encoding("\ufeff".encode() + text.encode()) == "utf-8-sig"
    assert detect_encoding("企业名称,地址\n𠀀公司,武汉".encode("gb18030")) == "gb18030"


def test_xlsx_title_row_and_merged_two_level_header(tmp_path: Path) -> None:
    table = read_table(merged_header_xlsx(tmp_path / "名录.xlsx"), ENTERPRISE_FIELDS)
    assert table.sheet == "名单" and table.header_row == 3
    # vertically merged cells fill down; the group's unit "(万元)" passes to the columns under it
    assert table.headers == ["企业名称", "统一社会信用代码", "注册地址", "成立日期", "注册资本(万元)", "营业收入(万元)"]
    assert table.row_numbers == [4, 6] and table.blank_rows == 1
    mapping = map_headers(table.headers, ENTERPRISE_FIELDS)
    parsed = parse_table(table, mapping, "名录.xlsx")
    assert parsed.problems == {}
    assert parsed.values["uscc"] == [HUACHUANG, DONGFENG]
    assert parsed.values["founded_on"] == [date(2019, 1, 2), date(2010, 5, 1)]  # a date cell and a serial
    assert [m.amount for m in parsed.values["registered_capital"]] == [10_000_000, 5_000_000]
    assert [m.currency for m in parsed.values["registered_capital"]] == ["CNY", "USD"]
    assert parsed.values["revenue_yuan"] == [35_000_000, None]


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "bulk.parquet"
    pq.write_table(pa.table({"企业名称": ["甲公司", "乙公司"], "成立日期": [date(2019, 1, 2), None]}), path)
    table = read_table(path, ENTERPRISE_FIELDS)
    assert table.headers == ["企业名称", "成立日期"] and table.row_numbers == [2, 3]
    assert table.columns[1][0] == date(2019, 1, 2)


def test_header_mapping_knows_many_names_and_units() -> None:
    headers = ["序号", "公司全称", "社会信用代码", "住所", "注册资金（万元）", "成立时间", "从业人员", "主要产品",
               "行业代码", "企业性质", "证券代码", "年产值(亿元)", "办公地址", "数据来源"]
    cols = map_headers(headers, ENTERPRISE_FIELDS).columns
    assert [c.field for c in cols] == [None, "name", "uscc", "address", "registered_capital", "founded_on",
                                       "employees", "products", "industry_code", "ownership", "listing_code",
                                       "output_yuan", None, "source_note"]
    assert cols[4].multiplier == 10_000 and cols[11].multiplier == 100_000_000


def test_mapping_file_overrides_the_guess(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("columns:\n  简称: name\n  reg_capital: {field: registered_capital, unit: 万元}\n  名称: null\n",
                    encoding="utf-8")
    override = load_mapping_file(path)
    cols = map_headers(["名称", "简称", "reg_capital"], ENTERPRISE_FIELDS, override).columns
    assert [(c.field, c.how) for c in cols] == [(None, "ignored"), ("name", "override"), ("registered_capital", "override")]
    assert cols[2].multiplier == 10_000
    bad = tmp_path / "bad.json"
    bad.write_text('{"columns": {"名称": "company"}}', encoding="utf-8")
    with pytest.raises(MappingError, match="字段“company”不存在"):
        map_headers(["名称"], ENTERPRISE_FIELDS, load_mapping_file(bad))


def test_unreadable_files_say_what_to_do(tmp_path: Path) -> None:
    old = tmp_path / "旧格式.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ReadError, match="另存为 .xlsx"):
        read_table(old, ENTERPRISE_FIELDS)
    with pytest.raises(ReadError, match="找不到文件"):
        read_table(tmp_path / "missing.csv", ENTERPRISE_FIELDS)
    no_header = tmp_path / "numbers.csv"
    no_header.write_text("1,2,3\n4,5,6\n", encoding="utf-8")
    with pytest.raises(ReadError, match="找不到表头"):
        read_table(no_header, ENTERPRISE_FIELDS)
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip", encoding="utf-8")
    with pytest.raises(ReadError, match="无法作为 Excel 文件打开"):
        read_table(fake, ENTERPRISE_FIELDS)


def test_excel_datetime_cells_are_read_as_dates(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["企业名称", "成立日期"])
    wb.active.append(["甲公司", datetime(2021, 7, 1, 0, 0)])
    wb.save(tmp_path / "d.xlsx")
    table = read_table(tmp_path / "d.xlsx", ENTERPRISE_FIELDS)
    parsed = parse_table(table, map_headers(table.headers, ENTERPRISE_FIELDS), "d.xlsx")
    assert parsed.values["founded_on"] == [date(2021, 7, 1)]

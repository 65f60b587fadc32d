"""The bulk path (polars reading, whole-column parsing) gives exactly what the per-value path gives on messy input:
same cells, row numbers, blank rows, values (and their types) and the same problems in the same order."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import polars as pl
import pytest

from chainatlas.ingest import columnar
from chainatlas.ingest.mapping import ENTERPRISE_FIELDS, RELATION_FIELDS, ColumnMap, map_headers
from chainatlas.ingest.reader import Table, _read_csv_module, _read_csv_polars
from chainatlas.ingest.records import _parse_cells, parse_column, parse_table, parser_for
from ingest_files import gbk_csv, uscc

_rng = random.Random(3)
_GOOD = [uscc(f"91420113MA4K8A1B{i}") for i in range(10)]


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


_BLANKS = ["", " ", "\t", "\u3000", "-", "--", "—", "/", "无", "暂无", "NaN", "None", "NULL", "n/a", "N/A", "nan "]
_USCCS = _GOOD + [g.lower() for g in _GOOD[:3]] + [_full_width(g) for g in _GOOD[:3]] + [
    _GOOD[0][:9] + " " + _GOOD[0][9:], " " + _GOOD[1] + "\t", _GOOD[2] + "\u3000", "\xa0" + _GOOD[3], _GOOD[4][:17],
    _GOOD[5] + "1", _GOOD[6][:17] + ("0" if _GOOD[6][17] != "0" else "1"), "9142011IMA4K8A1B2X", "123", "9.14201E+17",
    _GOOD[7][:5] + "-" + _GOOD[7][5:], _GOOD[8].replace("A", "a"), _GOOD[9][:17] + "Ⅹ"]
_DATES = ["2019-01-02", "2019/1/2", "2019年1月2日", "2019 年 1 月 2 日", "2019.1.2", "20190102", "43467", "43467.5",
          "2019-01-02 00:00:00", "2019-01-02T08:30", "２０１９－０１－０２", "2019-02-30", "1700-01-01", "2101-01-01",
          "2019年3月", "2019-03", "明年", "0", "99999", "123456789", "2019-13-01", "2019年1月2号", "٢٠١٩-٠١-٠٢",
          "2020年2月29日", "2019年2月29日", " 2019/01/02 "]
_MONEY = ["1000万人民币", "500万美元", "1.2亿元", "1,000.5 万元", "100万元人民币", "（约）2亿", "300万港元", "５００万元",
          "3500000", "abc", "-5万", "1万吨", "1000", "1000.5", "0", "约100万", "$100", "100万欧元", "1e5", ".5万", "１０００",
          "RMB100万", "￥100万", "100万元(人民币)", "12345678901234567890"]
_COUNTS = ["320", "1.2万人", "500-999人", "约300名", "300以上", "1.2.3", "abc", "0.4万人", "1,234", "３００", "100~200",
           "3千", "-5", "5e3", "12.5", "大约50人", "20余", "."]
_AMOUNTS = ["3.5亿", "8000万元", "1200", "abc", "55.2亿元", "-1", "100万美元", "12,345.67"]
_KINDS = {  # field: (kind, cells)
    "name": ("text", ["武汉华创智能科技有限公司", " 东风智联有限公司 ", "ＡＢＣ精密机械（武汉）有限公司", "长" * 201, "长" * 200,
                      " " + "长" * 200 + " ", "\x85华创", "\u200b华创", "华创\u2003", "华\u3000创", "华\xa0创", "\u2028华创"]),
    "address": ("text", ["湖北省武汉市汉南区纱帽街道通航大道18号", "地" * 600, "武汉市 汉南区", "\t武汉市"]),
    "uscc": ("uscc", _USCCS),
    "founded_on": ("date", _DATES),
    "registered_capital": ("money", _MONEY),
    "employees": ("count", _COUNTS),
    "revenue_yuan": ("amount", _AMOUNTS),
    "products": ("list", ["动力电池、储能电池;BMS", "a||b", "电池、电池", " x ; y "]),
    "designations": ("designations", ["国家级专精特新小巨人(2023)；高新技术企业", "小巨人", "高企、科小", "省级瞪羚企业2022", "X"]),
    "foreign_invested": ("bool", ["是", "否", "Y", "yes", "TRUE", "1", "0", "√", "×", "有", "maybe"]),
    "listing_code": ("text", ["000538", "538", "sz000538", "600519.SH", "６００５１９", "A 1", "1"]),
    "industry_code": ("text", ["3670", "C3670", "c3670", "36", "367012", "汽车制造业", " 3670 ", "Ｃ３６７０"]),
    "website": ("text", ["ｗｗｗ.example.com", "www.x.cn", "HTTP://A.B"]),
    "ownership": ("text", ["有限责任公司", "股份有限公司（上市）", " 外商独资 "]),
}


def _cells(pool: list[str], n: int = 1500, distinct: bool = False) -> list[str]:
    """n cells, half of them blank-ish; distinct: most cells differ (as names do), so the column is cleaned as a
    column rather than value by value."""
    cells = [_rng.choice(pool + _BLANKS) if _rng.random() < 0.5 else _rng.choice(pool) for _ in range(n)]
    return [f"{c}{i}" if distinct and c in pool and _rng.random() < 0.9 else c for i, c in enumerate(cells)]


def _typed(values: list) -> list:
    return [(type(v).__name__, v) for v in values]


@pytest.mark.parametrize("field_id", sorted(_KINDS))
@pytest.mark.parametrize("multiplier,currency", [(1, None), (10_000, None), (10_000, "USD")])
def test_columnar_parsing_equals_the_per_value_parsers(field_id: str, multiplier: int, currency: str | None) -> None:
    kind, pool = _KINDS[field_id]
    cells = _cells(pool, distinct=field_id in ("name", "address"))
    col = ColumnMap(0, "列", field_id, "auto", multiplier, currency)
    assert columnar.series_of(columnar.LazyColumn(pl.Series(cells))) is not None  # the columnar path runs
    fast_values, fast_rejected = parse_column(columnar.LazyColumn(pl.Series(cells, dtype=pl.String)), col, kind)
    slow_values, slow_rejected = _parse_cells(cells, parser_for(col, kind))
    assert _typed(fast_values) == _typed(slow_values)
    assert [(i, v, e.message, e.action) for i, v, e in fast_rejected] == \
        [(i, v, e.message, e.action) for i, v, e in slow_rejected]


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig", newline: str = "\r\n",
               quoting: int = csv.QUOTE_MINIMAL, delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline, quoting=quoting, delimiter=delimiter).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


_HEADER = ["企业名称", "统一社会信用代码", "注册资本", "成立日期", "员工人数", "营业收入(万元)", "主营产品", "企业资质", "网址"]


def _messy_rows(n: int) -> list[list[str]]:
    pools = [_KINDS["name"][1], _USCCS, _MONEY, _DATES, _COUNTS, _AMOUNTS, _KINDS["products"][1],
             _KINDS["designations"][1], _KINDS["website"][1]]
    rows = [["2024年重点企业名单", "", ""], ["", ""], _HEADER]
    for _ in range(n):
        rows.append([_cells(pool, 1, distinct=pool is pools[0])[0] for pool in pools])
        if _rng.random() < 0.03:
            rows.append(_rng.choice([[""] * len(_HEADER), ["-", "-"], [" ", "\t"], ["只有名称有限公司"]]))
    return rows


def _both(path: Path, fields: tuple = ENTERPRISE_FIELDS) -> tuple[Table | None, Table]:
    raw = path.read_bytes()
    return _read_csv_polars(path, raw, fields, None), _read_csv_module(path, raw, fields, None)


def _same_table(fast: Table, slow: Table) -> None:
    assert (fast.kind, fast.encoding, fast.header_row, fast.headers, fast.row_numbers, fast.blank_rows) == \
        (slow.kind, slow.encoding, slow.header_row, slow.headers, slow.row_numbers, slow.blank_rows)
    assert [list(c) for c in fast.columns] == [list(c) for c in slow.columns]


def _same_parse(fast: Table, slow: Table, fields: tuple = ENTERPRISE_FIELDS, required: tuple = ("name",)) -> None:
    mapping = map_headers(slow.headers, fields)
    a, b = parse_table(fast, mapping, "f.csv", required), parse_table(slow, mapping, "f.csv", required)
    assert {k: _typed(v) for k, v in a.values.items()} == {k: _typed(v) for k, v in b.values.items()}
    assert [(i, [p.as_dict() for p in ps]) for i, ps in a.problems.items()] == \
        [(i, [p.as_dict() for p in ps]) for i, ps in b.problems.items()]
    assert b.problems  # the file is messy enough to have some


@pytest.mark.parametrize("variant", ["utf8-bom-crlf", "utf8-lf-quoted", "gb18030", "tsv"])
def test_polars_reading_equals_the_csv_module(tmp_path: Path, variant: str) -> None:
    rows = _messy_rows(1500)
    path = tmp_path / ("f.tsv" if variant == "tsv" else "f.csv")
    if variant == "utf8-bom-crlf":
        _write_csv(path, rows)
    elif variant == "utf8-lf-quoted":
        _write_csv(path, rows, encoding="utf-8", newline="\n", quoting=csv.QUOTE_ALL)
    elif variant == "gb18030":
        _write_csv(path, rows, encoding="gb18030")
    else:
        _write_csv(path, [[c.replace("\t", " ") for c in row] for row in rows], delimiter="\t")
    fast, slow = _both(path)
    assert fast is not None and isinstance(fast.columns[0], columnar.LazyColumn)
    _same_table(fast, slow)
    _same_parse(fast, slow)


def test_polars_reads_the_messy_gbk_file_as_the_csv_module_does(tmp_path: Path) -> None:
    fast, slow = _both(gbk_csv(tmp_path / "名单.csv"))
    assert fast is not None
    _same_table(fast, slow)
    _same_parse(fast, slow)


@pytest.mark.parametrize("text", [
    "企业名称,统一社会信用代码\n\"多行\n名称\",x\n乙公司,\n",  # a line break inside quotes
    "企业名称,统一社会信用代码\n\"甲\"公司,x\n",  # text after a closing quote
    "企业名称,统一社会信用代码\n甲公\"司,x\n",  # a quote inside an unquoted cell
    "企业名称,统一社会信用代码\r甲公司,x\r",  # bare CR line ends
    "企业名称,统一社会信用代码\n甲公司,x,,y\n",  # a row wider than the header
])
def test_files_polars_might_split_differently_go_to_the_csv_module(tmp_path: Path, text: str) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(text, encoding="utf-8")
    fast, slow = _both(path)
    assert fast is None and len(slow) >= 1


@pytest.mark.parametrize("text", [
    "企业名称,统一社会信用代码",  # only the header, no line break
    "名单\n企业名称,统一社会信用代码\r\n",  # a title row, then the header, no data
    "企业名称,信用代码,地址\n甲\n乙,x,y\n丙,,\n",  # a first row shorter than the header
    "企业名称,信用代码\n   \n甲,x\n,\n",  # rows of blanks
    '"企业\n名称",统一社会信用代码\n甲,x\n乙,"y,z"\n',  # a header cell with a line break, a quoted comma
    "企业名称;信用代码;地址\n甲;x;武汉\n乙;;",  # semicolons, no final line break
])
def test_small_shapes_are_read_alike(tmp_path: Path, text: str) -> None:
    path = tmp_path / "small.csv"
    path.write_text(text, encoding="utf-8")
    fast, slow = _both(path)
    assert fast is not None
    _same_table(fast, slow)


def test_empty_lines_and_short_rows_are_read_alike(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("企业名称,统一社会信用代码,注册资本\n甲公司,,1\n\n乙公司\n , ,\t\n\r\n丙公司,,2", encoding="utf-8")
    fast, slow = _both(path)
    if fast is not None:  # polars keeps empty lines as rows here; if a version skips them the csv module reads it
        _same_table(fast, slow)
    assert slow.row_numbers == [2, 4, 7] and slow.blank_rows == 3


def test_relations_file(tmp_path: Path) -> None:
    head = ["供应商", "供应商统一社会信用代码", "客户", "年份", "金额(万元)"]
    rows = [head] + [[_rng.choice(_KINDS["name"][1] + _BLANKS), _rng.choice(_USCCS + _BLANKS), "岚图汽车科技有限公司",
                      _rng.choice(_COUNTS + ["2023", "2022年"]), _rng.choice(_AMOUNTS + _BLANKS)] for _ in range(800)]
    fast, slow = _both(_write_csv(tmp_path / "rel.csv", rows), RELATION_FIELDS)
    assert fast is not None
    _same_table(fast, slow)
    _same_parse(fast, slow, RELATION_FIELDS, ())


def test_clean_column_equals_clean_on_every_cell() -> None:
    """`clean_column` leaves a cell as it is only where `clean` would: nulls, NULs, ideographic and no-break spaces,
    whitespace of every kind at either end and blank words in any case are cleaned; the rest is untouched."""
    rng = random.Random(3)
    pieces = ["动力电池", "BMS", " ", "\u3000", "\xa0", "\x00", "\t", "\x1c", "\u2029", "无", "N/A", "nan", "—", "、", "x"]
    cells = [None, "", " ", "无", "NULL", "#N/A", " 无 ", "动力电池", "\u3000动力电池", "动力电池\xa0", "电\x00池", "\x1c"]
    cells += ["".join(rng.choices(pieces, k=rng.randint(0, 6))) for _ in range(5_000)]
    column = pl.Series("c", cells, dtype=pl.String)
    expected = column.to_frame().select(columnar.clean(pl.col("c"))).to_series()
    assert columnar.clean_column(column).to_list() == expected.to_list()
    assert sum(a != b for a, b in zip(cells, expected.to_list())) > 1_000  # many cells do change
    tidy = pl.Series("c", ["动力电池", "电机 电控", "BMS"])
    assert columnar.clean_column(tidy) is tidy  # a column with nothing to clean is not copied

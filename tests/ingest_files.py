"""Messy files as users have them, built in tmp_path for the ingest and import tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from chainatlas.domain.uscc import check_digit


def uscc(body17: str) -> str:
    """A code with a correct check digit from 17 characters (GB 32100 alphabet)."""
    return body17 + check_digit(body17)


HUACHUANG = uscc("91420113MA4K8A1B2")  # 汉南区 (in 武汉经开区)
DONGFENG = uscc("91420114MA4L5C6D7")  # 蔡甸区
SHENZHEN = uscc("91440300MA5F9E8G7")
BAD_CHECK = HUACHUANG[:17] + ("0" if HUACHUANG[17] != "0" else "1")


def gbk_csv(path: Path) -> Path:
    """A GBK CSV with a title row, blank rows, a repeated firm, a full-width spelling, a typo and bad cells.

    File rows (as Excel shows them): 1 title, 2 header, 3.. data.
    """
    rows = [
        "2024年武汉经开区重点企业名单（内部资料）,,,,,,,",
        "企业名称,统一社会信用代码,注册地址,注册资本,成立日期,员工人数,主营产品,营业收入(万元)",
        f"武汉华创智能科技有限公司,{HUACHUANG},武汉市汉南区纱帽街道通航大道18号,1000万人民币,2019/1/2,1.2万人,动力电池、BMS,3500",  # 3
        ",,,,,,,",  # 4 blank
        f"东风智联汽车零部件有限公司,{DONGFENG},湖北省武汉市蔡甸区沌口街道东风大道10号,500万美元,2010年5月1日,800,底盘;线束,",  # 5
        f"武汉华创智能科技有限公司,{HUACHUANG},,,43467,,热管理,",  # 6 same USCC again: merged, blanks filled
        f"深圳鹏程电子有限公司,{SHENZHEN},广东省深圳市南山区科技园南区1号,1.2亿元,2015-06-30,300,传感器,",  # 7
        "ＡＢＣ精密机械（武汉）有限公司,,武汉经济技术开发区车城大道88号,200万元,2020-03-15,50,齿轮,",  # 8 full width
        "ABC精密机械(武汉)有限公司,,,,,,,",  # 9 the same name in half width: merged
        f"坏代码有限公司,{BAD_CHECK},上海市浦东新区,abc,2019-02-30,,,",  # 10 three problems: held
        "深圳鹏城电子有限公司,,广东省深圳市南山区科技园南区1号,,2015-06-30,,,",  # 11 typo of row 7: linked
        ",,,,,,,",  # 12 blank
        ",91420100MA4K8A1B,武汉市,,,,,",  # 13 no name, short USCC: held
    ]
    path.write_bytes("\r\n".join(rows).encode("gbk"))
    return path


def merged_header_xlsx(path: Path) -> Path:
    """An XLSX with a merged title row and a two-level header with merged cells; dates as date cells and serials."""
    wb = Workbook()
    ws = wb.active
    ws.title = "名单"
    ws["A1"] = "经开区新能源汽车产业链企业名录"
    ws.merge_cells("A1:F1")
    ws["A2"], ws["B2"], ws["C2"], ws["E2"] = "企业名称", "统一社会信用代码", "基本信息", "财务数据(万元)"
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    ws.merge_cells("C2:D2")
    ws.merge_cells("E2:F2")
    ws["C3"], ws["D3"], ws["E3"], ws["F3"] = "注册地址", "成立日期", "注册资本", "营业收入"
    ws.append(["武汉华创智能科技有限公司", HUACHUANG, "武汉市汉南区纱帽街道通航大道18号", datetime(2019, 1, 2), 1000, 3500])
    ws.append([None, None, None, None, None, None])
    ws.append(["东风智联汽车零部件有限公司", DONGFENG, "武汉市蔡甸区沌口街道东风大道10号", 40299, "500万美元", None])
    wb.save(path)
    return path

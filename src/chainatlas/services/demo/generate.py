"""Large, realistic, clearly marked demo enterprise lists for benchmarks and import tests.

The files look like what bureaus receive: Chinese headers, names with place prefixes and legal suffixes,
valid USCCs, addresses across China, business scopes and products from the chain's vocabulary and from
off-chain industries — and the usual noise: repeated firms, typos, full-width characters, missing cells,
a few wrong check digits. Every row says it is generated (数据来源 = 演示数据（程序生成）).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from chainatlas.domain.chain import load_chain
from chainatlas.domain.uscc import ALPHABET, check_digit
from chainatlas.ingest.address import divisions
from chainatlas.services.demo.files import DEMO_CHAIN

GENERATED_SOURCE = "演示数据（程序生成）"
HEADERS = ("企业名称", "统一社会信用代码", "注册地址", "注册资本", "成立日期", "企业类型", "所属行业", "行业代码",
           "经营范围", "主营产品", "员工人数", "营业收入", "经营状态", "数据来源")
_BRAND_CHARS = ("华创恒泰瑞信达通宏远鑫盛嘉禾中天博凯新源德润安诚正弘锐驰智联航宇星辰明亿兴隆丰泽万联金力鼎"
                "科海峰东方晨光启元同益聚能卓越汇川融汇银河长江楚天云帆腾飞致远铭扬泓昇睿晟")
_INDUSTRY_WORDS_CHAIN = ("新能源科技", "汽车零部件", "电子科技", "智能科技", "动力科技", "精密机械", "汽车电子", "材料科技",
                         "智能装备", "电池科技", "汽车科技", "半导体")
_OFF_CHAIN = {
    "食品加工": ("农副食品加工", "1310", ("大米", "食用油", "调味品", "速冻食品")),
    "服装": ("纺织服装、服饰业", "1810", ("男装", "女装", "工作服", "针织品")),
    "家具": ("家具制造业", "2110", ("办公家具", "实木家具", "床垫")),
    "餐饮管理": ("餐饮业", "6210", ("餐饮服务", "团餐配送")),
    "软件开发": ("软件开发", "6511", ("管理软件", "小程序开发", "信息系统集成")),
    "物流": ("道路货物运输", "5430", ("仓储服务", "城配物流", "冷链运输")),
    "建筑工程": ("房屋建筑业", "4710", ("房屋建筑", "装饰装修", "市政工程")),
    "医药": ("医药制造业", "2720", ("中成药", "医疗器械", "保健品")),
    "化工": ("化学原料和化学制品制造业", "2619", ("涂料", "胶粘剂", "塑料助剂")),
    "商贸": ("批发业", "5179", ("日用百货", "五金交电", "办公用品")),
}
_CHAIN_INDUSTRY = {"3612": "新能源车整车制造", "3841": "锂离子电池制造", "3670": "汽车零部件及配件制造",
                   "3976": "半导体分立器件制造", "6513": "应用软件开发"}
_ROADS = ("人民路", "解放大道", "建设路", "科技大道", "创新路", "工业大道", "发展大道", "长江路", "黄河路", "新华路",
          "车城大道", "东风大道", "高新大道", "光谷大道", "经开大道")
_OWNERSHIP = (("有限责任公司（自然人投资或控股）", 50), ("有限责任公司（法人独资）", 15), ("股份有限公司", 8),
              ("有限责任公司（外商投资企业法人独资）", 4), ("有限责任公司（中外合资）", 3), ("国有企业", 3),
              ("有限责任公司（台港澳与境内合资）", 2), ("私营企业", 15))
_SUFFIXES = (("有限公司", 70), ("有限责任公司", 15), ("股份有限公司", 10), ("集团有限公司", 5))
_SIMILAR = {"创": "刨", "泰": "秦", "达": "汰", "通": "涌", "远": "沅", "盛": "晟", "天": "夭", "博": "搏", "新": "欣",
            "源": "原", "德": "得", "安": "案", "诚": "成", "智": "志", "联": "连", "航": "杭", "星": "兴", "明": "铭"}


@dataclass
class GenerateSummary:
    path: Path
    rows: int
    firms: int
    duplicates: int  # rows that repeat a firm (exactly or with noise)
    bad_uscc: int


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text).replace("(", "（").replace(")", "）")


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def generate_enterprises(n: int, seed: int, out: Path, fmt: str = "csv") -> GenerateSummary:
    """Write n rows (firms plus about 5% repeated rows) to out as csv (UTF-8 with BOM), parquet or xlsx."""
    rng = random.Random(seed)
    chain = load_chain(DEMO_CHAIN)
    nodes = [node for node in chain.nodes.values() if any(not k.isascii() for k in node.keywords)]
    table = divisions()
    counties = [d for d in table.by_code.values() if d.level == "county"]
    wuhan = [d for d in counties if d.code in ("420113", "420114")]
    rows: list[list[str]] = []
    names: set[str] = set()
    codes: set[str] = set()
    duplicates = bad = 0
    firms = 0
    while len(rows) < n:
        if rows and rng.random() < 0.05:
            rows.append(_noisy_copy(rng, rng.choice(rows)))
            duplicates += 1
            continue
        county = rng.choice(wuhan) if rng.random() < 0.08 else rng.choice(counties)
        province = table.name(county.code[:2])
        city = table.name(county.code[:4]) if county.code[:2] not in ("11", "12", "31", "50") else ""
        on_chain = rng.random() < 0.35
        if on_chain:
            node = rng.choice(nodes)
            words = [k for k in node.keywords if not k.isascii()] or [node.name_zh]
            products = rng.sample(words, k=min(len(words), rng.randint(1, 3)))
            industry_code = node.gbt4754[0] if node.gbt4754 else "3670"
            industry = _CHAIN_INDUSTRY.get(industry_code, "")
            trade = rng.choice(_INDUSTRY_WORDS_CHAIN)
        else:
            trade = rng.choice(list(_OFF_CHAIN))
            industry, industry_code, product_words = _OFF_CHAIN[trade]
            products = rng.sample(product_words, k=rng.randint(1, 2))
        place = (city or province).removesuffix("市").removesuffix("省")
        for _ in range(20):
            brand = "".join(rng.sample(_BRAND_CHARS, rng.choice((2, 2, 3))))
            suffix = _weighted(rng, _SUFFIXES)
            style = rng.random()
            if style < 0.45:
                name = f"{place}{brand}{trade}{suffix}"
            elif style < 0.6:
                name = f"{brand}{trade}（{place}）{suffix}"
            elif style < 0.7:
                name = f"{province}{brand}{trade}{suffix}"
            else:
                name = f"{brand}{trade}{suffix}"
            if rng.random() < 0.01:
                name += f"{place}分公司"
            if name not in names:
                break
        names.add(name)
        while True:
            body = "91" + county.code + "".join(rng.choice(ALPHABET) for _ in range(9))
            code = body + check_digit(body)
            if code not in codes:
                break
        codes.add(code)
        if rng.random() < 0.005:  # a wrong check digit, as typed by hand
            code = code[:17] + ALPHABET[(ALPHABET.index(code[17]) + 1) % len(ALPHABET)]
            bad += 1
        elif rng.random() < 0.03:
            code = ""
        address = f"{province}{city}{county.name}{rng.choice(_ROADS)}{rng.randint(1, 999)}号"
        if county in wuhan and rng.random() < 0.5:
            address = f"湖北省武汉市武汉经济技术开发区{rng.choice(('沌口街道', '军山街道', '沌阳街道'))}{rng.choice(_ROADS)}{rng.randint(1, 999)}号"
        if rng.random() < 0.02:
            address = ""
        capital = rng.choice((50, 100, 200, 500, 1000, 2000, 3000, 5000, 10000, 20000, 50000))
        capital_text = rng.choice((f"{capital}万人民币", f"{capital}万元", f"{capital * 10000}",
                                   f"{capital / 10000:g}亿元" if capital >= 10000 else f"{capital}万元人民币"))
        if rng.random() < 0.03:
            capital_text = f"{max(capital // 7, 10)}万美元"
        y, m, d = rng.randint(1990, 2023), rng.randint(1, 12), rng.randint(1, 28)
        founded = rng.choice((f"{y}-{m:02d}-{d:02d}", f"{y}/{m}/{d}", f"{y}年{m}月{d}日"))
        employees = rng.randint(5, 5000)
        staff = f"{employees / 10000:.1f}万人" if employees > 2000 and rng.random() < 0.3 else str(employees)
        revenue = "" if rng.random() < 0.4 else rng.choice((f"{rng.randint(1, 900) / 10:g}亿元", f"{rng.randint(100, 9999)}万元"))
        scope = f"{'、'.join(products)}的研发、生产、销售；技术咨询、技术服务；货物进出口。"
        rows.append([name, code, address, capital_text, founded, _weighted(rng, _OWNERSHIP), industry, industry_code,
                     scope, "、".join(products), staff, revenue, rng.choice(("存续", "在业", "存续", "存续", "迁出")),
                     GENERATED_SOURCE])
        firms += 1
    out = Path(out)
    _write(rows, out, fmt)
    return GenerateSummary(out, len(rows), firms, duplicates, bad)


def _noisy_copy(rng: random.Random, row: list[str]) -> list[str]:
    """The same firm again, as a second source would list it."""
    copy = list(row)
    kind = rng.random()
    if kind < 0.3:
        return copy  # an exact repeat
    if kind < 0.5:
        copy[0] = _fullwidth(copy[0])
    elif kind < 0.7:
        chars = list(copy[0])
        spots = [i for i, c in enumerate(chars) if c in _SIMILAR]
        if spots:
            i = rng.choice(spots)
            chars[i] = _SIMILAR[chars[i]]
            copy[0] = "".join(chars)
        copy[1] = ""  # a typo'd name usually comes from a list without codes
    else:
        copy[0] = copy[0].replace("有限责任公司", "有限公司") if "有限责任公司" in copy[0] else " " + copy[0] + " "
    for j in (2, 3, 10, 11):
        if rng.random() < 0.3:
            copy[j] = ""
    return copy


def _write(rows: list[list[str]], out: Path, fmt: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADERS)
            writer.writerows(rows)
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = list(zip(*rows)) if rows else [[] for _ in HEADERS]
        pq.write_table(pa.table({h: pa.array(list(c), pa.string()) for h, c in zip(HEADERS, columns)}), out)
    elif fmt == "xlsx":
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(out), {"constant_memory": True})
        ws = wb.add_worksheet("企业名单")
        ws.write_row(0, 0, HEADERS)
        for r, row in enumerate(rows, start=1):
            ws.write_row(r, 0, row)
        wb.close()
    else:
        raise ValueError(f"不支持的格式“{fmt}”：请用 csv、parquet 或 xlsx")

"""A registry file where almost every record is different, drawn from real vocabulary: the input of
`bench/classify_diverse.py` (issue 20: the speed goal must hold on text that does not repeat).

Every firm is generated — its name, code and combination of products are made up here — but every word comes
from the real public data in ../shared/data (SOURCES.md):
- products with revenue shares: lines of `industry_chain/ckg_company_product.csv` (A-share firms' main products
  and their shares, the 0.001 placeholders included), drawn within one 申万 industry so a list hangs together;
- business scope (经营范围) in the registry's wording: GB/T 4754-2017 class names of the firm's industry and
  its neighbours, items named in the standard's explanatory notes, items made of the firm's products, common
  service items; "一般项目：…；许可项目：…" (post-2021) or the older "…的研发、生产、销售；…" style;
- industry: the GB/T class name, or the Tushare industry (tushare_a_share_basic_2024.csv) of listed firms of the
  same 申万 industry, with a GB/T code as registries write it (C3670, 3670) or none;
- names: real county and city names (admin_divisions/modood_*.csv) + a made-up brand + a trade word + a legal
  form, redrawn where it is a listed firm's name, so no fact is attached to a real company.

A third of the firms come from 申万 industries of the NEV/ICV chain (the zone's registry is where a bureau looks
for chain firms), the rest from all industries as often as listed firms are in them.
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from chainatlas.domain.uscc import ALPHABET, check_digit

HEADERS = ("企业名称", "统一社会信用代码", "注册地址", "所属行业", "行业代码", "经营范围", "主营产品")
# 申万 level-3 industries whose firms make things for the NEV / ICV chain (or sit next to it: near-misses such as
# consumer electronics, PV inverters and appliance motors come with them, as in a real registry).
CHAIN_SW = ("底盘与发动机系统", "其他汽车零部件", "汽车电子电气系统", "车身附件及饰件", "轮胎轮毂", "电动乘用车",
            "综合乘用车", "商用载客车", "商用载货车", "锂电池", "蓄电池及其他电池", "电池化学品", "锂", "钴", "稀土",
            "磁性材料", "电机Ⅲ", "燃料电池", "锂电专用设备", "印制电路板", "被动元件", "分立器件", "模拟芯片设计",
            "数字芯片设计", "集成电路制造", "集成电路封测", "半导体材料", "膜材料", "线缆部件及其他", "逆变器",
            "消费电子零部件及组装", "通信终端及配件", "垂直应用软件", "机器人", "汽车综合服务", "配电设备")
CHAIN_SHARE = 1 / 3
BRAND = ("华创恒泰瑞信达通宏远鑫盛嘉禾中天博凯新源德润安诚正弘锐驰智联航宇星辰明亿兴隆丰泽万金力鼎科海峰东方晨光"
         "启元同益聚能卓越汇川融银河长江楚云帆腾飞致铭扬泓昇睿晟骏翔宸旭煜澜沐曜拓弈岚")
TRADES = ("科技", "实业", "新材料", "智能科技", "电子", "机电", "工业", "技术", "制造", "新能源", "精密", "动力")
FORMS = (("有限公司", 60), ("有限责任公司", 12), ("股份有限公司", 10), ("科技有限公司", 10), ("集团有限公司", 4),
         ("有限公司分公司", 4))
VERBS = ("制造", "销售", "研发", "生产", "批发", "零售", "技术开发", "加工", "维修", "安装")
SERVICE_ITEMS = (
    "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广", "货物进出口", "技术进出口", "进出口代理", "机械设备销售",
    "五金产品批发", "软件开发", "信息咨询服务（不含许可类信息咨询服务）", "非居住房地产租赁", "企业管理咨询",
    "普通货物仓储服务（不含危险化学品等需许可审批的项目）", "工程和技术研究和试验发展", "新材料技术研发", "国内贸易代理",
    "销售代理", "电子元器件制造", "电子产品销售", "金属材料销售", "塑料制品销售", "专用设备修理", "通用设备修理",
    "机械零件、零部件加工", "信息系统集成服务", "人工智能应用软件开发", "环保咨询服务", "会议及展览服务",
    "租赁服务（不含许可类租赁服务）", "供应链管理服务", "新兴能源技术研发", "特种设备销售", "仪器仪表销售",
)
LICENSED_ITEMS = (
    "道路货物运输（不含危险货物）", "危险化学品经营", "建设工程施工", "检验检测服务", "第二类增值电信业务",
    "特种设备安装改造修理", "食品销售", "危险废物经营", "电线、电缆制造", "燃气经营", "药品生产", "第二类医疗器械生产",
    "民用航空器零部件设计和生产", "输电、供电、受电电力设施的安装、维修和试验", "城市配送运输服务（不含危险货物）",
)
GENERAL_TAIL = "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"
LICENSED_TAIL = "（依法须经批准的项目，经相关部门批准后方可开展经营活动，具体经营项目以相关部门批准文件或许可证件为准）"
OLD_TAIL = "（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
ROADS = ("大道", "路", "街", "大街", "中路", "东路", "西路", "南路", "北路")
_DONE = ("销售", "业务", "服务", "制造", "生产", "加工", "开发")  # product lines that already read as a scope item
_NOTE_ITEMS = re.compile(r"包括(.+?)(?:等|；|。|$)")


@dataclass(frozen=True)
class Industry:
    """One 申万 level-3 industry as the generator draws from it."""

    name: str
    products: list[tuple[str, float]]  # real (product, revenue share) lines of its listed firms
    classes: list[tuple[str, str, str]]  # GB/T classes (code, name, group code) closest to it, best first
    tushare: list[str]  # Tushare industry of its listed firms (one entry per firm)
    firms: int  # listed firms in it: how often it is drawn


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"[^\u4e00-\u9fff]", "", text)
    return {text[i:i + 2] for i in range(len(text) - 1)}


def load_vocabulary(shared: Path) -> tuple[list[Industry], dict[str, list[tuple[str, str]]], list[tuple[str, str]],
                                           dict[str, list[str]]]:
    """(industries, GB/T classes by group, place names, GB/T notes' items by class code) from ../shared/data."""
    chain_dir, codes_dir = shared / "industry_chain", shared / "industry_codes"
    sw_of = {r["company_code"]: r["industry_name"] for r in csv.DictReader(open(chain_dir / "ckg_company_sw_industry.csv",
                                                                                encoding="utf-8"))}
    products: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for r in csv.DictReader(open(chain_dir / "ckg_company_product.csv", encoding="utf-8")):
        if r["company_code"] in sw_of and r["product"].strip():
            products[sw_of[r["company_code"]]].append((r["product"].strip(), float(r["weight"] or 0.001)))
    tushare: dict[str, list[str]] = defaultdict(list)
    for r in csv.DictReader(open(shared / "listed_companies" / "tushare_a_share_basic_2024.csv", encoding="utf-8")):
        if r["industry"] and r["ts_code"] in sw_of:
            tushare[sw_of[r["ts_code"]]].append(r["industry"])
    classes, notes = [], {}
    by_group: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in csv.DictReader(open(codes_dir / "gbt4754_2017.csv", encoding="utf-8")):
        if r["level"] == "4" and r["section"] == "C" or r["level"] == "4" and r["section"] in "FIM":
            classes.append((r["code"], r["name"], r["group"], _bigrams(r["name"])))
            by_group[r["group"]].append((r["code"], r["name"]))
            if m := _NOTE_ITEMS.search(r["description"]):
                items = [i for i in re.split(r"[、，,和及]", m.group(1)) if 2 <= len(i) <= 14]
                if items:
                    notes[r["code"]] = items
    firms = defaultdict(int)
    for sw in sw_of.values():
        firms[sw] += 1
    industries = []
    for sw, lines in products.items():
        # the GB/T classes whose names share most two-character words with the industry's name and products
        seen = Counter(b for p, _ in lines for b in _bigrams(p))
        for b in _bigrams(sw):
            seen[b] += len(lines)
        ranked = sorted(classes, key=lambda c: -sum(seen[b] for b in c[3]) / (len(c[3]) or 1) ** 0.5)
        industries.append(Industry(sw, lines, [(c, n, g) for c, n, g, _ in ranked[:4]],
                                   tushare.get(sw, []), firms[sw]))
    # (place name, the 6-digit division code a USCC carries): counties, and cities under their first county's code
    places = [(r["name"], r["code"]) for r in csv.DictReader(open(shared / "admin_divisions" / "modood_areas.csv",
                                                                  encoding="utf-8")) if r["name"] != "市辖区"]
    first_county = {code[:4]: code for _, code in reversed(places)}
    places += [(r["name"], first_county[r["code"]]) for r in csv.DictReader(
        open(shared / "admin_divisions" / "modood_cities.csv", encoding="utf-8"))
        if r["name"] not in ("市辖区", "县") and r["code"] in first_county]
    return industries, by_group, places, notes


def listed_names(shared: Path) -> set[str]:
    """Full and short names of the listed firms in ../shared/data, which a generated name must not be."""
    names = set()
    for file, columns in (("industry_chain/ckg_company.csv", ("name", "fullname")),
                          ("listed_companies/tushare_a_share_basic_2024.csv", ("name",)),
                          ("listed_companies/wfp_a_share_company_info_2016.csv", ("name", "sname"))):
        with open(shared / file, encoding="utf-8") as fh:
            names.update(r[c] for r in csv.DictReader(fh) for c in columns)
    return names


class Generator:
    """Draws firms; one instance per file (seeded)."""

    def __init__(self, shared: Path, seed: int):
        self.rng = random.Random(seed)
        self.industries, self.by_group, self.places, self.notes = load_vocabulary(shared)
        self.chain = [i for i in self.industries if i.name in CHAIN_SW]
        self.chain_weights = [i.firms for i in self.chain]
        self.weights = [i.firms for i in self.industries]
        self.codes: set[str] = set()
        self.listed_names = listed_names(shared)

    def industry(self) -> Industry:
        pool, weights = (self.chain, self.chain_weights) if self.rng.random() < CHAIN_SHARE else (
            self.industries, self.weights)
        return self.rng.choices(pool, weights)[0]

    def products(self, ind: Industry) -> tuple[list[str], str]:
        """(product names, the cell): 1–7 real lines of the industry, with their real shares as firms write them."""
        rng = self.rng
        lines = rng.sample(ind.products, min(len(ind.products), rng.choice((1, 2, 2, 3, 3, 4, 4, 5, 6, 7))))
        lines.sort(key=lambda line: -line[1])
        style = rng.random()
        sep = rng.choice(("；", ";", "、", "，"))
        if style < 0.45:  # shares as fractions, as the annual-report extracts give them
            cells = [f"{p}:{s:.{rng.choice((2, 3, 4))}f}" for p, s in lines]
        elif style < 0.65:  # percentages
            cells = [f"{p}({s * 100:.{rng.choice((0, 1, 2))}f}%)" if s > 0.001 else p for p, s in lines]
        else:
            cells = [p for p, _ in lines]
        return [p for p, _ in lines], sep.join(cells)

    def scope(self, ind: Industry, code: str, name: str, group: str, products: list[str]) -> str:
        rng = self.rng
        items = [name]
        siblings = [n for c, n in self.by_group.get(group, []) if c != code]
        items += rng.sample(siblings, min(len(siblings), rng.randint(0, 2)))
        items += [f"{i}{rng.choice(VERBS)}" for i in rng.sample(self.notes.get(code, []),
                                                                 min(len(self.notes.get(code, [])), rng.randint(0, 2)))]
        items += [p if p.endswith(_DONE) else f"{p}{rng.choice(VERBS)}" for p in products[: rng.randint(1, 4)]]
        for _, other, _ in rng.sample(ind.classes[1:], rng.randint(0, min(2, len(ind.classes) - 1))):
            items.append(other)
        items += rng.sample(SERVICE_ITEMS, rng.randint(2, 7))
        rng.shuffle(items)
        if rng.random() < 0.7:
            text = f"一般项目：{'；'.join(items)}{GENERAL_TAIL}"
            if rng.random() < 0.5:
                text += f"许可项目：{'；'.join(rng.sample(LICENSED_ITEMS, rng.randint(1, 3)))}{LICENSED_TAIL}"
            return text
        made = "、".join(products[:3] or [name])
        return f"{made}的研发、生产、销售；{'；'.join(items)}。{OLD_TAIL}"

    def uscc(self, county: str) -> str:
        while True:
            body = "91" + county + "".join(self.rng.choice(ALPHABET) for _ in range(9))
            code = body + check_digit(body)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def row(self) -> list[str]:
        rng = self.rng
        ind = self.industry()
        code, class_name, group = rng.choice(ind.classes[:2])
        products, cell = self.products(ind)
        place, county = rng.choice(self.places)
        short = place[:2] if "自治" in place else place[:-1] if len(place) > 2 and place[-1] in "市县区旗" else place
        own = [w for w in (re.sub(r"Ⅲ|其他", "", ind.name), products[0] if products else "") if 2 <= len(w) <= 4]
        trade = rng.choice((*TRADES, *own))
        while True:
            form = rng.choices([f for f, _ in FORMS], [w for _, w in FORMS])[0]
            brand = "".join(rng.sample(BRAND, rng.choice((2, 2, 3))))
            name = (f"{short}{brand}{trade}{form}" if rng.random() < 0.6 else f"{brand}{trade}（{short}）{form}")
            if name not in self.listed_names:  # made-up products under a listed firm's name would be invented facts
                break
        industry = rng.random()
        industry_text = (class_name if industry < 0.45 else rng.choice(ind.tushare) if industry < 0.8 and ind.tushare
                         else "")
        code_text = rng.choice((f"C{code}", code, code, "")) if rng.random() < 0.7 else ""
        address = f"{place}{rng.choice(BRAND)}{rng.choice(BRAND)}{rng.choice(ROADS)}{rng.randint(1, 2999)}号"
        return [name, self.uscc(county), address, industry_text, code_text,
                self.scope(ind, code, class_name, group, products), cell]


def generate(path: Path, n: int, shared: Path, seed: int = 20) -> None:
    """Write n generated firms to `path` (UTF-8 CSV)."""
    gen = Generator(shared, seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADERS)
        out.writerows(gen.row() for _ in range(n))


def distinct_shares(path: Path) -> dict[str, float]:
    """The distinct share of the name, industry, scope and products columns of a file written by `generate`."""
    seen: dict[int, set[str]] = {3: set(), 5: set(), 6: set(), 0: set()}
    n = 0
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            n += 1
            for j, values in seen.items():
                values.add(row[j])
    return {HEADERS[j]: len(values) / max(n, 1) for j, values in seen.items()}

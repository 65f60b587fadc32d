"""Header mapping: the many Chinese and English column names users have → our canonical fields.

A header may carry its unit ("注册资本(万元)", "营业收入（亿元）"); the unit becomes the multiplier for bare
numbers in that column. A mapping file (YAML or JSON) overrides the automatic guess:

    columns:
      公司全称: name              # header → field
      reg_capital: {field: registered_capital, unit: 万元}
      备注: null                  # ignore this column
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


_UNIT_MULTIPLIERS = {"元": 1, "万元": 10_000, "亿元": 100_000_000, "千元": 1_000, "百万元": 1_000_000,
                     "万": 10_000, "亿": 100_000_000, "千": 1_000, "百万": 1_000_000, "万人": 10_000, "人": 1}
_UNIT_IN_HEADER = re.compile(r"[(（\[]\s*(?:单位[:：])?\s*(元|万元|亿元|千元|百万元|万|亿|千|百万|人|万人)"
                             r"(?:人民币)?\s*[)）\]]")
_CURRENCY_IN_HEADER = {"美元": "USD", "港元": "HKD", "港币": "HKD", "欧元": "EUR", "日元": "JPY"}


def _norm(header: str) -> str:
    text = unicodedata.normalize("NFKC", str(header or "")).lower()
    text = _UNIT_IN_HEADER.sub("", text)
    return re.sub(r"[\s_\-:：*#.·、]+", "", text)


@dataclass(frozen=True)
class FieldSpec:
    id: str
    label_zh: str
    synonyms: tuple[str, ...]  # normalised (see _norm): lower case, no blanks or punctuation
    kind: str = "text"  # text / uscc / date / money / count / amount / list / products / share / designations / bool


def field_spec(id: str, label: str, synonyms: str, kind: str = "text") -> FieldSpec:
    """A field the header mapper knows: its id, Chinese label and the header names (| separated) that mean it."""
    return FieldSpec(id, label, tuple(_norm(s) for s in synonyms.split("|")), kind)


ENTERPRISE_FIELDS: tuple[FieldSpec, ...] = (
    field_spec("name", "企业名称", "企业名称|公司名称|名称|企业全称|公司全称|单位名称|企业名|公司名|全称|name|"
       "companyname|enterprisename|company|fullname|企业(机构)名称|纳税人名称|市场主体名称"),
    field_spec("uscc", "统一社会信用代码", "统一社会信用代码|信用代码|社会信用代码|统一代码|uscc|creditcode|"
       "统一社会信用代码/注册号|社会统一信用代码|组织机构代码|税号|纳税人识别号", "uscc"),
    field_spec("name_en", "英文名称", "英文名称|英文名|英文全称|ename|englishname|nameen|companynameen"),
    field_spec("short_name", "简称", "简称|企业简称|公司简称|股票简称|证券简称|sname|shortname|abbr"),
    field_spec("former_names", "曾用名", "曾用名|曾用名称|原名|formername|formernames|usedname", "list"),
    field_spec("address", "注册地址", "注册地址|地址|企业地址|公司地址|住所|注册地|经营地址|通讯地址|办公地址|详细地址|"
       "联系地址|address|addr|addrreg|registeredaddress|住所地|地址(住所)"),
    field_spec("province", "省份", "省份|省|所在省份|所属省份|province|省份名称"),
    field_spec("city", "城市", "城市|市|所在城市|所属城市|地市|city|所在地市"),
    field_spec("district", "区县", "区县|区|县|所在区县|所属区县|district|county|区/县"),
    field_spec("street", "街道", "街道|所属街道|街道办|乡镇街道|乡镇|street"),
    field_spec("park", "园区", "园区|所属园区|所在园区|产业园|park"),
    field_spec("business_scope", "经营范围", "经营范围|经营范围描述|业务范围|scope|businessscope"),
    field_spec("products", "主营产品", "主营产品|主要产品|产品|主营业务|主要业务|主营|products|mainproducts|"
       "mainbusiness|主营业务/产品|产品名称", "products"),
    field_spec("industry_code", "行业代码", "行业代码|国民经济行业代码|国标行业代码|行业分类代码|industrycode|gbt4754"),
    field_spec("industry", "所属行业", "所属行业|行业|国民经济行业|行业名称|行业类别|industry|industryname|行业门类"),
    field_spec("registered_capital", "注册资本", "注册资本|注册资金|注册资本金|regcapital|registeredcapital|capital", "money"),
    field_spec("founded_on", "成立日期", "成立日期|成立时间|注册日期|成立|设立日期|核准日期|establishdate|setupdate|"
       "founded|foundeddate|registerdate|incorporationdate", "date"),
    field_spec("ownership", "企业类型", "企业类型|企业性质|公司类型|类型|所有制|经济类型|企业(机构)类型|ownership|"
       "enttype|actenttype|companytype|登记注册类型|企业控股情况"),
    field_spec("foreign_invested", "是否外资", "是否外资|外资企业|外资|是否外商投资|foreigninvested", "bool"),
    field_spec("listing_code", "股票代码", "股票代码|证券代码|上市代码|股票号|公司代码|stockcode|tscode|ticker|symbol|code|"
       "companycode"),
    field_spec("employees", "员工人数", "员工人数|从业人员|员工数|职工人数|人数|从业人数|参保人数|员工|人员规模|"
       "employees|staff|employee", "count"),
    field_spec("revenue_yuan", "营业收入", "营业收入|营收|主营业务收入|销售收入|年营业收入|营业总收入|revenue|sales|"
       "operatingrevenue", "amount"),
    field_spec("output_yuan", "产值", "产值|工业总产值|年产值|总产值|工业产值|output|outputvalue", "amount"),
    field_spec("status", "经营状态", "经营状态|登记状态|企业状态|状态|status"),
    # a bureau's risk column (经营异常、失信、ST …); the 一票否决 of the target list reads it (data/targets.yaml)
    field_spec("risk_flags", "风险提示", "风险提示|风险信息|风险标签|风险情况|风险|riskflags|risk", "list"),
    field_spec("designations", "企业资质", "企业资质|资质|荣誉|资质荣誉|认定|企业标签|标签|designations|称号", "designations"),
    field_spec("is_leader", "是否链主", "是否链主|链主|链主企业", "bool"),
    field_spec("parent_group", "所属集团", "所属集团|集团|母公司|控股股东|parentgroup|parent"),
    field_spec("website", "网址", "网址|官网|网站|website|url|web|website_url|官方网站"),
    field_spec("source_note", "数据来源", "数据来源|来源|source|datasource"),
)

_ENTERPRISE = {f.id: f for f in ENTERPRISE_FIELDS}
# A long product file: one row per firm × product line (× revenue share); the firm by USCC, stock code or name.
PRODUCT_FIELDS: tuple[FieldSpec, ...] = (
    _ENTERPRISE["uscc"], _ENTERPRISE["listing_code"], _ENTERPRISE["name"],
    field_spec("product", "产品", "产品|主营产品|主要产品|产品名称|产品类别|主营构成|主营业务|product|products|productname|"
       "mainproduct"),
    field_spec("share", "收入占比", "收入占比|营收占比|营业收入占比|主营收入占比|占主营业务收入比例|收入比例|占比|比重|share|"
       "weight|ratio|revenueshare|percent|pct", "share"),
    _ENTERPRISE["source_note"],
)

RELATION_FIELDS: tuple[FieldSpec, ...] = (
    field_spec("supplier_name", "供应商名称", "供应商名称|供应商|供方|供货商|supplier|suppliername|卖方"),
    field_spec("supplier_uscc", "供应商信用代码", "供应商统一社会信用代码|供应商信用代码|供应商代码|supplieruscc", "uscc"),
    field_spec("customer_name", "客户名称", "客户名称|客户|需方|采购方|买方|customer|customername|maker|整车厂|主机厂"),
    field_spec("customer_uscc", "客户信用代码", "客户统一社会信用代码|客户信用代码|客户代码|customeruscc", "uscc"),
    field_spec("product", "产品", "产品|供货产品|配套产品|零部件|部件|product|component|配套零部件"),
    field_spec("year", "年份", "年份|年度|年|year|modelyear|配套年份", "count"),
    field_spec("value_yuan", "金额", "金额|采购金额|供货金额|交易金额|配套金额|value|amount", "amount"),
    field_spec("source_note", "数据来源", "数据来源|来源|source|datasource"),
)

@dataclass
class ColumnMap:
    index: int
    header: str
    field: str | None
    how: str  # auto / override / ignored / unmapped
    multiplier: int = 1
    currency: str | None = None
    unit: str = ""  # the unit the header or the mapping file states (万元, 元, 万美元); "" when none is stated


@dataclass
class HeaderMapping:
    columns: list[ColumnMap]
    fields: tuple[FieldSpec, ...]
    # columns not imported although they name a field another column already fills (a repeated header, or
    # 公司名称 beside 企业名称): said, never dropped silently
    warnings: list[str] = field(default_factory=list)

    def column_of(self, field_id: str) -> ColumnMap | None:
        return next((c for c in self.columns if c.field == field_id), None)

    def as_dict(self) -> dict:
        return {c.header: {"field": c.field, "how": c.how, "unit": c.multiplier} for c in self.columns}

    @property
    def mapped(self) -> list[ColumnMap]:
        return [c for c in self.columns if c.field]


class MappingError(ValueError):
    pass


def _unit_of(header: str) -> tuple[int, str | None, str]:
    """(multiplier, currency, the unit as written) of a header's bracketed unit."""
    text = unicodedata.normalize("NFKC", str(header or ""))
    m = _UNIT_IN_HEADER.search(text)
    multiplier = _UNIT_MULTIPLIERS[m.group(1)] if m else 1
    if m is None:  # "注册资本(万美元)"
        m2 = re.search(r"[(（](万|亿)?(美元|港元|港币|欧元|日元)[)）]", text)
        if m2:
            return (_UNIT_MULTIPLIERS.get(m2.group(1) or "", 1), _CURRENCY_IN_HEADER[m2.group(2)],
                    (m2.group(1) or "") + m2.group(2))
    return multiplier, None, m.group(1) if m else ""


def unit_multiplier(unit: str) -> int | None:
    """×N of a unit a user names (元, 万元, 亿元, 千元, 百万元); None for an unknown one."""
    return _UNIT_MULTIPLIERS.get(unit.strip().replace("人民币", ""))


def unit_text(header: str) -> str:
    """The unit a header names in brackets, e.g. "(万元)" of "财务数据(万元)", or ''."""
    m = _UNIT_IN_HEADER.search(unicodedata.normalize("NFKC", str(header or "")))
    return m.group(0) if m else ""


def guess_field(header: str, fields: tuple[FieldSpec, ...]) -> str | None:
    key = _norm(header)
    if not key:
        return None
    for spec in fields:
        if key in spec.synonyms:
            return spec.id
    # "企业名称（全称）", "注册地址及邮编": the longest synonym contained in the header wins.
    best, best_len = None, 1
    for spec in fields:
        for syn in spec.synonyms:
            if len(syn) > best_len and syn in key and not syn.isascii():
                best, best_len = spec.id, len(syn)
    return best


def mapped_header_fields(override: dict | None) -> tuple[FieldSpec, ...]:
    """The headers a mapping file names, each as a field of its own: the row holding them scores as the header."""
    return tuple(FieldSpec(f"mapped:{h}", str(h), (_norm(h),)) for h in (override or {}) if _norm(h))


def header_score(cells: list[str], fields: tuple[FieldSpec, ...]) -> int:
    """How many cells of a row read as known headers — the header row is the row that scores best."""
    return len({f for f in (guess_field(c, fields) for c in cells if c) if f})


def map_headers(headers: list[str], fields: tuple[FieldSpec, ...], override: dict | None = None) -> HeaderMapping:
    """Guess each column's field; an override {header: field | {field, unit} | None} wins. First column wins ties."""
    override = override or {}
    columns: list[ColumnMap] = []
    taken: dict[str, str] = {}  # field → the header of the column that fills it
    warnings: list[str] = []
    labels = {f.id: f.label_zh for f in fields}
    known = {f.id for f in fields}
    overridden = {v if isinstance(v, str) else (v or {}).get("field") for v in override.values()}
    for i, header in enumerate(headers):
        multiplier, currency, unit = _unit_of(header)
        if header in override:
            spec = override[header]
            field_id = spec.get("field") if isinstance(spec, dict) else spec
            if field_id is not None and field_id not in known:
                raise MappingError(f"映射文件中列“{header}”对应的字段“{field_id}”不存在。可用字段：{'、'.join(sorted(known))}")
            if isinstance(spec, dict) and spec.get("unit"):
                unit = str(spec["unit"])
                multiplier = _UNIT_MULTIPLIERS.get(unit.replace("人民币", ""), multiplier)
                currency = next((c for w, c in _CURRENCY_IN_HEADER.items() if w in unit), currency)
            how = "override" if field_id else "ignored"
        else:
            field_id = guess_field(header, fields)
            if field_id in overridden:
                field_id = None
            how = "auto" if field_id else "unmapped"
        if field_id and field_id in taken:  # a second 地址 column (办公地址 beside 注册地址): keep the first
            warnings.append(f"第 {i + 1} 列“{header}”与“{taken[field_id]}”都对应“{labels.get(field_id, field_id)}”，"
                            f"只导入“{taken[field_id]}”；如要导入这一列，请在列映射中为它另选字段。")
            field_id, how = None, "unmapped"
        if field_id:
            taken[field_id] = str(header)
        columns.append(ColumnMap(i, str(header), field_id, how, multiplier, currency, unit))
    return HeaderMapping(columns, fields, warnings)


def load_mapping_file(path: Path) -> dict:
    """Read a YAML or JSON mapping file → {header: field | {field, unit} | None}."""
    import yaml  # here: most files are read without a mapping file, and yaml costs a command's start ≈ 11 ms

    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except FileNotFoundError:
        raise MappingError(f"找不到映射文件 {path}") from None
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"映射文件 {path} 格式有误：{exc}。请使用 YAML 或 JSON，形如 columns: {{公司全称: name}}") from None
    if isinstance(data, dict) and isinstance(data.get("columns"), dict):
        data = data["columns"]
    if not isinstance(data, dict):
        raise MappingError(f"映射文件 {path} 应为“表头: 字段”的对照表，例如 columns: {{公司全称: name}}")
    return {str(k): v for k, v in data.items()}


def field_labels(fields: tuple[FieldSpec, ...]) -> dict[str, str]:
    return {f.id: f.label_zh for f in fields}

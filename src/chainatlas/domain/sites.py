"""Sites (载体): the zone's land plots, standard factories and offices — kinds, statuses, land uses and areas.

Areas: land is counted in 亩 (1 亩 = 10000/15 ㎡ ≈ 666.67 ㎡), buildings in ㎡; a need in one unit is compared
with a site in the other through that one factor. Land use follows GB 50137-2011 城市用地分类 (M1/M2/M3 工业用地,
W 物流仓储用地, B 商业服务业设施用地) as bureaus write it in their 载体台账.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

M2_PER_MU = 10_000 / 15

KINDS = {"land": "工业用地", "factory": "标准厂房", "office": "写字楼"}
KIND_WORDS = {  # what ledgers write in a 载体类型 column → kind id
    "land": ("土地", "地块", "用地", "工业用地", "宗地", "land", "plot"),
    "factory": ("标准厂房", "厂房", "标准化厂房", "定制厂房", "factory", "workshop"),
    "office": ("写字楼", "办公楼", "楼宇", "办公", "孵化器", "研发楼", "office"),
}

AVAILABLE = "可供"
NEGOTIATING = "洽谈中"
STATUSES = (AVAILABLE, NEGOTIATING, "已出让", "已租", "已入驻")
TAKEN = ("已出让", "已租", "已入驻")
STATUS_WORDS = {
    AVAILABLE: ("可供", "空置", "待租", "待售", "待出让", "闲置", "可用", "available"),
    NEGOTIATING: ("洽谈中", "洽谈", "意向", "预留", "已预留", "reserved"),
    "已出让": ("已出让", "出让", "已摘牌", "已售", "sold"),
    "已租": ("已租", "已出租", "出租", "leased"),
    "已入驻": ("已入驻", "入驻", "已投产", "occupied"),
}

# Land uses, and which project kinds each can take. Industrial projects need M-class land or a factory;
# headquarters and R&D centres may sit on 商服 land or in offices; storage needs W.
LAND_USES = {
    "M1": "一类工业用地", "M2": "二类工业用地", "M3": "三类工业用地", "W": "物流仓储用地",
    "B": "商业服务业设施用地", "A": "科研用地",
}
LAND_USE_WORDS = (  # longest first
    ("一类工业", "M1"), ("二类工业", "M2"), ("三类工业", "M3"), ("工业用地", "M1"), ("工业", "M1"),
    ("物流仓储", "W"), ("仓储", "W"), ("商服", "B"), ("商业服务", "B"), ("商业", "B"), ("办公", "B"),
    ("科研", "A"), ("科教", "A"),
)
# project_type (新建/扩建/总部/研发中心/其他) → land uses it may build on
USES_FOR_PROJECT = {
    "新建": ("M1", "M2", "M3"), "扩建": ("M1", "M2", "M3"), "其他": ("M1", "M2", "M3", "W"),
    "总部": ("B", "A"), "研发中心": ("A", "B", "M1"),
}
# project_type → kinds of building it can move into
KINDS_FOR_PROJECT = {
    "新建": ("land", "factory"), "扩建": ("land", "factory"), "其他": ("land", "factory", "office"),
    "总部": ("office", "land"), "研发中心": ("office", "factory", "land"),
}


class SiteValueError(ValueError):
    """A cell that cannot be read as what its column says; the message says what to write instead (Chinese)."""


def _clean(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text or "")).strip()


def parse_kind(text: object) -> str:
    value = _clean(text).lower()
    if value in KINDS:
        return value
    for kind, words in KIND_WORDS.items():
        if any(w.lower() in value for w in words):
            return kind
    raise SiteValueError(f"载体类型“{text}”无法识别，应为 工业用地 / 标准厂房 / 写字楼 之一")


def parse_status(text: object) -> str:
    value = _clean(text).lower()
    for status, words in STATUS_WORDS.items():
        if any(w.lower() in value for w in words):
            return status
    raise SiteValueError(f"状态“{text}”无法识别，应为 {' / '.join(STATUSES)} 之一")


def parse_land_use(text: object) -> str:
    """'M1', '一类工业用地', '工业用地(M2)' → the GB 50137 code; '' when the cell is blank."""
    value = _clean(text).upper()
    if not value:
        return ""
    m = re.search(r"\b(M[123]|W|B|A)\d?\b", value)
    if m:
        return m.group(1)
    for word, code in LAND_USE_WORDS:
        if word in value:
            return code
    raise SiteValueError(f"用地性质“{text}”无法识别，应为 工业用地(M1/M2/M3)、物流仓储用地(W)、商服用地(B) 或 科研用地(A)")


# NFKC has already turned ㎡ and m² into "m2"
_AREA = re.compile(r"([-+]?\d+(?:\.\d+)?)\s*(万平方米|万平米|万m2|平方米|平米|m2|亩|公顷|ha)?", re.I)


def parse_area(text: object, default_unit: str) -> tuple[float, str]:
    """'50亩', '1.2万㎡', '3,000 平方米', 12.5 (in the column's unit) → (number, 'mu' | 'm2'), never negative."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value, unit = float(text), default_unit
    else:
        raw = _clean(text).replace(",", "").replace("，", "")
        m = _AREA.fullmatch(raw) or _AREA.match(raw)
        if not m or m.end() != len(raw):
            raise SiteValueError(f"面积“{text}”无法识别，应为数字，可带单位（亩 / ㎡ / 万㎡ / 公顷）")
        value, word = float(m.group(1)), (m.group(2) or "").lower()
        unit = default_unit
        if word == "亩":
            unit = "mu"
        elif word in ("公顷", "ha"):
            value, unit = value * 15, "mu"
        elif word.startswith("万"):
            value, unit = value * 10_000, "m2"
        elif word:
            unit = "m2"
    if not value > 0:
        raise SiteValueError(f"面积“{text}”应大于 0")
    return value, unit


def to_m2(value: float, unit: str) -> float:
    return value * M2_PER_MU if unit == "mu" else value


def to_mu(value: float, unit: str) -> float:
    return value if unit == "mu" else value / M2_PER_MU


@dataclass(frozen=True)
class Need:
    """What a project or a target needs: area (in 亩 for land, ㎡ for buildings), kind, project type, node, date."""

    area_m2: float
    kinds: tuple[str, ...]
    land_uses: tuple[str, ...]
    node_id: str = ""
    by_date: object = None  # datetime.date the project needs the site by, or None (now)

    @property
    def area_mu(self) -> float:
        return self.area_m2 / M2_PER_MU

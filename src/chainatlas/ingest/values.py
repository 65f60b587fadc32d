"""Parsers for cell values as users type them: dates, counts with units, lists, designations.

Each parser takes whatever the reader produced (str from CSV; int/float/datetime from Excel) and either
returns a clean Python value or raises ValueProblem with a Chinese message and what to do about it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from chainatlas.domain.money import MoneyError, parse_money

EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (it counts the non-existent 1900-02-29)


class ValueProblem(ValueError):
    def __init__(self, message: str, action: str):
        super().__init__(message)
        self.message = message
        self.action = action


# Cells that hold no value: users' words for "none", and Excel's error values ("#N/A" from a VLOOKUP that found
# nothing), which are not firm names or facts either (a CSV saved from Excel keeps them as text).
BLANK_WORDS = frozenset({"nan", "none", "null", "-", "--", "—", "/", "无", "暂无", "n/a",
                         "#n/a", "#value!", "#ref!", "#div/0!", "#name?", "#num!", "#null!", "#spill!", "#calc!"})


def clean_text(value: object) -> str:
    """Cell → stripped text; None, NaN, Excel's blanks and error values become ''."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return format(value, "f").rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    # NUL is no character of a name: a file with one (a broken export) must not store it
    text = str(value).replace("\x00", "").replace("\u3000", " ").replace("\xa0", " ").strip()
    return "" if text.lower() in BLANK_WORDS else text


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_PATTERNS = (re.compile(r"^(\d{4})[-/.](\d{1,2})$"), re.compile(r"^(\d{4})年(\d{1,2})月?$"))
_DATE_ACTION = "请改为 2019-01-02 或 2019年1月2日 的形式，或留空"


def parse_date(value: object) -> date:
    """2019-01-02, 2019/1/2, 2019年1月2日, 20190102, 2019年1月 (→ 1st), Excel serial 43467 → date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_number(value, str(value))
    text = unicodedata.normalize("NFKC", clean_text(value))
    if "年" in text:  # "2019 年 1 月 2 日"
        text = text.replace(" ", "")
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _from_number(float(text), text)
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            return _make_date(int(m[1]), int(m[2]), int(m[3]), text)
    for pattern in _MONTH_PATTERNS:
        m = pattern.match(text)
        if m:
            return _make_date(int(m[1]), int(m[2]), 1, text)
    raise ValueProblem(f"“{text}”不是可识别的日期", _DATE_ACTION)


def _from_number(number: float, text: str) -> date:
    if 19000101 <= number <= 21001231 and float(number).is_integer():
        n = int(number)
        return _make_date(n // 10000, n // 100 % 100, n % 100, text)
    if 1 <= number < 80000:  # an Excel serial date (80000 = year 2119)
        return EXCEL_EPOCH + timedelta(days=int(number))
    raise ValueProblem(f"“{text}”不是可识别的日期（数字既不是 Excel 日期序号也不是 20190102 形式）", _DATE_ACTION)


def _make_date(y: int, m: int, d: int, text: str) -> date:
    if not 1800 <= y <= 2100:
        raise ValueProblem(f"“{text}”的年份 {y} 不合理", _DATE_ACTION)
    try:
        return date(y, m, d)
    except ValueError:
        raise ValueProblem(f"“{text}”不是存在的日期", "请核对月份和日期") from None


_COUNT_UNITS = {"亿": 100_000_000, "万": 10_000, "千": 1_000, "百": 100}
_COUNT = re.compile(r"^(?:约|大约)?([\d.]+)(?:[-~～至到]([\d.]+))?(亿|万|千|百)?(?:人|名|个|家|位)?(?:以上|左右|余|多)?$")


def parse_count(value: object, default_multiplier: int = 1) -> int:
    """Employees and similar counts: 320, '1.2万人', '500-999人' (→ midpoint), '约300名'."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value or value < 0:
            raise ValueProblem(f"“{value}”不是有效的人数", "请填写非负整数，或留空")
        return int(round(value * default_multiplier))
    text = unicodedata.normalize("NFKC", clean_text(value)).replace(",", "").replace(" ", "")
    m = _COUNT.match(text)
    if not m:
        raise ValueProblem(f"“{text}”不是可识别的数量", "请填写数字，可带单位，如 320、1.2万人、500-999人")
    try:
        low = float(m[1])
        number = (low + float(m[2])) / 2 if m[2] else low
    except ValueError:
        raise ValueProblem(f"“{text}”不是可识别的数量", "请填写数字，如 320 或 1.2万") from None
    multiplier = _COUNT_UNITS[m[3]] if m[3] else default_multiplier
    return int(round(number * multiplier))


def parse_amount_yuan(value: object, default_multiplier: int = 1) -> int:
    """Revenue and output: '3.5亿', '8000万元', 1200 (in the header's unit) → integer yuan (CNY equivalent)."""
    try:
        return parse_money(value, default_multiplier).amount_yuan
    except MoneyError as exc:
        raise ValueProblem(str(exc), "请填写金额，可带单位，如 3.5亿元、8000万元，或在表头注明单位") from None


_LIST_SPLIT = re.compile(r"[、，,;；/|\n]+")


def split_list(value: object) -> list[str]:
    """'动力电池、储能电池;BMS' → ['动力电池', '储能电池', 'BMS'] (order kept, duplicates dropped)."""
    return list(dict.fromkeys(filter(None, map(str.strip, _LIST_SPLIT.split(clean_text(value))))))


DESIGNATIONS = ("专精特新小巨人", "专精特新", "高新技术企业", "科技型中小企业", "独角兽", "瞪羚", "单项冠军",
                "世界500强", "中国500强", "民营500强", "上市公司", "技术创新示范企业", "企业技术中心")
_LEVELS = ("国家级", "省级", "市级", "区级")
_DESIGNATION_ALIASES = {"小巨人": "专精特新小巨人", "高企": "高新技术企业", "国高": "高新技术企业",
                        "500强": "中国500强", "科小": "科技型中小企业"}


def parse_designations(value: object) -> list[tuple[str, str, int | None]]:
    """'国家级专精特新小巨人(2023)；高新技术企业' → [(name, level, year)]; unknown words are kept as given."""
    result: list[tuple[str, str, int | None]] = []
    for item in split_list(value):
        text = unicodedata.normalize("NFKC", item)
        year_match = re.search(r"(19|20)\d{2}", text)
        year = int(year_match.group()) if year_match else None
        text = re.sub(r"[()（）]?(19|20)\d{2}年?[()（）]?", "", text).strip()
        level = next((lv for lv in _LEVELS if lv in text), "")
        text = text.replace(level, "") if level else text
        name = next((d for d in DESIGNATIONS if d in text), None) or _DESIGNATION_ALIASES.get(text, text)
        if name and (name[:40], level, year) not in result:
            result.append((name[:40], level, year))
    return result


_FOREIGN_WORDS = ("外资", "外商", "合资", "中外", "港澳台", "外国", "独资（外", "台港澳")


def is_foreign_invested(ownership: str) -> bool:
    return any(word in ownership for word in _FOREIGN_WORDS)


def parse_bool(value: object) -> bool:
    text = clean_text(value).lower()
    if text in {"是", "y", "yes", "true", "1", "√", "✓", "有"}:
        return True
    if text in {"否", "n", "no", "false", "0", "×", "无", ""}:
        return False
    raise ValueProblem(f"“{text}”不是 是/否", "请填写 是 或 否")


def parse_share(value: object) -> float:
    """A revenue share as 0–1: '0.825', '82.5%', '82.5' (more than 1 reads as a percentage)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        percent = False
    else:
        text = unicodedata.normalize("NFKC", clean_text(value)).replace(" ", "")
        percent = text.endswith("%")
        try:
            number = float(text.rstrip("%"))
        except ValueError:
            raise ValueProblem(f"“{text}”不是收入占比", "请填写 0–1 的小数（如 0.82）或百分比（如 82%）") from None
    if percent or number > 1:
        number /= 100
    if not 0 <= number <= 1:
        raise ValueProblem(f"收入占比 {number:.4g} 不在 0–100% 之间", "请核对收入占比（如 0.82 或 82%）")
    return number

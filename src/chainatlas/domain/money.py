"""Money at the edge: stored as integer yuan, shown the way leaders read it (亿元 / 万元)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

YI = 100_000_000
WAN = 10_000


def format_yuan(value: int | None, unit: str | None = None) -> str:
    """12.35亿元 for large sums, 350万元 for smaller ones, — for unknown (unknown is not zero)."""
    if value is None:
        return "—"
    if unit == "亿" or (unit is None and abs(value) >= YI):
        return f"{value / YI:,.2f}亿元"
    if unit == "万" or (unit is None and abs(value) >= WAN):
        return f"{value / WAN:,.0f}万元" if value % WAN == 0 or abs(value) >= 100 * WAN else f"{value / WAN:,.2f}万元"
    return f"{value:,}元"


def yi(value: int | None) -> float | None:
    """Yuan to 亿元 as a number, for charts and Excel cells."""
    return None if value is None else round(value / YI, 4)


# ---------------------------------------------------------------- parsing what users type

# Approximate yearly-average rates, only to compare registered capital across currencies (not for accounting).
CNY_PER_UNIT = {"CNY": 1.0, "USD": 7.1, "EUR": 7.7, "HKD": 0.91, "JPY": 0.048, "GBP": 9.0, "TWD": 0.22, "KRW": 0.0053,
                "SGD": 5.3, "CHF": 8.0, "AUD": 4.7, "CAD": 5.2, "MOP": 0.88}
_CURRENCY_WORDS = (  # longest first so 港元 wins over 元
    ("人民币", "CNY"), ("美元", "USD"), ("美金", "USD"), ("USD", "USD"), ("US$", "USD"), ("$", "USD"),
    ("欧元", "EUR"), ("EUR", "EUR"), ("€", "EUR"), ("港元", "HKD"), ("港币", "HKD"), ("HKD", "HKD"),
    ("日元", "JPY"), ("JPY", "JPY"), ("英镑", "GBP"), ("GBP", "GBP"), ("新台币", "TWD"), ("台币", "TWD"),
    ("韩元", "KRW"), ("新加坡元", "SGD"), ("瑞士法郎", "CHF"), ("澳元", "AUD"), ("加元", "CAD"),
    ("澳门元", "MOP"), ("CNY", "CNY"), ("RMB", "CNY"), ("¥", "CNY"), ("￥", "CNY"), ("元", "CNY"),
)
_UNITS = {"亿": 100_000_000, "千万": 10_000_000, "百万": 1_000_000, "万": 10_000, "千": 1_000, "百": 100}
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


class MoneyError(ValueError):
    """Text that is not an amount of money; the message says why, in Chinese."""


@dataclass(frozen=True)
class Money:
    amount: int  # whole units of `currency`
    currency: str  # ISO 4217
    amount_yuan: int  # converted to CNY with CNY_PER_UNIT, for comparison across currencies


def parse_money(text: object, default_multiplier: int = 1, default_currency: str = "CNY") -> Money:
    """'1000万人民币', '500万美元', '1.2亿元', '1,000.5 万元', 3500000 → integer amount and currency.

    default_multiplier applies when the text names no unit (e.g. the column header said "注册资本(万元)").
    """
    if isinstance(text, bool) or text is None:
        raise MoneyError("金额为空")
    if isinstance(text, float):
        raw = format(Decimal(repr(text)), "f")  # repr keeps every digit the cell holds; "%f" would cut at 6
    elif isinstance(text, int):
        raw = str(text)
    else:
        raw = unicodedata.normalize("NFKC", str(text)).strip()
    s = raw.replace(",", "").replace(" ", "").replace("约", "").replace("（", "(").replace("）", ")")
    currency = None
    for word, code in _CURRENCY_WORDS:  # "100万元人民币" names the currency twice
        if word in s:
            currency = currency or code
            s = s.replace(word, "")
    s = s.replace("(", "").replace(")", "")
    match = _NUMBER.search(s)
    if match is None:
        raise MoneyError(f"“{raw}”不是金额：没有数字")
    rest = (s[: match.start()] + s[match.end():]).strip()
    # A bare number takes the header's unit; "1000元" names its own unit even under a "(万元)" header.
    multiplier = default_multiplier if currency is None else 1
    if rest:
        if rest not in _UNITS:
            raise MoneyError(f"“{raw}”不是可识别的金额：无法理解“{rest}”")
        multiplier = _UNITS[rest]
    try:
        amount = Decimal(match.group()) * multiplier
    except InvalidOperation as exc:  # pragma: no cover - the regex only lets numbers through
        raise MoneyError(f"“{raw}”不是金额") from exc
    if amount < 0:
        raise MoneyError(f"“{raw}”是负数，金额不能为负")
    currency = currency or default_currency
    whole = int(amount.to_integral_value())
    return Money(amount=whole, currency=currency, amount_yuan=int(round(whole * CNY_PER_UNIT.get(currency, 1.0))))

"""Money at the edge: stored as integer yuan, shown the way leaders read it (亿元 / 万元)."""

from __future__ import annotations

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

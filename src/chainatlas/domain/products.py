"""A products cell as firms' files write it: product lines, each with its revenue share where one is given.

One reading for every path — the import stores these lines with their shares, and `classify` reads a cell the
same way — so a firm placed from the database and from its file gets the same evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ITEM_SPLIT = re.compile(r"[;；、，,\n|]+")
# "动力电池:0.82", "动力电池：82%", "动力电池(82%)", "动力电池 82%"; a bare trailing number is part of the name. A
# share may be negative: annual-report extracts list eliminations ("分部间抵销:-0.000008"), read as share 0 — a
# placeholder, like the 0.000 and 0.001 lines beside them, never a line of unknown share.
_SHARE = re.compile(r"^(.+?)\s*(?:[:：]\s*(-?\d+(?:\.\d+)?)\s*(%?)|[(（]\s*(-?\d+(?:\.\d+)?)\s*%\s*[)）]|\s(-?\d+(?:\.\d+)?)%)$")
_SHARE_MARK = re.compile("[:：(（%]")


def parse_products(text: str) -> list[tuple[str, float | None]]:
    """'动力电池:0.82；储能系统(6%)、BMS' → [('动力电池', 0.82), ('储能系统', 0.06), ('BMS', None)]; a negative share
    reads as 0.0 ('内部抵销:-0.04' → ('内部抵销', 0.0))."""
    # Every share spelling has one of these characters; most cells have none, and then no line needs the regex.
    shares = _SHARE_MARK.search(text or "") is not None
    return [line for item in _ITEM_SPLIT.split(text or "") if (line := _line(item, shares)) is not None]


def parse_product_cells(cells: Iterable[str]) -> list[list[tuple[str, float | None]]]:
    """`parse_products` of each cell, each distinct line read once: where a registry's cells hardly repeat, their
    lines ("动力电池:0.82") still do. A line reads the same in every cell (a share spelling needs a share mark
    in the line itself), so one reading serves them all."""
    known: dict[str, object] = {}
    out = []
    for text in cells:
        lines = []
        for item in _ITEM_SPLIT.split(text):
            line = known.get(item, _UNREAD)
            if line is _UNREAD:
                line = known[item] = _line(item, True)
            if line is not None:
                lines.append(line)
        out.append(lines)
    return out


_UNREAD = object()  # `parse_product_cells`: a line not read yet


def _line(item: str, shares: bool) -> tuple[str, float | None] | None:
    """One product line (None for a blank one); shares: whether its cell has a share mark at all."""
    item = item.strip()
    if not item:
        return None
    m = _SHARE.match(item) if shares else None
    if not m:
        return item, None
    number = m.group(2) or m.group(4) or m.group(5)
    share = float(number)
    if m.group(3) or m.group(4) or m.group(5) or share > 1:
        share /= 100
    return m.group(1), min(max(share, 0.0), 1.0)

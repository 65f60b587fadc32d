"""A products cell as firms' files write it: product lines, each with its revenue share where one is given.

One reading for every path — the import stores these lines with their shares, and `classify` reads a cell the
same way — so a firm placed from the database and from its file gets the same evidence.
"""

from __future__ import annotations

import re

_ITEM_SPLIT = re.compile(r"[;；、，,\n|]+")
# "动力电池:0.82", "动力电池：82%", "动力电池(82%)", "动力电池 82%"; a bare trailing number is part of the name.
_SHARE = re.compile(r"^(.+?)\s*(?:[:：]\s*(\d+(?:\.\d+)?)\s*(%?)|[(（]\s*(\d+(?:\.\d+)?)\s*%\s*[)）]|\s(\d+(?:\.\d+)?)%)$")
_SHARE_MARK = re.compile("[:：(（%]")


def parse_products(text: str) -> list[tuple[str, float | None]]:
    """'动力电池:0.82；储能系统(6%)、BMS' → [('动力电池', 0.82), ('储能系统', 0.06), ('BMS', None)]."""
    out: list[tuple[str, float | None]] = []
    # Every share spelling has one of these characters; most cells have none, and then no line needs the regex.
    shares = _SHARE_MARK.search(text or "") is not None
    for item in _ITEM_SPLIT.split(text or ""):
        item = item.strip()
        if not item:
            continue
        m = _SHARE.match(item) if shares else None
        if not m:
            out.append((item, None))
            continue
        number = m.group(2) or m.group(4) or m.group(5)
        share = float(number)
        if m.group(3) or m.group(4) or m.group(5) or share > 1:
            share /= 100
        out.append((m.group(1), min(share, 1.0)))
    return out

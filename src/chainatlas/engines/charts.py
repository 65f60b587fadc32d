"""Small static charts as inline SVG (for printed briefs: no JavaScript, the Chinese font named explicitly)."""

from __future__ import annotations

import math

from dataclasses import dataclass
from html import escape

from chainatlas.engines.wall_layout import FONT_FAMILY

INK, GRID, GOOD, BAD, TARGET = "#222222", "#d0d0d0", "#2e7d32", "#c62828", "#1f4e79"


@dataclass
class Progress:
    label: str
    pct: float | None  # completion, % of the year's target
    time_pct: float  # share of the year gone, % (the 时序 line)
    note: str  # e.g. "9 / 15 个"


def _svg(width: float, height: float, body: list[str]) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}pt' height='{height:.0f}pt' "
        f"viewBox='0 0 {width:.0f} {height:.0f}' font-family='{FONT_FAMILY}' font-size='9'>" + "".join(body) + "</svg>"
    )


def progress_bars(items: list[Progress], width: float = 480) -> str:
    """One bar per measure: completion against 100 % of target, with a dashed line where time says it should be."""
    label_w, note_w, row_h = 120.0, 110.0, 22.0
    bar_w = width - label_w - note_w
    height = row_h * len(items) + 22
    body: list[str] = []
    for pct in (0, 50, 100):
        x = label_w + bar_w * pct / 100
        body.append(f"<line x1='{x:.1f}' y1='4' x2='{x:.1f}' y2='{height - 16:.1f}' stroke='{GRID}'/>")
        body.append(f"<text x='{x:.1f}' y='{height - 4:.1f}' text-anchor='middle' fill='{INK}'>{pct}%</text>")
    for i, item in enumerate(items):
        y = 6 + i * row_h
        body.append(f"<text x='{label_w - 6:.1f}' y='{y + 12:.1f}' text-anchor='end' fill='{INK}'>{escape(item.label)}</text>")
        body.append(f"<rect x='{label_w:.1f}' y='{y + 2:.1f}' width='{bar_w:.1f}' height='13' fill='#f0f0f0'/>")
        if item.pct is not None:
            ok = item.pct >= item.time_pct
            w = bar_w * min(item.pct, 100) / 100
            body.append(f"<rect x='{label_w:.1f}' y='{y + 2:.1f}' width='{w:.1f}' height='13' fill='{GOOD if ok else BAD}'/>")
            # A long bar carries its figure inside, so it never runs into the note column.
            inside = item.pct >= 80
            body.append(f"<text x='{label_w + w + (-3 if inside else 3):.1f}' y='{y + 12:.1f}' "
                        f"text-anchor='{'end' if inside else 'start'}' fill='{'#ffffff' if inside else INK}'>"
                        f"{item.pct:.0f}%</text>")
        tx = label_w + bar_w * min(item.time_pct, 100) / 100
        body.append(f"<line x1='{tx:.1f}' y1='{y:.1f}' x2='{tx:.1f}' y2='{y + 17:.1f}' stroke='{TARGET}' "
                    "stroke-width='1.5' stroke-dasharray='3 2'/>")
        body.append(f"<text x='{width - note_w + 6:.1f}' y='{y + 12:.1f}' fill='{INK}'>{escape(item.note)}</text>")
    return _svg(width, height, body)


def monthly_columns(values: list[float], target: float | None, months_done: int, unit: str, width: float = 480,
                    whole: bool = False) -> str:
    """Columns of each month's amount, a line of the cumulative total and, dashed, the even path to the target.
    `whole`: the values count things (projects), so the gridlines at half and full scale are whole numbers."""
    height, left, bottom, top = 180.0, 40.0, 22.0, 20.0
    plot_w, plot_h = width - left - 10, height - bottom - top
    cumulative, total = [], 0.0
    for v in values:
        total += v
        cumulative.append(total)
    scale_max = max([*cumulative, target or 0, 1.0])
    if whole:  # one signed project drew a gridline at 0.5 个
        scale_max = 2.0 * math.ceil(scale_max / 2)
    step = plot_w / 12

    def y_of(v: float) -> float:
        return top + plot_h * (1 - v / scale_max)

    body = [f"<line x1='{left}' y1='{y_of(0):.1f}' x2='{width - 10:.1f}' y2='{y_of(0):.1f}' stroke='{INK}'/>"]
    for frac in (0.5, 1.0):
        v = scale_max * frac
        body.append(f"<line x1='{left}' y1='{y_of(v):.1f}' x2='{width - 10:.1f}' y2='{y_of(v):.1f}' stroke='{GRID}'/>")
        body.append(f"<text x='{left - 4}' y='{y_of(v) + 3:.1f}' text-anchor='end' fill='{INK}'>{v:,.4g}</text>")
    body.append(f"<text x='4' y='10' fill='{INK}'>{escape(unit)}</text>")
    for i, v in enumerate(values):
        x = left + i * step
        if v > 0:
            body.append(f"<rect x='{x + step * 0.2:.1f}' y='{y_of(v):.1f}' width='{step * 0.6:.1f}' "
                        f"height='{y_of(0) - y_of(v):.1f}' fill='#90caf9'/>")
        body.append(f"<text x='{x + step / 2:.1f}' y='{height - 8:.1f}' text-anchor='middle' fill='{INK}'>{i + 1}月</text>")
    points = " ".join(f"{left + (i + 0.5) * step:.1f},{y_of(c):.1f}" for i, c in enumerate(cumulative[:months_done]))
    if points:
        body.append(f"<polyline points='{points}' fill='none' stroke='{GOOD}' stroke-width='2'/>")
    if target:
        body.append(f"<line x1='{left}' y1='{y_of(0):.1f}' x2='{left + 12 * step:.1f}' y2='{y_of(target):.1f}' "
                    f"stroke='{TARGET}' stroke-dasharray='4 3'/>")
    return _svg(width, height, body)

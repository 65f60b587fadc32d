"""Wall-chart layout: where every box and every line of text goes, in points, before anything is drawn.

The layout is computed here (not left to a browser engine) so that tests can prove what a printed chart needs:
no text overlaps other text, nothing leaves the paper, and no text is smaller than the minimum for the paper size.
Text is measured with the metrics of the font that will be embedded (WenQuanYi Micro Hei), so the renderer only
places lines that were already broken here; it never re-flows them.

Shape of the chart: a title block, then one band per stage (上游 / 中游 / 下游); inside a band the segments are
boxes packed into columns (shortest column first). A segment box lists its own firms, then its sub-nodes as
nested boxes. Every node shows at most `cap` firms; `cap` is the largest number that lets the main sheet fit.
The firms beyond the cap continue on further sheets (续表), grouped by node, in newspaper columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from chainatlas.engines.fonts import FONT_FAMILY, font_path

__all__ = ["FONT_FAMILY", "font_path"]  # the font is chosen in engines/fonts.py; renderers import it from here too
LINE = 1.3  # line box / font size; the font's ascent+descent is 1.17 em, so glyphs never leave their line box

# ISO 216 portrait sizes in points (mm × 72 / 25.4); the PDF renderer uses the exact CSS sizes of the same name.
PAPER: dict[str, tuple[float, float]] = {
    "A0": (2383.94, 3370.39),
    "A1": (1683.78, 2383.94),
    "A2": (1190.55, 1683.78),
    "A3": (841.89, 1190.55),
}


@dataclass(frozen=True)
class TypeScale:
    """Type sizes (pt) for one paper size.

    The smallest text on a sheet is a firm name. Rule of thumb for print legibility: character height at least
    1/250 of the reading distance. An A0/A1 wall chart is read standing at about 0.8–1 m → 3.2–4 mm → 9–11 pt
    (A0 uses 10 pt, A1 9 pt, an A2 poster 8 pt); node headings and stage bands are larger so they read from
    2–3 m. An A3 sheet is a desk handout read at about 0.5 m → 2 mm → 7 pt, about the smallest size at which
    the strokes of a 黑体 face stay apart. No A4: fifty node boxes with their targets do not fit legibly (the
    monthly brief is the A4 product).
    When a sheet has room to spare, all of these grow together (see layout_wallchart).
    """

    firm: float
    node: float
    segment: float
    stage: float
    title: float
    subtitle: float
    margin: float
    columns: int


SCALES: dict[str, TypeScale] = {
    "A0": TypeScale(firm=10, node=13, segment=16, stage=30, title=64, subtitle=20, margin=48, columns=6),
    "A1": TypeScale(firm=9, node=11, segment=13, stage=22, title=44, subtitle=15, margin=36, columns=5),
    "A2": TypeScale(firm=8, node=10, segment=11, stage=18, title=32, subtitle=12, margin=28, columns=4),
    "A3": TypeScale(firm=7, node=8, segment=9, stage=13, title=22, subtitle=9, margin=22, columns=3),
}

VERDICTS = ("强", "较强", "弱", "样本不足", "缺", "未知")
VERDICT_FILL = {"强": "#1b7837", "较强": "#7fbf7b", "弱": "#f1a340", "样本不足": "#e9d8a6", "缺": "#d73027", "未知": "#9e9e9e"}
VERDICT_INK = {"强": "#ffffff", "较强": "#102a12", "弱": "#2b1a00", "样本不足": "#2b1a00", "缺": "#ffffff", "未知": "#ffffff"}
VERDICT_MEANING = {"强": "强", "较强": "较强", "弱": "弱", "样本不足": "样本少 = 样本不足（本区企业太少）", "缺": "缺（本区无企业）", "未知": "未知（数据不足）"}
VERDICT_ON_BOX = {"样本不足": "样本少"}  # a box's corner is narrow: the long word would cut the node's name
STAGE_FILL = {"upstream": "#1f4e79", "midstream": "#2e6b30", "downstream": "#7a3b10"}
GAP_STROKE = "#c00000"
LEADER_BG = "#ffe08a"
MARK_LEADER, MARK_LISTED, MARK_DESIGNATED = "★", "▲", "◆"
MIN_CAP_ON_ONE_SHEET = 6
MAX_ZOOM = 2.5  # largest enlargement of all type when a sheet has room to spare
PAGE_PLACEHOLDER = "第 99/99 张"  # below this many firms per node, give each stage band its own main sheet


# ---------------------------------------------------------------- input


@dataclass
class WallFirm:
    label: str  # what is printed (abbreviated)
    full_name: str
    leader: bool = False
    listed: bool = False
    designated: bool = False

    def marks(self) -> str:
        return (MARK_LEADER if self.leader else "") + (MARK_LISTED if self.listed else "") + (
            MARK_DESIGNATED if self.designated else ""
        )


@dataclass
class WallTarget:
    label: str
    city: str = ""
    score: float | None = None


@dataclass
class WallNode:
    id: str
    name_zh: str
    stage: str
    verdict: str
    firm_count: int
    firms: list[WallFirm] = field(default_factory=list)  # in print order, firms of this node only
    core: bool = False
    stats: str = ""  # one short line of numbers, e.g. "注册资本 35.20亿元 · LQ 1.32"
    gap_type: str | None = None  # 补链 / 强链 / 延链 when the node is a gap
    targets: list[WallTarget] = field(default_factory=list)
    children: list[WallNode] = field(default_factory=list)

    def walk(self) -> Iterable[WallNode]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class WallSpec:
    title: str
    subtitle: str
    sources: str
    stages: list[tuple[str, str]]  # (stage id, 上游)
    segments: list[WallNode]  # top-level nodes, each with .stage
    demo: bool = False
    footer: str = ""  # e.g. "ChainAtlas 链图 · 生成于 2026-11-26"
    sites: str = ""  # the 载体 panel: available land, factories and offices by park ('' when the zone keeps none)

    def nodes(self) -> Iterable[WallNode]:
        for segment in self.segments:
            yield from segment.walk()


# ---------------------------------------------------------------- output


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float
    kind: str  # band / stage-bar / segment / node / header / targets / swatch / banner
    fill: str = "none"
    stroke: str = "none"
    stroke_width: float = 0.0
    dash: bool = False


@dataclass
class Text:
    x: float
    y: float  # top of the line box
    w: float
    h: float
    text: str
    size: float
    kind: str  # title / subtitle / stage / segment / node / count / stats / firm / leader / more / target / legend …
    color: str = "#222222"
    bold: bool = False
    bg: str | None = None


@dataclass
class Sheet:
    label: str  # 主图 / 主图（中游） / 续表1 …
    boxes: list[Box] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)


@dataclass
class WallLayout:
    paper: str
    width: float
    height: float
    min_font: float
    cap: int  # firms shown per node on the main sheet(s)
    sheets: list[Sheet]
    continued: dict[str, int]  # node id → firms moved to 续表


class WallChartTooDense(ValueError):
    pass


# ---------------------------------------------------------------- text measurement


class Metrics:
    """Advance widths of the embedded font, so line breaks here are the line breaks on paper."""

    def __init__(self, path: str | None = None) -> None:
        from fontTools.ttLib import TTCollection  # only here: layout tests without the font skip cleanly

        font = TTCollection(path or font_path()).fonts[0]
        self._cmap = font.getBestCmap()
        self._hmtx = font["hmtx"].metrics
        self._upm = font["head"].unitsPerEm
        self._em: dict[str, float] = {}

    def em(self, text: str) -> float:
        total = 0.0
        for ch in text:
            w = self._em.get(ch)
            if w is None:
                glyph = self._cmap.get(ord(ch))
                w = self._hmtx[glyph][0] / self._upm if glyph else 1.0
                self._em[ch] = w
            total += w
        return total

    def width(self, text: str, size: float) -> float:
        return self.em(text) * size

    def fit(self, text: str, size: float, width: float) -> str:
        """The text, cut with … so it fits the width."""
        if self.width(text, size) <= width:
            return text
        out = text
        while out and self.width(out + "…", size) > width:
            out = out[:-1]
        return out + "…" if out else ""

    def wrap(self, text: str | Sequence[str], size: float, width: float) -> list[str]:
        """Break between characters (Chinese has no spaces), or between the given unbreakable pieces."""
        lines, current = [], ""
        for piece in text:
            if current and self.width(current + piece, size) > width:
                lines.append(current)
                current = piece.lstrip()
            else:
                current += piece
        return lines + [current] if current else lines


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    return Metrics()


# ---------------------------------------------------------------- layout


class _Canvas:
    def __init__(self, label: str) -> None:
        self.sheet = Sheet(label)

    def box(self, box: Box, at: int | None = None) -> None:
        if at is None:
            self.sheet.boxes.append(box)
        else:
            self.sheet.boxes.insert(at, box)

    def text(self, x: float, y: float, text: str, size: float, kind: str, **style: object) -> Text:
        t = Text(x, y, metrics().width(text, size), size * LINE, text, size, kind, **style)  # type: ignore[arg-type]
        self.sheet.texts.append(t)
        return t


class _Planner:
    def __init__(self, spec: WallSpec, paper: str, zoom: float = 1.0) -> None:
        if paper not in PAPER:
            raise ValueError(f"不支持的纸张规格“{paper}”；可选：{'、'.join(PAPER)}")
        self.spec, self.paper = spec, paper
        base = SCALES[paper]
        self.s = replace(
            base, firm=base.firm * zoom, node=base.node * zoom, segment=base.segment * zoom, stage=base.stage * zoom,
            subtitle=base.subtitle * zoom,  # the title is large enough as it is; zooming it only wraps it
        )
        self.W, self.H = PAPER[paper]
        self.m = metrics()
        self.pad = self.s.firm * 0.5
        self.gutter = self.s.firm * 1.2
        self.token_gap = self.s.firm * 0.9

    # --- one node box (recursive) ---------------------------------------------------------------

    def node_block(
        self, cv: _Canvas, node: WallNode, x: float, y: float, w: float, cap: int,
        notes: dict[str, str], overflow: dict[str, list[WallFirm]], depth: int = 0,
    ) -> float:
        s, m = self.s, self.m
        at = len(cv.sheet.boxes)
        gap = node.gap_type is not None
        stroke_w = (2.5 if gap else 1.0) * s.firm / 10
        pad = self.pad + (stroke_w if gap else 0.0)  # keep text clear of the thick dashed border of a gap
        size = s.segment if depth == 0 else s.node
        ink, fill = VERDICT_INK[node.verdict], VERDICT_FILL[node.verdict]
        right = f"{VERDICT_ON_BOX.get(node.verdict, node.verdict)} · {node.firm_count}家"
        rw = m.width(right, s.node)
        # A long node name takes a second (or third) line rather than being cut: the name is what people look for.
        # （核心） moves as one piece, so a line never starts with its closing bracket.
        lines = m.wrap([*node.name_zh, *(["（核心）"] if node.core else [])], size, w - 3 * pad - rw)
        if len(lines) > 3:
            lines = [*lines[:2], m.fit("".join(lines[2:]), size, w - 3 * pad - rw)]
        head_h = len(lines) * size * LINE + self.pad
        cv.box(Box(x, y, w, head_h, "header", fill=fill))
        cv.text(x + w - pad - rw, y + self.pad / 2 + (size - s.node) * LINE / 2, right, s.node, "count", color=ink)
        for i, line in enumerate(lines):
            cv.text(x + pad, y + self.pad / 2 + i * size * LINE, line, size, "segment" if depth == 0 else "node",
                    color=ink, bold=True)
        cy = y + head_h + self.pad / 2
        inner = w - 2 * pad
        if node.stats and node.firm_count:
            cv.text(x + pad, cy, m.fit(node.stats, s.firm, inner), s.firm, "stats", color="#555555")
            cy += s.firm * LINE
        shown = node.firms[:cap]
        cy = self.flow_firms(cv, shown, x + pad, cy, inner)
        if len(node.firms) > cap:
            overflow[node.id] = node.firms[cap:]
            note = notes.get(node.id, f"…另 {len(node.firms) - cap} 家见续表99")
            cv.text(x + pad, cy, m.fit(note, s.firm, inner), s.firm, "more", color="#555555")
            cy += s.firm * LINE
        elif not node.firms and not node.children:
            cv.text(x + pad, cy, "（本区暂无企业）", s.firm, "empty", color="#888888")
            cy += s.firm * LINE
        if node.gap_type:
            cy = self.targets_panel(cv, node, x + pad, cy + self.pad / 2, inner)
        for child in node.children:
            cy += self.pad / 2
            cy += self.node_block(cv, child, x + pad, cy, inner, cap, notes, overflow, depth + 1)
        h = cy + pad / 2 - y
        cv.box(
            Box(x, y, w, h, "segment" if depth == 0 else "node", fill="#ffffff",
                stroke=GAP_STROKE if gap else fill, stroke_width=stroke_w, dash=gap),
            at=at,
        )
        return h

    def flow_firms(self, cv: _Canvas, firms: Sequence[WallFirm], x0: float, y: float, width: float) -> float:
        """Firm names as tokens, several to a line; a token never breaks, a too-long one is cut with …."""
        size, lh = self.s.firm, self.s.firm * LINE
        cx = x0
        if not firms:
            return y
        for firm in firms:
            label = self.m.fit(firm.marks() + firm.label, size, width)
            tw = self.m.width(label, size)
            if cx > x0 and cx + tw > x0 + width:
                cx, y = x0, y + lh
            if firm.leader:
                cv.text(cx, y, label, size, "leader", bold=True, bg=LEADER_BG, color="#7a0000")
            else:
                cv.text(cx, y, label, size, "firm")
            cx += tw + self.token_gap
        return y + lh

    def targets_panel(self, cv: _Canvas, node: WallNode, x: float, y: float, w: float) -> float:
        s, pad = self.s, self.pad / 2
        at = len(cv.sheet.boxes)
        cy = y + pad
        cv.text(x + pad, cy, self.m.fit(f"{node.gap_type} · 招商目标", s.firm, w - 2 * pad), s.firm, "target-head",
                color=GAP_STROKE, bold=True)
        cy += s.firm * LINE
        lines = [
            f"{i}. {t.label}" + (f"（{t.city}）" if t.city else "") + (f" {t.score:.0f}分" if t.score is not None else "")
            for i, t in enumerate(node.targets, 1)
        ] or ["（暂无推荐目标）"]
        for line in lines:
            cv.text(x + pad, cy, self.m.fit(line, s.firm, w - 2 * pad), s.firm, "target", color="#5a0000")
            cy += s.firm * LINE
        cv.box(Box(x, y, w, cy + pad - y, "targets", fill="#fdecea"), at=at)
        return cy + pad

    # --- sheets ------------------------------------------------------------------------------------

    def header(self, cv: _Canvas, title: str, subtitle: str, big: bool) -> float:
        s, m = self.s, self.m
        x, y, width = s.margin, s.margin, self.W - 2 * s.margin
        tsize = s.title if big else s.subtitle * 1.4
        banner = "演示数据 · 非真实统计" if self.spec.demo else ""
        bw = m.width(banner, tsize * 0.6) + 2 * self.pad if banner else 0
        if banner:
            bh = tsize * 0.6 * LINE + self.pad
            cv.box(Box(x + width - bw, y, bw, bh, "banner", fill="#ffffff", stroke=GAP_STROKE,
                       stroke_width=2 * s.firm / 10))
            cv.text(x + width - bw + self.pad, y + self.pad / 2, banner, tsize * 0.6, "demo", color=GAP_STROKE,
                    bold=True)
        for line in m.wrap(title, tsize, width - bw - self.gutter):
            cv.text(x, y, line, tsize, "title", bold=True, color="#111111")
            y += tsize * LINE
        for line in m.wrap(subtitle, s.subtitle, width):
            cv.text(x, y, line, s.subtitle, "subtitle", color="#333333")
            y += s.subtitle * LINE
        return y + self.gutter

    def legend(self, cv: _Canvas, bottom: float, page_note: str, full: bool) -> float:
        """Legend, sources and page note, laid out upwards from `bottom`; returns the top of the footer."""
        s, m = self.s, self.m
        x, width, size = s.margin, self.W - 2 * s.margin, s.firm
        lh = size * LINE
        items: list[tuple[str | None, str, bool]] = []  # (swatch colour, label, dashed)
        if full:
            items += [(VERDICT_FILL[v], VERDICT_MEANING[v], False) for v in VERDICTS]
            items.append((GAP_STROKE, "红色虚线框＝缺口节点（附招商目标）", True))
        items += [(None, f"{MARK_LEADER}链主企业（黄底）", False), (None, f"{MARK_LISTED}上市企业", False),
                  (None, f"{MARK_DESIGNATED}专精特新/高新等认定企业", False)]
        sites = m.wrap(self.spec.sites, size, width) if self.spec.sites else []
        sources = m.wrap(self.spec.sources, size, width)
        # The right end of the last footer line is kept for the sheet number, filled in once all sheets exist.
        reserve = m.width(PAGE_PLACEHOLDER, size) + size
        footer = m.wrap(f"{self.spec.footer}　{page_note}".strip(), size, width - reserve) or [""]
        rows: list[list[tuple[str | None, str, bool]]] = [[]]
        cx = 0.0
        for item in items:
            iw = (size * 1.6 if item[0] else 0) + m.width(item[1], size) + size * 1.5
            if cx and cx + iw > width:
                rows.append([])
                cx = 0.0
            rows[-1].append(item)
            cx += iw
        total = (len(rows) + len(sites) + len(sources) + len(footer)) * lh + self.pad
        y = bottom - total
        top = y
        cv.box(Box(x, y - self.pad / 2, width, 0.6 * s.firm / 10, "rule", fill="#444444"))
        y += self.pad
        legend_x = x + m.width("图例：", size)
        for row in rows:
            if row is rows[0]:
                cv.text(x, y, "图例：", size, "legend", bold=True)
            cx = legend_x
            for colour, label, dashed in row:
                if colour:
                    cv.box(Box(cx, y + 0.15 * lh, size * 1.2, 0.7 * lh, "swatch",
                               fill="#ffffff" if dashed else colour, stroke=colour if dashed else "none",
                               stroke_width=1.5 * s.firm / 10 if dashed else 0, dash=dashed))
                    cx += size * 1.6
                t = cv.text(cx, y, label, size, "legend", bg=LEADER_BG if label.startswith(MARK_LEADER) else None)
                cx += t.w + size * 1.5
            y += lh
        for line in sites:
            cv.text(x, y, line, size, "sites", color="#1b5e3a")
            y += lh
        for line in sources:
            cv.text(x, y, line, size, "sources", color="#444444")
            y += lh
        for line in footer:
            if line:
                cv.text(x, y, line, size, "footer", color="#666666")
            y += lh
        cv.text(x + width - m.width(PAGE_PLACEHOLDER, size), y - lh, PAGE_PLACEHOLDER, size, "page", color="#666666")
        return top - self.pad

    def main_sheet(
        self, label: str, stage_ids: Sequence[str], cap: int, notes: dict[str, str], page_note: str
    ) -> tuple[Sheet, dict[str, list[WallFirm]]] | None:
        """One main sheet with the given stage bands, or None when it does not fit at this cap."""
        s, spec = self.s, self.spec
        cv = _Canvas(label)
        y = self.header(cv, spec.title, spec.subtitle, big=True)
        footer_top = self.legend(cv, self.H - s.margin, page_note, full=True)
        x, width = s.margin, self.W - 2 * s.margin
        col_w = (width - (s.columns - 1) * self.gutter) / s.columns
        overflow: dict[str, list[WallFirm]] = {}
        names = dict(spec.stages)
        for stage_id in stage_ids:
            segs = [n for n in spec.segments if n.stage == stage_id]
            bar_h = s.stage * LINE + self.pad
            count = sum(n.firm_count for n in segs)
            band_top = y
            band_at = len(cv.sheet.boxes)
            cv.box(Box(x, y, width, bar_h, "stage-bar", fill=STAGE_FILL.get(stage_id, "#333333")))
            cv.text(x + self.pad * 2, y + self.pad / 2, names.get(stage_id, stage_id), s.stage, "stage",
                    color="#ffffff", bold=True)
            info = f"{len(segs)} 个环节 · 本区企业 {count} 家次"
            iw = self.m.width(info, s.subtitle)
            cv.text(x + width - self.pad * 2 - iw, y + (bar_h - s.subtitle * LINE) / 2, info, s.subtitle,
                    "stage-info", color="#ffffff")
            cols = [y + bar_h + self.gutter] * s.columns
            for seg in segs:
                c = min(range(s.columns), key=lambda i: cols[i])
                cols[c] += self.node_block(cv, seg, x + c * (col_w + self.gutter), cols[c], col_w, cap,
                                           notes, overflow) + self.gutter
            y = max(cols)
            cv.box(Box(x, band_top, width, y - band_top, "band", fill="#f4f6f8"), at=band_at)
            y += self.gutter
            if y - self.gutter > footer_top:
                return None
        return cv.sheet, overflow

    def continuation(self, overflow: dict[str, list[WallFirm]], first_number: int) -> tuple[list[Sheet], dict[str, int]]:
        """Firms beyond the cap, node by node in newspaper columns; returns sheets and each node's first 续表 no."""
        s, m = self.s, self.m
        names = {n.id: n.name_zh for n in self.spec.nodes()}
        order = [n.id for n in self.spec.nodes() if n.id in overflow]
        width = self.W - 2 * s.margin
        col_w = (width - (s.columns - 1) * self.gutter) / s.columns
        lh = s.firm * LINE
        sheets: list[Sheet] = []
        starts: dict[str, int] = {}
        state: dict[str, float] = {}

        def new_sheet() -> None:
            number = first_number + len(sheets)
            cv = _Canvas(f"续表{number}")
            top = self.header(cv, f"{self.spec.title}（续表{number}）", "各节点超出主图篇幅的企业，按节点列出", big=False)
            bottom = self.legend(cv, self.H - s.margin, f"续表{number}", full=False)
            sheets.append(cv.sheet)
            state.update(col=0, y=top, top=top, bottom=bottom)
            canvases.append(cv)

        def next_column() -> None:
            state["col"] += 1
            state["y"] = state["top"]
            if state["col"] >= s.columns:
                new_sheet()

        canvases: list[_Canvas] = []
        new_sheet()
        for node_id in order:
            firms = overflow[node_id]
            i, first = 0, True
            while i < len(firms):
                if state["y"] + s.node * LINE + lh > state["bottom"]:
                    next_column()
                cv = canvases[-1]
                x = s.margin + state["col"] * (col_w + self.gutter)
                if first:
                    starts[node_id] = first_number + len(sheets) - 1
                head = f"{names[node_id]}（{'续' if first else '接上'}，{len(firms)} 家）"
                cv.box(Box(x, state["y"], col_w, s.node * LINE, "header", fill="#e8ecef"))
                cv.text(x + self.pad, state["y"], m.fit(head, s.node, col_w - 2 * self.pad), s.node, "node", bold=True)
                state["y"] += s.node * LINE + self.pad / 2
                first = False
                # fill lines until the column is full
                cx, line_y = x + self.pad, state["y"]
                while i < len(firms):
                    firm = firms[i]
                    label = m.fit(firm.marks() + firm.label, s.firm, col_w - 2 * self.pad)
                    tw = m.width(label, s.firm)
                    if cx > x + self.pad and cx + tw > x + col_w - self.pad:
                        cx, line_y = x + self.pad, line_y + lh
                    if line_y + lh > state["bottom"]:
                        break
                    kind = "leader" if firm.leader else "firm"
                    cv.text(cx, line_y, label, s.firm, kind, bold=firm.leader, bg=LEADER_BG if firm.leader else None)
                    cx += tw + self.token_gap
                    i += 1
                state["y"] = line_y + lh + self.gutter / 2
                if i < len(firms):
                    next_column()
        return sheets, starts


def layout_wallchart(spec: WallSpec, paper: str = "A0") -> WallLayout:
    """Lay out the main sheet(s) at the largest per-node cap that fits, then the 续表 sheets.

    When every firm fits on one sheet with room to spare, all type is enlarged (up to MAX_ZOOM) until the
    sheet is full: a zone with 90 firms should not hang a chart that is half empty paper.
    """
    stage_ids = [sid for sid, _ in spec.stages if any(n.stage == sid for n in spec.segments)]
    most = max((len(n.firms) for n in spec.nodes()), default=0)
    planner = _Planner(spec, paper, _largest_zoom(spec, paper, stage_ids, most))
    groupings = [[stage_ids], [[sid] for sid in stage_ids]]
    best: tuple[int, list[list[str]]] | None = None
    for grouping in groupings:
        cap = _largest_cap(planner, grouping, most)
        if cap is not None and (best is None or cap > best[0]):
            best = (cap, grouping)
        if cap is not None and cap >= min(MIN_CAP_ON_ONE_SHEET, most):
            break
    if best is None:
        raise WallChartTooDense(
            f"节点太多，{paper} 纸张在最小字号 {SCALES[paper].firm}pt 下放不下；请改用更大的纸张（A0）或拆分产业链。"
        )
    cap, grouping = best
    # Pass 1 at the chosen cap collects the overflow; the 续表 numbers then go into the notes of pass 2.
    overflow: dict[str, list[WallFirm]] = {}
    for group in grouping:
        placed = _place(planner, group, cap, {}, grouping)
        assert placed is not None
        overflow.update(placed[1])
    extra, starts = planner.continuation(overflow, 1) if overflow else ([], {})
    notes = {nid: f"…另 {len(firms)} 家见续表{starts[nid]}" for nid, firms in overflow.items()}
    sheets = []
    for group in grouping:
        placed = _place(planner, group, cap, notes, grouping)
        assert placed is not None
        sheets.append(placed[0])
    total = len(sheets) + len(extra)
    for i, sheet in enumerate(sheets + extra, 1):
        sheet.label = f"{sheet.label} · 第{i}/{total}张"
        for t in sheet.texts:
            if t.kind == "page":  # right-aligned in the space kept for the widest number
                t.text = f"第 {i}/{total} 张"
                right = t.x + t.w
                t.w = planner.m.width(t.text, t.size)
                t.x = right - t.w
    return WallLayout(
        paper=paper, width=planner.W, height=planner.H, min_font=SCALES[paper].firm, cap=cap,
        sheets=sheets + extra, continued={k: len(v) for k, v in overflow.items()},
    )


def _place(planner: _Planner, group: list[str], cap: int, notes: dict[str, str], grouping: list[list[str]]):
    names = dict(planner.spec.stages)
    label = "主图" if len(grouping) == 1 else f"主图（{names.get(group[0], group[0])}）"
    return planner.main_sheet(label, group, cap, notes, "")


def _largest_zoom(spec: WallSpec, paper: str, stage_ids: list[str], most: int) -> float:
    """The largest type zoom (1 … MAX_ZOOM, in steps of 0.05) at which everything fits on one uncut sheet."""

    def fits(zoom: float) -> bool:
        return _place(_Planner(spec, paper, zoom), stage_ids, most, {}, [stage_ids]) is not None

    if not fits(1.0):
        return 1.0
    lo, hi = 20, int(MAX_ZOOM * 20)  # in twentieths
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid / 20):
            lo = mid
        else:
            hi = mid - 1
    return lo / 20


def _largest_cap(planner: _Planner, grouping: list[list[str]], most: int) -> int | None:
    """Binary search: fitting is monotone in the cap (more firms shown never makes a box shorter)."""

    def fits(cap: int) -> bool:
        return all(_place(planner, group, cap, {}, grouping) is not None for group in grouping)

    if not fits(0):
        return None
    lo, hi = 0, most
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


# ---------------------------------------------------------------- checks (used by tests and the bench)


def overlaps(items: Sequence[Text | Box], eps: float = 0.01) -> list[tuple[int, int]]:
    """Index pairs of rectangles that overlap (sweep over x, so 10,000 texts check in milliseconds)."""
    order = sorted(range(len(items)), key=lambda i: items[i].x)
    active: list[int] = []
    found: list[tuple[int, int]] = []
    for i in order:
        a = items[i]
        active = [j for j in active if items[j].x + items[j].w > a.x + eps]
        for j in active:
            b = items[j]
            if a.y < b.y + b.h - eps and b.y < a.y + a.h - eps:
                found.append((j, i))
        active.append(i)
    return found


def problems(layout: WallLayout) -> list[str]:
    """Everything that would make a printed sheet wrong: overlapping text, text off the paper, type too small."""
    out: list[str] = []
    for sheet in layout.sheets:
        for a, b in overlaps(sheet.texts):
            out.append(f"{sheet.label}: “{sheet.texts[a].text}” 与 “{sheet.texts[b].text}” 重叠")
        segments = [b for b in sheet.boxes if b.kind == "segment"]
        for a, b in overlaps(segments):
            out.append(f"{sheet.label}: 环节框 {a} 与 {b} 重叠")
        for item in [*sheet.boxes, *sheet.texts]:
            if item.x < -0.01 or item.y < -0.01 or item.x + item.w > layout.width + 0.01 or (
                item.y + item.h > layout.height + 0.01
            ):
                out.append(f"{sheet.label}: {item.kind} 超出纸张")
        for t in sheet.texts:
            if t.size < layout.min_font:
                out.append(f"{sheet.label}: “{t.text}” 字号 {t.size}pt 小于 {layout.min_font}pt")
    return out

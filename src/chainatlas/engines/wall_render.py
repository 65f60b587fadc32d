"""Draw a computed wall-chart layout as PDF (one page per sheet) or as SVG (one document per sheet).

The PDF is written directly with pydyf (the PDF library under WeasyPrint) rather than through HTML: the layout
already fixes every line, so there is nothing for a browser engine to do, and drawing 2,000 firm names this way
takes a fraction of a second instead of several seconds of CSS layout. Page size is the exact ISO size in
points; the font is WenQuanYi Micro Hei, embedded as a subset (CIDFontType2, Identity-H) with a ToUnicode map so
the text can be searched, copied and extracted (pdftotext) from the printed file.
"""

from __future__ import annotations

import io
import random
import string
from html import escape

import pydyf
from fontTools import subset
from fontTools.ttLib import TTCollection

from chainatlas.engines.fonts import FONT_FAMILY, font_path
from chainatlas.engines.wall_layout import Box, Text, WallLayout

PS_NAME = "WenQuanYiMicroHei"
BASELINE = 1.0  # em below the top of a 1.3 em line box: half-leading 0.064 + ascent 0.937 (hhea 1918/2048)
FAUX_BOLD = 0.035  # stroke width in em for bold: the font has a single (regular) weight


def _rgb(colour: str) -> tuple[float, float, float]:
    c = colour.lstrip("#")
    return tuple(int(c[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


class _Font:
    """The embedded font cut down to the characters the layout uses, with their glyph ids and widths.

    The subset is made before any text is drawn, renumbering the glyphs: kept at their original ids
    (retain_gids) the program still held 46,560 empty glyph slots, and compiling them took most of the 2–3 s a
    wall chart PDF cost on the real database."""

    def __init__(self, chars: set[str]) -> None:
        font = TTCollection(font_path()).fonts[0]
        # Glyphs are placed one by one from the layout, so shaping tables are not needed: removed before the
        # subsetter decompiles them (reading GSUB alone cost over a second).
        for tag in ("GSUB", "GPOS", "GDEF", "FFTM"):
            if tag in font:
                del font[tag]
        options = subset.Options()
        options.hinting = False
        options.layout_features = []
        options.name_IDs = [1, 2, 3, 4, 6]
        options.notdef_outline = True
        sub = subset.Subsetter(options)
        sub.populate(unicodes=[ord(ch) for ch in chars])
        sub.subset(font)
        self.font = font
        self.cmap = font.getBestCmap()
        self.upm = font["head"].unitsPerEm
        self.hmtx = font["hmtx"].metrics
        self.used: dict[int, str] = {}  # gid → character (for ToUnicode)

    def encode(self, text: str) -> str:
        out = []
        for ch in text:
            glyph = self.cmap.get(ord(ch))
            gid = self.font.getGlyphID(glyph) if glyph else 0
            if gid:
                self.used.setdefault(gid, ch)
            out.append(f"{gid:04x}")
        return "<" + "".join(out) + ">"

    def objects(self, pdf: pydyf.PDF) -> pydyf.Dictionary:
        """Add the subset font program, descriptor, widths and ToUnicode map; return the Type0 font."""
        gids = sorted(self.used)
        widths = {g: self.hmtx[self.font.getGlyphOrder()[g]][0] * 1000 / self.upm for g in gids}
        buf = io.BytesIO()
        self.font.save(buf)
        program = pydyf.Stream([buf.getvalue()], {"Length1": len(buf.getvalue())}, compress=True)
        pdf.add_object(program)
        tag = "".join(random.Random(len(gids)).choice(string.ascii_uppercase) for _ in range(6))
        base = f"/{tag}+{PS_NAME}"
        head, hhea = self.font["head"], self.font["hhea"]
        scale = 1000 / self.upm
        descriptor = pydyf.Dictionary({
            "Type": "/FontDescriptor", "FontName": base, "Flags": 4,
            "FontBBox": pydyf.Array([round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)]),
            "ItalicAngle": 0, "Ascent": round(hhea.ascent * scale), "Descent": round(hhea.descent * scale),
            "CapHeight": round(hhea.ascent * scale), "StemV": 80, "FontFile2": program.reference,
        })
        pdf.add_object(descriptor)
        w = pydyf.Array()
        for g in gids:
            w.extend([g, pydyf.Array([round(widths[g])])])
        cid_font = pydyf.Dictionary({
            "Type": "/Font", "Subtype": "/CIDFontType2", "BaseFont": base,
            "CIDSystemInfo": pydyf.Dictionary({"Registry": pydyf.String("Adobe"), "Ordering": pydyf.String("Identity"),
                                               "Supplement": 0}),
            "FontDescriptor": descriptor.reference, "DW": 1000, "W": w, "CIDToGIDMap": "/Identity",
        })
        pdf.add_object(cid_font)
        to_unicode = pydyf.Stream([self._cmap(gids).encode("ascii")], compress=True)
        pdf.add_object(to_unicode)
        font = pydyf.Dictionary({
            "Type": "/Font", "Subtype": "/Type0", "BaseFont": base, "Encoding": "/Identity-H",
            "DescendantFonts": pydyf.Array([cid_font.reference]), "ToUnicode": to_unicode.reference,
        })
        pdf.add_object(font)
        return font

    def _cmap(self, gids: list[int]) -> str:
        lines = [
            "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
            "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange",
        ]
        for start in range(0, len(gids), 100):
            chunk = gids[start : start + 100]
            lines.append(f"{len(chunk)} beginbfchar")
            lines += [f"<{g:04x}> <{self.used[g].encode('utf-16-be').hex()}>" for g in chunk]
            lines.append("endbfchar")
        lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
        return "\n".join(lines)


def _box_ops(b: Box, height: float) -> list[str]:
    ops = []
    y = height - b.y - b.h
    if b.fill != "none":
        ops.append(f"{' '.join(_num(c) for c in _rgb(b.fill))} rg {_num(b.x)} {_num(y)} {_num(b.w)} {_num(b.h)} re f")
    if b.stroke != "none" and b.stroke_width > 0:
        sw = b.stroke_width
        dash = f"[{_num(sw * 3)} {_num(sw * 2)}] 0 d" if b.dash else "[] 0 d"
        # Inset by half the line width so the stroke stays inside the box, as a CSS border-box would.
        ops.append(f"{' '.join(_num(c) for c in _rgb(b.stroke))} RG {_num(sw)} w {dash} "
                   f"{_num(b.x + sw / 2)} {_num(y + sw / 2)} {_num(b.w - sw)} {_num(b.h - sw)} re S")
    return ops


def _text_ops(t: Text, height: float, font: _Font) -> list[str]:
    ops = []
    if t.bg:
        ops.append(f"{' '.join(_num(c) for c in _rgb(t.bg))} rg {_num(t.x)} {_num(height - t.y - t.h)} "
                   f"{_num(t.w)} {_num(t.h)} re f")
    rgb = " ".join(_num(c) for c in _rgb(t.color))
    mode = f"2 Tr {_num(t.size * FAUX_BOLD)} w {rgb} RG" if t.bold else "0 Tr"
    ops.append(f"BT /F1 {_num(t.size)} Tf {rgb} rg {mode} 1 0 0 1 {_num(t.x)} {_num(height - t.y - t.size * BASELINE)} "
               f"Tm {font.encode(t.text)} Tj ET")
    return ops


def layout_to_pdf(layout: WallLayout, title: str = "") -> bytes:
    pdf = pydyf.PDF()
    font = _Font({ch for sheet in layout.sheets for t in sheet.texts for ch in t.text})
    pages = []
    for sheet in layout.sheets:
        ops = ["[] 0 d"]
        for b in sheet.boxes:
            ops += _box_ops(b, layout.height)
        for t in sheet.texts:
            ops += _text_ops(t, layout.height, font)
        content = pydyf.Stream(ops, compress=True)
        pdf.add_object(content)
        pages.append(content)
    font_dict = font.objects(pdf)
    resources = pydyf.Dictionary({"Font": pydyf.Dictionary({"F1": font_dict.reference})})
    pdf.add_object(resources)
    media = pydyf.Array([0, 0, round(layout.width, 4), round(layout.height, 4)])
    for content in pages:
        pdf.add_page(pydyf.Dictionary({
            "Type": "/Page", "Parent": pdf.pages.reference, "MediaBox": media, "Resources": resources.reference,
            "Contents": content.reference,
        }))
    if title:
        pdf.info["Title"] = pydyf.String(title)
    pdf.info["Producer"] = pydyf.String("ChainAtlas")
    out = io.BytesIO()
    pdf.write(out)
    return out.getvalue()


def layout_to_svg(layout: WallLayout) -> list[str]:
    """One SVG per sheet, sized in millimetres so it prints at the paper size; the font named explicitly."""
    mm = 25.4 / 72
    out = []
    for sheet in layout.sheets:
        parts = [
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{layout.width * mm:.1f}mm' "
            f"height='{layout.height * mm:.1f}mm' viewBox='0 0 {layout.width:.2f} {layout.height:.2f}'>",
            f"<style>@font-face {{ font-family: '{FONT_FAMILY}'; src: local('{FONT_FAMILY}'), "
            f"url('file://{font_path()}'); }} text {{ font-family: '{FONT_FAMILY}'; white-space: pre; }}</style>",
            f"<title>{escape(sheet.label)}</title>",
            "<rect width='100%' height='100%' fill='#ffffff'/>",
        ]
        for b in sheet.boxes:
            sw = b.stroke_width if b.stroke != "none" else 0.0
            stroke = (f" stroke='{b.stroke}' stroke-width='{sw:.2f}'"
                      + (f" stroke-dasharray='{sw * 3:.1f} {sw * 2:.1f}'" if b.dash else "")) if sw else ""
            parts.append(f"<rect x='{b.x + sw / 2:.2f}' y='{b.y + sw / 2:.2f}' width='{b.w - sw:.2f}' "
                         f"height='{b.h - sw:.2f}' fill='{b.fill}'{stroke}/>")
        for t in sheet.texts:
            if t.bg:
                parts.append(f"<rect x='{t.x:.2f}' y='{t.y:.2f}' width='{t.w:.2f}' height='{t.h:.2f}' fill='{t.bg}'/>")
            weight = " font-weight='bold'" if t.bold else ""
            parts.append(f"<text x='{t.x:.2f}' y='{t.y + t.size * BASELINE:.2f}' font-size='{t.size:.2f}' "
                         f"fill='{t.color}'{weight}>{escape(t.text)}</text>")
        parts.append("</svg>")
        out.append("".join(parts))
    return out

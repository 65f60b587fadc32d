"""HTML → PDF with WeasyPrint, always in the embedded Chinese font (shared by the wall chart and the monthly brief).

The font is named explicitly and loaded from its file: a generic `sans-serif` can resolve to a font without Chinese
glyphs, and the printed sheet then shows empty boxes. WeasyPrint embeds the subset of WenQuanYi Micro Hei that the
page uses (the system's copy, else the one shipped with the package: engines/fonts.py).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from chainatlas.engines.fonts import FONT_FAMILY, FontMissing, font_path

__all__ = ["FontMissing", "esc", "font_css", "html_to_pdf"]


def font_css() -> str:
    return f"""
@font-face {{ font-family: "{FONT_FAMILY}"; src: url("file://{font_path()}"); }}
html, body {{ font-family: "{FONT_FAMILY}"; }}
"""


def html_to_pdf(html: str) -> bytes:
    font_path()  # a missing font is a clear error before WeasyPrint starts
    from weasyprint import HTML  # heavy import, only when a PDF is made

    return HTML(string=html, base_url=str(Path.cwd())).write_pdf()


def esc(text: object) -> str:
    return escape(str(text), quote=True)

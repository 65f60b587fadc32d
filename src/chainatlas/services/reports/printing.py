"""HTML → PDF with WeasyPrint, always in the embedded Chinese font (shared by the wall chart and the monthly brief).

The font is named explicitly: a generic `sans-serif` can resolve to a font without Chinese glyphs, and the
printed sheet then shows empty boxes. WeasyPrint embeds the subset of WenQuanYi Micro Hei that the page uses.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from chainatlas.engines.wall_layout import FONT_FAMILY, FONT_PATH


class FontMissing(RuntimeError):
    pass


def require_font() -> None:
    if not Path(FONT_PATH).exists():
        raise FontMissing(
            f"缺少中文字体 {FONT_FAMILY}（{FONT_PATH}）。请安装：apt-get install fonts-wqy-microhei，然后重试。"
        )


FONT_CSS = f"""
@font-face {{ font-family: "{FONT_FAMILY}"; src: url("file://{FONT_PATH}"); }}
html, body {{ font-family: "{FONT_FAMILY}"; }}
"""


def html_to_pdf(html: str) -> bytes:
    require_font()
    from weasyprint import HTML  # heavy import, only when a PDF is made

    return HTML(string=html, base_url=str(Path.cwd())).write_pdf()


def esc(text: object) -> str:
    return escape(str(text), quote=True)

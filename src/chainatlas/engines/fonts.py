"""The Chinese font of every printed page (wall chart, monthly brief): WenQuanYi Micro Hei (文泉驿微米黑).

The system's copy is used where fontconfig knows one (Debian: fonts-wqy-microhei); otherwise the copy shipped by
the PyPI package paperang-p2-fonts-cjk (a dependency; the same wqy-microhei.ttc, byte for byte), so the wall chart
and the brief work on a machine with no font package. The font's licence: Apache-2.0 or GPL-3.0 with the font
embedding exception (WenQuanYi project); embedding a subset in a PDF is allowed under either.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from importlib import resources
from pathlib import Path

FONT_FAMILY = "WenQuanYi Micro Hei"
BUNDLED_PACKAGE = "paperang_p2_fonts_cjk"


class FontMissing(RuntimeError):
    pass


def system_font() -> str | None:
    """The font file fontconfig has for the family, or None (no fontconfig, or the family is not installed)."""
    if shutil.which("fc-list") is None:
        return None
    try:
        out = subprocess.run(["fc-list", f"{FONT_FAMILY}:style=Regular", "file"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.strip().rstrip(":") for line in out.splitlines() if line.strip().endswith(".ttc:"))
    return next((f for f in files if Path(f).exists()), None)


def bundled_font() -> str | None:
    try:
        path = Path(str(resources.files(BUNDLED_PACKAGE) / "fonts" / "wqy-microhei.ttc"))
    except ModuleNotFoundError:
        return None
    return str(path) if path.exists() else None


@cache
def font_path() -> str:
    """The system font where present, else the bundled one; a Chinese error when neither can be found."""
    path = system_font() or bundled_font()
    if path is None:
        raise FontMissing(f"缺少中文字体 {FONT_FAMILY}：随软件安装的字体包 paperang-p2-fonts-cjk 不在，系统也未安装该字体。"
                          "请重新运行 pip install -e .（或 apt-get install fonts-wqy-microhei），然后重试。")
    return path

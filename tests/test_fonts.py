"""The printed pages on a machine without Chinese font packages: fontconfig sees no fonts, the bundled font is used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from chainatlas.engines.fonts import bundled_font


def _no_system_fonts(tmp_path: Path, db_url: str) -> dict[str, str]:
    """Environment in which fontconfig knows no font directory at all (as on a bare server)."""
    conf = tmp_path / "fonts.conf"
    conf.write_text("<?xml version='1.0'?>\n<!DOCTYPE fontconfig SYSTEM 'fonts.dtd'>\n"
                    f"<fontconfig><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>\n", encoding="utf-8")
    return dict(os.environ, FONTCONFIG_FILE=str(conf), FONTCONFIG_PATH=str(tmp_path),
                CHAINATLAS_DATABASE_URL=db_url, CHAINATLAS_HOME=str(tmp_path / "home"))


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_wall_chart_and_brief_render_with_no_system_fonts(demo_db_url: str, tmp_path: Path) -> None:
    env = _no_system_fonts(tmp_path, demo_db_url)
    assert bundled_font() and Path(bundled_font()).stat().st_size > 1_000_000
    chosen = _run([sys.executable, "-c", "from chainatlas.engines import fonts; "
                   "print(fonts.system_font()); print(fonts.font_path())"], env).split()
    assert chosen == ["None", bundled_font()]  # fontconfig hides the system copy; the package's is used

    cli = str(Path(sys.executable).with_name("chainatlas"))
    _run([cli, "wallchart", "--size", "A3", "--out", str(tmp_path / "wall.pdf")], env)
    _run([cli, "brief", "--out", str(tmp_path / "brief.pdf")], env)
    for name, words in (("wall.pdf", ("产业链企业分布图", "上游")), ("brief.pdf", ("招商月报", "年度目标完成情况"))):
        reader = PdfReader(tmp_path / name)
        fonts = {str(f.get_object()["/BaseFont"]) for p in reader.pages
                 for f in p["/Resources"].get_object().get("/Font", {}).values()}
        assert any("WenQuanYi" in f for f in fonts), (name, fonts)
        text = "".join(p.extract_text() for p in reader.pages[:2]).replace(" ", "").replace("\n", "")
        assert all(w in text for w in words), (name, text[:300])  # real Chinese glyphs, mapped back to text

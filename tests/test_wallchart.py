"""The wall chart: layout invariants (no overlaps, type size, 续表) and the printed artefact (page size, fonts, text)."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from chainatlas.domain.chain import load_chain
from chainatlas.engines import wall_layout as wl
from chainatlas.engines.wall_layout import (
    PAPER,
    SCALES,
    WallFirm,
    WallNode,
    WallSpec,
    WallTarget,
    layout_wallchart,
    overlaps,
    problems,
)

# The wall chart needs the CJK font (the system's, else the one the package ships): fail loudly, never skip.
assert Path(wl.font_path()).exists(), f"{wl.font_path()} missing"

SYLLABLES = "华中东风岚图光谷智能汽车电子新材料精密动力电池系统零部件制造科技星河长江楚天"


def synthetic_spec(n_firms: int, seed: int = 7) -> WallSpec:
    """The real chain file with `n_firms` generated firms spread unevenly over its nodes (a few nodes very full)."""
    rng = random.Random(seed)
    chain = load_chain("nev-icv")
    ids = list(chain.nodes)
    weights = [rng.random() ** 3 for _ in ids]
    firms: dict[str, list[WallFirm]] = {i: [] for i in ids}
    for k in range(n_firms):
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 9))) + f"{k}"
        firms[rng.choices(ids, weights)[0]].append(
            WallFirm(name, name + "有限公司", leader=rng.random() < 0.01, listed=rng.random() < 0.05,
                     designated=rng.random() < 0.1)
        )

    def node(n) -> WallNode:  # type: ignore[no-untyped-def]
        fs = firms[n.id]
        verdict = "缺" if not fs else rng.choice(["强", "较强", "弱", "未知"])
        gap = rng.choice(["补链", "延链"]) if verdict == "缺" else ("强链" if verdict == "弱" else None)
        return WallNode(n.id, n.name_zh, n.stage, verdict, len(fs), fs, core=n.core, stats="注册资本 12.30亿元 · LQ 1.20",
                        gap_type=gap, targets=[WallTarget("宁德时代新能源科技", "宁德", 87.0)] if gap else [],
                        children=[node(c) for c in chain.children(n.id)])

    return WallSpec(
        title="武汉经开区新能源与智能网联汽车产业链企业分布图", subtitle=f"测试 · {n_firms} 家",
        sources="数据来源　企业：程序生成（测试）", stages=[(s.id, s.name_zh) for s in chain.stages],
        segments=[node(s) for s in chain.segments()], demo=True, footer="ChainAtlas 链图 · 测试",
    )


def firm_tokens(layout: wl.WallLayout) -> list[str]:
    return [t.text for s in layout.sheets for t in s.texts if t.kind in ("firm", "leader")]


@pytest.mark.parametrize("paper", ["A0", "A1", "A2", "A3"])
def test_layout_has_no_overlaps_stays_on_paper_and_keeps_min_type(paper: str) -> None:
    spec = synthetic_spec(400)
    layout = layout_wallchart(spec, paper)
    assert problems(layout) == []
    assert layout.min_font == SCALES[paper].firm >= 7
    assert min(t.size for s in layout.sheets for t in s.texts) >= layout.min_font
    names = {t.text for s in layout.sheets for t in s.texts}
    assert {"上游", "中游", "下游"} <= names
    # Every firm is printed exactly once across the main sheet and the 续表 sheets.
    assert len(firm_tokens(layout)) == sum(len(n.firms) for n in spec.nodes())


def test_two_thousand_firms_fit_a0_without_overlap() -> None:
    spec = synthetic_spec(2200)
    layout = layout_wallchart(spec, "A0")
    assert problems(layout) == []
    assert len(firm_tokens(layout)) == 2200


def test_too_many_firms_continue_on_further_sheets() -> None:
    spec = synthetic_spec(2500)
    layout = layout_wallchart(spec, "A3")
    assert problems(layout) == []
    assert len(layout.sheets) > 2
    assert any(s.label.startswith("续表") for s in layout.sheets)
    on_continuation = [t for s in layout.sheets if s.label.startswith("续表") for t in s.texts if t.kind in ("firm", "leader")]
    assert layout.continued and sum(layout.continued.values()) == len(on_continuation)
    assert len(firm_tokens(layout)) == 2500
    n = len(layout.sheets)
    assert [next(t.text for t in s.texts if t.kind == "page") for s in layout.sheets] == [
        f"第 {i}/{n} 张" for i in range(1, n + 1)
    ]
    notes = [t.text for s in layout.sheets for t in s.texts if t.kind == "more"]
    assert notes and all("见续表" in n for n in notes)
    # The note points at the 续表 sheet where that node's list starts.
    heads = {t.text.split("（")[0]: s.label for s in layout.sheets for t in s.texts
             if t.kind == "node" and "（续，" in t.text}
    assert len(heads) == len(layout.continued)
    assert all(label.startswith("续表") for label in heads.values())


def test_overlap_check_finds_an_overlap() -> None:
    a = wl.Text(10, 10, 50, 13, "甲", 10, "firm")
    b = wl.Text(55, 15, 50, 13, "乙", 10, "firm")
    c = wl.Text(61, 10, 50, 13, "丙", 10, "firm")
    assert overlaps([a, b, c]) == [(0, 1), (1, 2)]


def test_unknown_paper_size_is_refused_in_chinese() -> None:
    with pytest.raises(ValueError, match="不支持的纸张规格"):
        layout_wallchart(synthetic_spec(5), "B5")


def test_a3_pdf_with_continuation_sheets(tmp_path: Path) -> None:
    from chainatlas.engines.wall_render import layout_to_pdf

    layout = layout_wallchart(synthetic_spec(1500), "A3")
    assert layout.sheets[-1].label.startswith("续表")
    pdf = tmp_path / "a3.pdf"
    pdf.write_bytes(layout_to_pdf(layout))
    reader = PdfReader(pdf)
    assert len(reader.pages) == len(layout.sheets)
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 1191)
    assert "续表" in reader.pages[-1].extract_text()


def test_the_embedded_font_holds_only_the_glyphs_drawn(tmp_path: Path) -> None:
    """The font program embedded all of the CJK font's 46,560 glyph slots (retain_gids; compiling them was most of
    a 2–3 s wall chart download on the real database); it now holds the glyphs drawn, renumbered, and every drawn
    character still extracts as its text."""
    import io

    from fontTools.ttLib import TTFont

    from chainatlas.engines.wall_render import layout_to_pdf

    layout = layout_wallchart(synthetic_spec(300), "A1")
    reader = PdfReader(io.BytesIO(layout_to_pdf(layout)))
    font = reader.pages[0]["/Resources"]["/Font"]["/F1"].get_object()["/DescendantFonts"][0].get_object()
    program = TTFont(io.BytesIO(font["/FontDescriptor"]["/FontFile2"].get_object().get_data()))
    drawn = {ch for sheet in layout.sheets for t in sheet.texts for ch in t.text if not ch.isspace()}
    # the drawn characters with the components of composite glyphs (574 for these 281), not the whole font
    assert program["maxp"].numGlyphs < 3 * len(drawn)
    assert drawn <= set("".join(page.extract_text() for page in reader.pages))


# ---------------------------------------------------------------- the real service on a real database


@pytest.fixture
def demo_session(demo_db_url: str):  # type: ignore[no-untyped-def]
    """The demo world (chain, zone, firms, placements, ledger) on a private SQLite copy."""
    from chainatlas.store import db

    with db.session_factory(demo_db_url)() as s:
        yield s


def _fonts(reader: PdfReader) -> set[str]:
    names: set[str] = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object()["/BaseFont"]))
    return names


def pdftotext(path: Path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


def test_render_a0_pdf_from_demo_world(demo_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from chainatlas.services.analysis import diagnose
    from chainatlas.services.reports import build_wall_spec, render_wallchart

    [pdf] = render_wallchart(demo_session, "武汉经开区", "nev-icv", "A0", tmp_path / "wall.pdf")
    reader = PdfReader(pdf)
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (2384, 3370)
    assert any("WenQuanYi" in f for f in _fonts(reader))
    text = pdftotext(pdf).replace(" ", "").replace("\n", "")  # content order: wrapped names rejoin
    d = diagnose(demo_session, "wuhan-edz", chain_id="nev-icv")
    spec = build_wall_spec(demo_session, "wuhan-edz", chain_id="nev-icv")
    assert "演示数据" in text and "图例" in text and "数据来源" in text
    assert spec.sites.startswith("可供载体") and "工业用地" in spec.sites and spec.sites.replace(" ", "") in text
    for ns in d.nodes.values():
        assert ns.name_zh in text, ns.name_zh
    leaders = [f.label for n in spec.nodes() for f in n.firms if f.leader]
    assert leaders, "the demo world has chain leaders"
    for label in leaders:
        assert label in text
    printed = [f.label for n in spec.nodes() for f in n.firms]
    assert sum(label in text for label in printed) >= 0.95 * len(printed)
    if d.gaps:
        assert "招商目标" in text


def test_other_sizes_and_svg(demo_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from chainatlas.engines.wall_render import layout_to_pdf
    from chainatlas.services.reports import build_wall_spec, render_wallchart

    spec = build_wall_spec(demo_session, "wuhan-edz", chain_id="nev-icv")
    for paper, size in (("A1", (1684, 2384)), ("A3", (842, 1191))):
        layout = layout_wallchart(spec, paper)
        assert problems(layout) == []
        pdf = tmp_path / f"{paper}.pdf"
        pdf.write_bytes(layout_to_pdf(layout))
        for page in PdfReader(pdf).pages:
            assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == size
    svgs = render_wallchart(demo_session, "wuhan-edz", size="A1", out=tmp_path / "wall.svg", chain_id="nev-icv")
    first = svgs[0].read_text(encoding="utf-8")
    assert first.startswith("<svg") and "WenQuanYi Micro Hei" in first and "上游" in first
    assert "width='594.0mm' height='841.0mm'" in first
    assert [p.name for p in svgs] == ["wall.svg"] + [f"wall-{i}.svg" for i in range(2, len(svgs) + 1)]


def test_cli_wallchart(demo_session, demo_db_url: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from chainatlas.cli.main import app

    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", demo_db_url)
    out = tmp_path / "w.pdf"
    result = CliRunner().invoke(app, ["wallchart", "--zone", "武汉经开区", "--size", "A3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and PdfReader(out).pages
    bad = CliRunner().invoke(app, ["wallchart", "--zone", "不存在区", "--size", "A3", "--out", str(out)])
    assert bad.exit_code == 1 and "找不到开发区" in bad.output

"""Excel exports and the monthly brief, rendered from the demo world on a real SQLite file and read back."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from chainatlas import config
from chainatlas.engines.charts import Progress, monthly_columns, progress_bars
from chainatlas.services.reports.brief import Month


def test_month_parsing_and_bounds() -> None:
    m = Month.parse("2024-02")
    assert (m.first, m.last) == (date(2024, 2, 1), date(2024, 2, 29))
    assert date(2024, 2, 29) in m and date(2024, 3, 1) not in m
    for bad in ("2024-13", "24-10", "2024/10", "十月"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            Month.parse(bad)


def test_charts_are_svg_in_the_chinese_font() -> None:
    bars = progress_bars([Progress("签约项目数", 60.0, 83.0, "9 / 15 个"), Progress("签约投资额", None, 83.0, "—")])
    assert bars.startswith("<svg") and "WenQuanYi Micro Hei" in bars and "签约项目数" in bars
    assert "#c62828" in bars  # 60 % behind an 83 % time line is drawn red
    cols = monthly_columns([1, 0, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0], 15, 4, "个")
    assert cols.count("<rect") == 3 and "12月" in cols and "polyline" in cols


@pytest.fixture
def demo_session(demo_db_url: str):  # type: ignore[no-untyped-def]
    """The demo world (chain, zone, firms, placements, ledger) on a private SQLite copy."""
    from chainatlas.store import db

    with db.session_factory(demo_db_url)() as s:
        yield s


def _header_row(ws) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    """The frozen header: the row just above the freeze line."""
    row = int(re.sub(r"[A-Z]+", "", ws.freeze_panes)) - 1
    return row, [c.value for c in ws[row] if c.value is not None]


def _is_chinese(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text))


@pytest.mark.parametrize("kind", ["firms", "gaps", "targets", "ledger", "kpi"])
def test_excel_exports(demo_session, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    from chainatlas.services.reports.excel import export

    out = tmp_path / f"{kind}.xlsx"
    rows = export(demo_session, kind, "武汉经开区", out, year=2024, as_of=date(2024, 10, 31), chain_id="nev-icv")
    assert rows > 0
    wb = load_workbook(out)
    # targets: the first node sheet with a list (a gap with no real firm known outside the zone has an empty one)
    main = wb.worksheets[0] if kind != "targets" else next(ws for ws in wb.worksheets[1:] if ws.max_row > 3)
    # ledger and targets are the pipeline's and the targets engineer's workbooks: their main sheet is checked here.
    for ws in wb.worksheets if kind in ("firms", "gaps", "kpi") else [main]:
        if ws.max_row < 2:
            continue
        assert ws.freeze_panes, f"{ws.title}: header not frozen"
        row, headers = _header_row(ws)
        assert headers and all(_is_chinese(str(h)) for h in headers if not str(h).isdigit()), headers
        widths = [ws.column_dimensions[c.column_letter].width for c in ws[row][: len(headers)]]
        assert all(w and w >= 5 for w in widths), f"{ws.title}: column widths {widths}"
    row, headers = _header_row(main)
    data = list(main.iter_rows(min_row=row + 1, values_only=True))
    assert data
    text = "".join(str(c.value or "") for r in main.iter_rows(max_row=3) for c in r)
    assert "演示数据" in text
    if kind == "firms":
        col = headers.index("注册资本（亿元）")
        values = [r[col] for r in data if r[col] is not None]
        assert values and all(isinstance(v, (int, float)) for v in values)
        assert {"企业名称", "节点", "归类依据"} <= set(headers)
        names = {r[headers.index("企业名称")] for r in data}
        assert any("东风" in str(n) for n in names)
    if kind == "gaps":
        assert isinstance(data[0][headers.index("机会分")], float)
        assert {r[headers.index("缺口类型")] for r in data} <= {"补链", "强链", "延链"}
        assert "节点强弱" in wb.sheetnames
    if kind == "kpi":
        labels = [r[0] for r in data]
        assert "签约项目数" in labels and "签约投资额" in labels
        money = data[labels.index("签约投资额")]
        assert money[headers.index("单位")] == "亿元"
        assert money[headers.index("年度目标")] == pytest.approx(200.0)  # 200亿 from the zone file, as a number
        assert all(isinstance(v, (int, float)) for v in money[headers.index("1月"): headers.index("12月") + 1])


def test_export_refuses_bad_kind_and_suffix(demo_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from chainatlas.services.reports.excel import export

    with pytest.raises(ValueError, match="未知的导出类型"):
        export(demo_session, "cats", "wuhan-edz", tmp_path / "x.xlsx", chain_id="nev-icv")
    with pytest.raises(ValueError, match=r"\.xlsx"):
        export(demo_session, "firms", "wuhan-edz", tmp_path / "x.csv", chain_id="nev-icv")


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


def test_monthly_brief_pdf(demo_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from chainatlas.services.reports.brief import render_brief
    from chainatlas.services.analysis.diagnosis import diagnose

    today = config.today()
    pdf = render_brief(demo_session, "武汉经开区", f"{today:%Y-%m}", tmp_path / "brief.pdf", chain_id="nev-icv")
    reader = PdfReader(pdf)
    assert (round(float(reader.pages[0].mediabox.width)), round(float(reader.pages[0].mediabox.height))) == (595, 842)
    fonts = {str(f.get_object()["/BaseFont"]) for p in reader.pages
             for f in p["/Resources"].get_object().get("/Font", {}).values()}
    assert any("WenQuanYi" in f for f in fonts), fonts
    text = _pdf_text(pdf).replace(" ", "")
    flat = text.replace("\n", "")
    assert f"武汉经开区新能源与智能网联汽车产业链招商月报（{today.year}年{today.month}月）" in flat
    assert f"统计截至{today:%Y年%m月%d日}" in flat  # the month so far, not its last day
    assert "逾期" in flat and "zonefile" not in flat and ".yaml" not in flat and ".py" not in flat
    for heading in ("年度目标完成情况", "本月项目动态", "停滞与逾期项目", "产业链缺口与目标企业", "演示数据", "签约项目数"):
        assert heading in text, heading
    top_gap = diagnose(demo_session, "wuhan-edz", chain_id="nev-icv").gaps[0]
    assert top_gap.name_zh in text
    assert "图1" in text and "图2" in text  # the charts are in (inline SVG)


def test_cli_export_and_brief(demo_session, demo_db_url: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from chainatlas.cli.main import app

    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", demo_db_url)
    runner = CliRunner()
    out = tmp_path / "kpi.xlsx"
    r = runner.invoke(app, ["export", "kpi", "--zone", "武汉经开区", "--year", "2024", "--as-of", "2024-10-31", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert load_workbook(out).sheetnames[0] == "年度目标"
    r = runner.invoke(app, ["brief", "--zone", "武汉经开区", "--out", str(tmp_path / "b.pdf")])  # this month
    assert r.exit_code == 0 and (tmp_path / "b.pdf").stat().st_size > 10_000, r.output
    r = runner.invoke(app, ["brief", "--month", f"{config.today().year + 1}-01", "--out", str(tmp_path / "c.pdf")])
    assert r.exit_code == 1 and "尚未开始" in r.output
    r = runner.invoke(app, ["brief", "--month", "2024-13", "--out", str(tmp_path / "b.pdf")])
    assert r.exit_code == 1 and "YYYY-MM" in r.output

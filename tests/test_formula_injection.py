"""Formula injection (issue 22): text from users that starts with = + - @, a tab or CR is written as inert text in
every export — the Excel reports, the ledger, target lists, the import error report, and the CSVs."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.domain.cells import csv_cell
from chainatlas.ingest.records import Problem
from chainatlas.services.ingest.imports import write_error_report
from chainatlas.services.reports.excel import export
from chainatlas.store import db
from chainatlas.store.models import Enterprise, Project, ProjectActivity, StageChange

HYPERLINK = '=HYPERLINK("http://example.invalid/steal","点我查看")'
DDE = "=cmd|' /C calc'!A0"


def _formulas_and_texts(path: Path) -> tuple[int, str]:
    """(formula cells in every sheet, all the text the workbook holds) of an .xlsx, read from its XML."""
    with zipfile.ZipFile(path) as zf:
        sheets = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        strings = zf.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in zf.namelist() else ""
        styles = zf.read("xl/styles.xml").decode()
    formulas = sum(len(re.findall(r"<f[ >]", s)) for s in sheets)
    return formulas, "".join(sheets) + strings + styles


@pytest.fixture
def hostile_demo(demo_db_url: str):
    """The demo world with firm names, project names, notes and reasons an attacker typed."""
    with db.session_scope(demo_db_url) as s:
        s.execute(update(Enterprise).values(name="=HYPERLINK(\"http://example.invalid\",\"" + Enterprise.name + "\")"))
        s.execute(update(Project).values(name="@SUM(1+1)*cmd|' /C calc'!A0"))
        s.execute(update(ProjectActivity).values(content=DDE))
        s.execute(update(StageChange).values(reason="+1+2"))
    with db.session_factory(demo_db_url)() as s:
        yield s


@pytest.mark.parametrize("kind", ["firms", "gaps", "targets", "ledger", "kpi"])
def test_excel_exports_write_formula_like_text_as_text(hostile_demo, tmp_path: Path, kind: str) -> None:
    out = tmp_path / f"{kind}.xlsx"
    export(hostile_demo, kind, "武汉经开区", out, year=2024, as_of=date(2024, 10, 31))
    formulas, text = _formulas_and_texts(out)
    assert formulas == 0
    if kind in ("firms", "targets"):
        assert re.search(r'=HYPERLINK\((&quot;|")http://example\.invalid', text) and 'quotePrefix="1"' in text
    if kind == "ledger":
        assert "@SUM(1+1)" in text and "=cmd|" in text and "+1+2" in text and 'quotePrefix="1"' in text


def test_the_import_error_report_writes_the_users_cell_as_text(tmp_path: Path) -> None:
    problems = [Problem("名单.csv", 3, "注册资本", HYPERLINK, "“=HYPERLINK…”不是金额", "请改为数字"),
                Problem("名单.csv", 4, "成立日期", "-1+1", "不是日期", "请改为日期")]
    out = write_error_report(problems, tmp_path / "问题.xlsx")
    formulas, text = _formulas_and_texts(out)
    assert formulas == 0 and re.search(r'=HYPERLINK\((&quot;|")http://example\.invalid/steal', text)
    assert "-1+1" in text and 'quotePrefix="1"' in text


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_csv_cells_put_formula_like_text_behind_an_apostrophe(value: str) -> None:
    assert csv_cell(value) == "'" + value
    assert csv_cell("武汉=光谷") == "武汉=光谷" and csv_cell(-1) == -1 and csv_cell(None) is None


def test_classify_output_keeps_a_formula_like_id_inert(tmp_path: Path) -> None:
    src, out = tmp_path / "名单.csv", tmp_path / "out.csv"
    src.write_text("编号,企业名称,主营产品\n" + f'"{DDE}",某某电池有限公司,动力电池系统\nA2,某某电池二厂,动力电池\n',
                   encoding="utf-8")
    result = CliRunner().invoke(app, ["classify", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    ids = [row[0] for row in csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")))][1:]
    assert "'" + DDE in ids and "A2" in ids and DDE not in ids

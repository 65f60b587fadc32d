"""`chainatlas projects …` and `chainatlas kpi` end to end on a SQLite file (services are tested on both engines)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainatlas import config
from chainatlas.cli.main import app
from chainatlas.store import db


@pytest.fixture
def cli_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", sqlite_url)
    from chainatlas.services.demo import load_demo_ledger

    with db.session_scope(sqlite_url) as s:
        load_demo_ledger(s)
    return sqlite_url


def test_kpi_and_project_commands(cli_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["kpi"], env={"COLUMNS": "200"})  # no year: this year, as of today
    assert out.exit_code == 0, out.output
    assert f"{config.today().year}年招商目标完成情况（截至{config.today().isoformat()}" in out.output
    assert "签约投资额" in out.output and "200.00亿元" in out.output and "演示数据" in out.output
    signed = re.search(r"签约项目数[\s│|]+15个[\s│|]+(\d+)个", out.output)
    assert signed and int(signed.group(1)) > 0, out.output  # the demo has signed projects this year
    for line in out.output.splitlines():  # every warning's 尚差 is target − done
        if m := re.search(r"目标(\d+)个，已完成(\d+)个.*?尚差(\d+)个", line):
            assert int(m.group(1)) - int(m.group(2)) == int(m.group(3)), line

    out = runner.invoke(app, ["projects", "add", "--name", "命令行项目", "--amount", "3亿", "--nodes", "激光雷达",
                              "--on", "2024-11-02", "--user", "tester"])
    assert out.exit_code == 0 and "20241102001" in out.output, out.output
    out = runner.invoke(app, ["projects", "stage", "20241102001", "开工", "--on", "2024-11-03"])
    assert out.exit_code == 1 and "尚未签约" in out.output
    out = runner.invoke(app, ["projects", "stage", "20241102001", "签约", "--on", "2024-11-03", "--user", "tester"])
    assert out.exit_code == 0 and "线索 → 签约" in out.output, out.output
    out = runner.invoke(app, ["projects", "log", "20241102001", "签约后回访", "--on", "2024-11-05",
                              "--next", "催办注册", "--next-on", "2024-11-20"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["projects", "show", "20241102001"], env={"COLUMNS": "200"})
    assert "线索 → 签约" in out.output and "签约后回访" in out.output and "催办注册" in out.output

    path = tmp_path / "台账.xlsx"
    out = runner.invoke(app, ["projects", "export", str(path), "--as-of", "2024-10-31"])
    assert out.exit_code == 0 and path.exists(), out.output
    out = runner.invoke(app, ["projects", "import", str(path)])
    assert out.exit_code == 0 and "新增0个，更新0个" in out.output, out.output

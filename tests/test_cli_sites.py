"""`chainatlas sites …` on a real SQLite file: a GBK ledger with a bad row, list as CSV (formula text inert), match
by a Chinese node name as JSON, hold and a refused second hold, use of space — the messages users read."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.store import db

LEDGER = """载体编号,载体名称,载体类型,所属园区,面积,用地性质,状态
CLI-1,=HYPERLINK("http://x"),工业用地,智能网联和电动汽车产业园,52亩,M1,可供
CLI-2,军山南地块,工业用地,火星园区,60亩,M1,可供
"""


@pytest.fixture
def cli_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from chainatlas.services.catalog import load_zone
    from chainatlas.services.pipeline import create_project

    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", sqlite_url)
    with db.session_scope(sqlite_url) as s:
        load_zone(s, "wuhan-edz", "nev-icv")
        s.flush()
        for name in ("电芯项目", "另一项目"):
            create_project(s, zone_id="wuhan-edz", chain_id="nev-icv", name=name, by_user="li", land_mu=50,
                           node_ids=["battery-cells"])
    return sqlite_url


def test_sites_commands_from_import_to_hold(cli_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    ledger = tmp_path / "载体台账.csv"
    ledger.write_bytes(LEDGER.encode("gbk"))
    imported = runner.invoke(app, ["sites", "import", str(ledger), "--user", "li"])
    assert imported.exit_code == 0, imported.output
    assert "新增1个载体" in imported.output and "第3行“所属园区”列：值“火星园区”" in imported.output

    listed = runner.invoke(app, ["sites", "list", "--format", "csv"])
    rows = list(csv.reader(io.StringIO(listed.stdout)))
    assert rows[0][:3] == ["载体编号", "名称", "类型"] and rows[1][0] == "CLI-1"
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")"  # formula text written inert

    matched = runner.invoke(app, ["sites", "match", "--need-mu", "50", "--node", "动力电芯", "--format", "json"])
    assert matched.exit_code == 0, matched.output
    [match] = json.loads(matched.stdout)["matches"]
    assert match["code"] == "CLI-1" and match["parts"]["area"] > 0 and match["reasons"][0].startswith("面积52.0亩")
    unknown = runner.invoke(app, ["sites", "match", "--need-mu", "50", "--node", "火箭发动机"])
    assert unknown.exit_code == 1 and "没有环节“火箭发动机”" in unknown.output

    projects = runner.invoke(app, ["projects", "list", "--format", "json"])
    codes = [r["项目编号"] for r in json.loads(projects.stdout)["rows"]]
    held = runner.invoke(app, ["sites", "hold", "CLI-1", "--project", codes[0], "--user", "li"])
    assert held.exit_code == 0 and "状态：洽谈中" in held.output
    refused = runner.invoke(app, ["sites", "hold", "CLI-1", "--project", codes[1], "--user", "wang"])
    assert refused.exit_code == 1 and "请先释放" in refused.output

    space = runner.invoke(app, ["sites", "space", "--format", "json"])
    assert json.loads(space.stdout)["land_balance"]["year"] >= 2026
    assert runner.invoke(app, ["sites", "space", "--format", "xml"]).exit_code == 1

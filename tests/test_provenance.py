"""Sources and dates on facts: every imported fact keeps its file, batch and as-of date; the enterprise and node
pages say where each number comes from and how old it is, and mark 待更新 past CHAINATLAS_STALE_DAYS."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.store import db
from chainatlas.store.models import Enterprise, ImportBatch
from chainatlas.web.app import create_app
from web_helpers import app_url, login, template  # noqa: F401 (fixtures)

runner = CliRunner()


@pytest.fixture
def firm(app_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", app_url)
    registry = tmp_path / "2022年企业名单.csv"
    registry.write_text("企业名称,股票代码,城市,省份\n宁德时代新能源科技股份有限公司,300750.SZ,宁德市,福建\n",
                        encoding="gbk")
    products = tmp_path / "主营构成2023.csv"
    products.write_text("股票代码,产品,收入占比\n300750.SZ,动力电池系统,71.2%\n", encoding="utf-8")
    old = runner.invoke(app, ["import", "enterprises", str(registry), "--as-of", "2022-01-31"])
    assert old.exit_code == 0, old.output
    assert runner.invoke(app, ["import", "products", str(products)]).exit_code == 0
    assert runner.invoke(app, ["zone", "add", "--name", "宁德市", "--division", "350900"]).exit_code == 0
    bad = runner.invoke(app, ["import", "products", str(products), "--as-of", "31.01.2022"])
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.output
    with db.session_scope(app_url) as s:
        assert [b.as_of.isoformat() for b in s.scalars(select(ImportBatch).order_by(ImportBatch.id))][0] == "2022-01-31"
        return s.scalar(select(Enterprise.id))


def test_pages_say_where_each_fact_comes_from_and_how_old_it_is(app_url: str, firm: int,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINATLAS_ZONE", "宁德市")
    with TestClient(create_app(app_url)) as client:
        login(client, "viewer")
        detail = client.get(f"/api/enterprises/{firm}").json()
        registry, products = detail["provenance"]
        assert registry["label"] == "导入文件「2022年企业名单.csv」（批次 #1）" and registry["as_of"] == "2022-01-31"
        assert registry["stale"] and registry["age_days"] > 365
        assert products["fact"] == "主营产品：动力电池系统（71.2%）" and "主营构成2023.csv" in products["label"]
        assert not products["stale"]  # imported today
        page = client.get(f"/enterprises/{firm}").text
        assert "数据来源与时效" in page and "待更新" in page and "2022-01-31" in page
        node = client.get("/nodes/battery-cells-packs").text
        assert "宁德时代" in node and "截至 2022-01-31" in node and "待更新" in node

    monkeypatch.setenv("CHAINATLAS_STALE_DAYS", "100000")  # a bureau that keeps lists for longer
    with TestClient(create_app(app_url)) as client:
        login(client, "viewer")
        assert not client.get(f"/api/enterprises/{firm}").json()["provenance"][0]["stale"]

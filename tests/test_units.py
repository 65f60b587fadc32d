"""Units you can trust: a money column without a unit whose numbers only make sense in 万元 (Tushare's reg_capital)
is flagged in the preview and needs a unit chosen (`--unit` on the command line, a choice in the web preview) before
anything is written; the real Tushare rows, in GBK and UTF-8."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import re

from fastapi.testclient import TestClient

from chainatlas.cli.main import app
from chainatlas.services.catalog import load_zone
from chainatlas.services.ingest.imports import ImportProblem, import_enterprises, preview
from chainatlas.store import db
from chainatlas.store.models import Enterprise
from chainatlas.web.app import create_app
from web_helpers import app_url, finished_job, login, template  # noqa: F401 (fixtures)

runner = CliRunner()


def tushare_head(shared_data: Path, out: Path, encoding: str, rows: int = 40) -> list[dict]:
    with open(shared_data / "listed_companies" / "tushare_a_share_basic_2024.csv", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        head = [next(reader) for _ in range(rows)]
    with open(out, "w", encoding=encoding, newline="") as dst:
        writer = csv.DictWriter(dst, fieldnames=list(head[0]))
        writer.writeheader()
        writer.writerows(head)
    return head


@pytest.mark.db
@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_reg_capital_without_unit_needs_a_choice(db_url: str, shared_data: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, encoding: str) -> None:
    path = tmp_path / f"tushare_{encoding}.csv"
    head = tushare_head(shared_data, path, encoding)
    pv = preview(path)
    (capital,) = [u for u in pv.units if u.field == "registered_capital"]
    assert capital.header == "reg_capital" and capital.unit == "" and capital.suspect
    assert "--unit 万元" in capital.warning() and "网页在导入预览中为该列选择单位" in capital.warning()
    assert [u.field for u in pv.units if u.suspect] == ["registered_capital"]

    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", db_url)
    shown = runner.invoke(app, ["import", "enterprises", str(path), "--preview"])
    assert "单位提醒" in shown.output and "未注明（按元）" in shown.output
    refused = runner.invoke(app, ["import", "enterprises", str(path)])
    assert refused.exit_code == 1 and "reg_capital" in refused.output and "--unit 万元" in refused.output
    with db.session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Enterprise)) == 0  # nothing half-written

    done = runner.invoke(app, ["import", "enterprises", str(path), "--unit", "万元"])
    assert done.exit_code == 0, done.output
    with db.session_scope(db_url) as s:
        pingan = s.scalars(select(Enterprise).where(Enterprise.listing_code == "000001.SZ")).one()
        assert pingan.registered_capital_yuan == round(float(head[0]["reg_capital"]) * 10_000)  # 194 亿元


@pytest.mark.db
def test_units_stated_in_the_header_or_chosen_for_one_column(db_url: str, tmp_path: Path) -> None:
    stated = tmp_path / "stated.csv"
    stated.write_text("企业名称,注册资本(万元),营业收入\n甲公司,500,12000000\n乙公司,80,3500000\n", encoding="gbk")
    pv = preview(stated)
    assert [(u.shown, u.suspect) for u in pv.units] == [("万元", False), ("未注明（按元）", False)]

    small = tmp_path / "small.csv"
    small.write_text("企业名称,注册资本,营业收入\n甲公司,500,1200\n乙公司,80,350\n", encoding="utf-8")
    with db.session_scope(db_url) as s, pytest.raises(ImportProblem, match="注册资本.*营业收入"):
        import_enterprises(s, small)
    with db.session_scope(db_url) as s:
        import_enterprises(s, small, units=["注册资本=万元", "营业收入=亿元"])
    with db.session_scope(db_url) as s:
        firm = s.scalars(select(Enterprise).where(Enterprise.name == "甲公司")).one()
        assert (firm.registered_capital_yuan, firm.revenue_yuan) == (5_000_000, 120_000_000_000)
    other = tmp_path / "other.csv"
    other.write_text("企业名称,注册资本\n丙公司,300\n", encoding="utf-8")
    with db.session_scope(db_url) as s, pytest.raises(ImportProblem, match="不认识的单位"):
        import_enterprises(s, other, units=["万美刀"])


def test_the_web_preview_asks_for_the_unit_and_the_run_refuses_without_it(app_url: str, shared_data: Path,
                                                                          tmp_path: Path) -> None:
    path = tmp_path / "tushare_gbk.csv"
    head = tushare_head(shared_data, path, "gbk")
    with db.session_scope(app_url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
    with TestClient(create_app(app_url)) as client:
        token = login(client, "analyst")
        r = client.post("/imports/upload", data={"kind": "enterprises", "csrf_token": token},
                        files={"file": ("上市公司.csv", path.read_bytes(), "text/csv")}, follow_redirects=False)
        preview_url = r.headers["location"]
        upload = re.search(r"/imports/([0-9a-f]{16})/preview", preview_url).group(1)
        page = client.get(preview_url).text
        select_name = re.search(r'<select name="(unit_\d+)" required aria-label="reg_capital 的单位"', page).group(1)
        warning = re.search(r'class="alert alert-warn small unit-warning">([^<]*)<', page).group(1)
        assert "很可能是万元" in warning and "--unit" not in warning  # web words, not the command line's

        refused = client.post(f"/imports/{upload}/run", data={"kind": "enterprises", "csrf_token": token},
                              follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"].endswith("/preview?kind=enterprises")
        assert "请先为“reg_capital”列选择单位" in client.get(refused.headers["location"]).text
        with db.session_scope(app_url) as s:
            assert s.scalar(select(func.count()).select_from(Enterprise).where(
                Enterprise.listing_code.is_not(None))) == 0  # no job started, nothing written

        run = client.post(f"/imports/{upload}/run",
                          data={"kind": "enterprises", "csrf_token": token, select_name: "万元"}, follow_redirects=False)
        job = finished_job(client, run.headers["location"].rsplit("/", 1)[1])
        assert job["status"] == "done", job["error"]
    with db.session_scope(app_url) as s:
        pingan = s.scalars(select(Enterprise).where(Enterprise.listing_code == "000001.SZ")).one()
        assert pingan.registered_capital_yuan == round(float(head[0]["reg_capital"]) * 10_000)

"""Long product files (one row per firm × product × share) and the header trap, with real-looking files in GBK and
UTF-8: product lines join the firms already in the database and the firms are placed again."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from chainatlas.cli.main import app
from chainatlas.services.ingest.imports import import_enterprises, import_products, preview
from chainatlas.services.placement.export import placement_rows
from chainatlas.store import db
from chainatlas.store.models import Enterprise, EnterpriseProduct, HeldRow

runner = CliRunner()
FIRMS = """ts_code,symbol,name,area,industry,province,city
300750.SZ,300750,宁德时代,福建,电气设备,福建,宁德市
002594.SZ,002594,比亚迪,深圳,汽车整车,广东,深圳市
688268.SH,688268,华特气体,广东,化工原料,广东,佛山市
"""
# As ChainKnowledgeGraph's extract has it: the relation column says 主营产品 in every data row.
CKG = """company_code,product,relation,weight
300750.SZ,动力电池系统,主营产品,0.825
300750.SZ,储能系统,主营产品,0.06
300750.SZ,锂电池材料,主营产品,0.001
688268.SH,特种气体,主营产品,0.510725
688268.SH,普通工业气体,主营产品,9.2e-05
999999.SZ,不存在公司的产品,主营产品,0.5
"""


def _lines(url: str, code: str) -> list[tuple[str, float | None]]:
    with db.session_scope(url) as s:
        firm = s.scalars(select(Enterprise).where(Enterprise.listing_code == code)).one()
        return [(p.product, p.revenue_share) for p in
                s.scalars(select(EnterpriseProduct).where(EnterpriseProduct.enterprise_id == firm.id)
                          .order_by(EnterpriseProduct.id))]


@pytest.fixture
def firms_db(db_url: str, tmp_path: Path) -> str:
    path = tmp_path / "listed.csv"
    path.write_text(FIRMS, encoding="utf-8")
    with db.session_scope(db_url) as s:
        import_enterprises(s, path)
    return db_url


@pytest.mark.db
def test_gbk_chainknowledgegraph_file_header_trap_and_replacing(firms_db: str, tmp_path: Path) -> None:
    path = tmp_path / "company_product.csv"
    path.write_bytes(CKG.encode("gbk"))
    pv = preview(path, kind="products")
    assert pv.table.header_row == 1  # the real header, not the first data row holding "主营产品"
    assert {c.header: c.field for c in pv.mapping.mapped} == {"company_code": "listing_code", "product": "product",
                                                             "weight": "share"}
    with db.session_scope(firms_db) as s:
        before = {r.id for r in placement_rows(s, "nev-icv")}
    assert "300750.SZ" not in before  # the enterprise list said nothing about batteries

    with db.session_scope(firms_db) as s:
        summary = import_products(s, path)
    assert (summary.rows_total, summary.rows_inserted, summary.rows_held) == (6, 5, 1)
    assert _lines(firms_db, "300750.SZ") == [("动力电池系统", 0.825), ("储能系统", 0.06), ("锂电池材料", 0.001)]
    assert _lines(firms_db, "688268.SH")[1] == ("普通工业气体", 9.2e-05)
    with db.session_scope(firms_db) as s:
        held = s.scalars(select(HeldRow)).one()
        assert held.row_number == 7 and held.problems[0]["problem"] == "库中没有这家企业"
        assert "chainatlas import enterprises" in held.problems[0]["action"]
        placed = {r.id: r.node_id for r in placement_rows(s, "nev-icv")}
    assert placed["300750.SZ"] == "battery-cells-packs"  # re-placed by the import
    assert summary.placed["nev-icv"] >= 1

    with db.session_scope(firms_db) as s:  # the same bytes again change nothing
        assert import_products(s, path).already_imported


@pytest.mark.db
def test_utf8_chinese_headers_percent_shares_and_name_key(firms_db: str, tmp_path: Path) -> None:
    path = tmp_path / "主营构成.csv"
    path.write_text("2023年年报主营构成\n证券代码,企业名称,产品名称,收入占比\n"
                    "300750,,动力电池系统,71.2%\n,比亚迪,汽车,80.1%\n,比亚迪,手机部件及组装,19.9%\n"
                    "002594,,汽车,abc\n", encoding="utf-8-sig")
    with db.session_scope(firms_db) as s:
        summary = import_products(s, path)
    assert summary.header_row == 2 and summary.rows_held == 1
    assert summary.problems[0].column == "收入占比" and "不是收入占比" in summary.problems[0].problem
    # "300750" finds 300750.SZ; 71.2% is 0.712 as `classify` reads "动力电池系统:71.2%"
    assert _lines(firms_db, "300750.SZ") == [("动力电池系统", pytest.approx(0.712))]
    assert _lines(firms_db, "002594.SZ") == [("汽车", pytest.approx(0.801)), ("手机部件及组装", pytest.approx(0.199))]


@pytest.mark.db
def test_mapping_names_the_header_row_even_below_a_row_of_header_words(firms_db: str, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A row of words that read as headers above the real one: --mapping says which row is the header."""
    path = tmp_path / "products.csv"
    path.write_bytes("股票代码,产品,收入占比\n代码,品名,比例\n300750.SZ,动力电池系统,0.825\n".encode("gbk"))
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  代码: listing_code\n  品名: product\n  比例: share\n", encoding="utf-8")
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", firms_db)
    result = runner.invoke(app, ["import", "products", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert _lines(firms_db, "300750.SZ") == [("动力电池系统", 0.825)]


@pytest.mark.db
def test_a_file_without_a_firm_key_is_refused_in_chinese(firms_db: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.csv"
    path.write_text("产品,收入占比\n动力电池系统,0.8\n", encoding="utf-8")
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", firms_db)
    result = runner.invoke(app, ["import", "products", str(path)])
    assert result.exit_code == 1 and "找不到识别企业的列" in result.output

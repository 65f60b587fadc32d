"""One placement path: an import places the firms it touched from what the database stores (product lines with
their revenue shares, industry text), and the database's placements equal `classify` on the same firms."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select

from chainatlas.domain.chain import load_chain
from chainatlas.services.ingest.imports import import_enterprises
from chainatlas.services.placement import classify_file
from chainatlas.services.placement.export import placement_rows, write_placements_csv
from chainatlas.store import db
from chainatlas.store.models import Enterprise, EnterpriseProduct


def listed_with_products(shared_data: Path, out: Path) -> int:
    """The Tushare 2024 list with each firm's main products and revenue shares from ChainKnowledgeGraph in one cell
    ("动力电池系统:0.825、…"), as a bureau's wide file has them; returns the rows written."""
    lines: dict[str, list[str]] = defaultdict(list)
    with open(shared_data / "industry_chain" / "ckg_company_product.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            # a separator inside a product name would split it into two lines in every reader alike
            lines[r["company_code"]].append(f"{r['product'].replace('、', ' ')}:{r['weight']}")
    with open(shared_data / "listed_companies" / "tushare_a_share_basic_2024.csv", encoding="utf-8") as fh, \
            open(out, "w", encoding="utf-8", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["股票代码", "企业名称", "所属行业", "省份", "城市", "主营产品"])
        n = 0
        for r in csv.DictReader(fh):
            writer.writerow([r["ts_code"], r["name"], r["industry"], r["province"], r["city"],
                             "、".join(lines.get(r["ts_code"], []))])
            n += 1
    return n


def _pairs(path: Path) -> dict[tuple[str, str], str]:
    with open(path, encoding="utf-8-sig") as fh:
        return {(r["id"], r["node_id"]): r["score"] for r in csv.DictReader(fh)}


@pytest.mark.db
def test_database_placements_equal_classify_on_the_real_listed_companies(db_url: str, shared_data: Path,
                                                                          tmp_path: Path) -> None:
    wide = tmp_path / "listed.csv"
    rows = listed_with_products(shared_data, wide)
    chain = load_chain("nev-icv")
    with db.session_scope(db_url) as s:
        summary = import_enterprises(s, wide, fuzzy=False)
    assert summary.rows_inserted == rows and summary.rows_held == 0
    with db.session_scope(db_url) as s:
        catl = s.scalars(select(Enterprise).where(Enterprise.listing_code == "300750.SZ")).one()
        lines = s.execute(select(EnterpriseProduct.product, EnterpriseProduct.revenue_share)
                          .where(EnterpriseProduct.enterprise_id == catl.id)).all()
        assert ("动力电池系统", 0.825) in [(p, round(v, 3)) for p, v in lines]  # a product and its share
        assert catl.industry == "电气设备"  # 所属行业 kept as evidence
        exported = tmp_path / "db.csv"
        write_placements_csv(placement_rows(s, chain), exported)
    assert summary.placed["nev-icv"] > 100  # the command-line import placed the firms it brought

    classified = tmp_path / "classify.csv"
    classify_file(wide, chain, classified, workers=1)
    from_db, from_file = _pairs(exported), _pairs(classified)
    assert len(from_file) > 100
    assert from_db == from_file  # the same (id, node) pairs with the same scores


@pytest.mark.db
def test_placeholder_shares_never_place_a_firm(db_url: str, tmp_path: Path) -> None:
    """Annual-report extracts put 0.001 on minor lines: a furniture maker with a 0.1 % seat line is no seat maker,
    while a furniture maker with a real 3 % seat line is one (the share is how strongly, not whether), and a list
    whose every share is a placeholder says nothing about shares: its lines count as listed main products."""
    path = tmp_path / "firms.csv"
    path.write_text("企业名称,主营产品\n"
                    "某某家居股份有限公司,办公家具:0.920、汽车座椅:0.001\n"
                    "某某木业股份有限公司,办公家具:0.920、汽车座椅:0.030\n"
                    "某某叉车股份有限公司,汽车座椅:0.001、汽车座椅骨架:0.000\n"
                    "某某座椅股份有限公司,汽车座椅:0.600、办公家具:0.300\n", encoding="utf-8")
    with db.session_scope(db_url) as s:
        import_enterprises(s, path)
        placed = {r.id: r.node_id for r in placement_rows(s, "nev-icv")}
    assert "某某家居股份有限公司" not in placed
    assert placed.get("某某木业股份有限公司") == "body-interior-exterior"
    assert placed.get("某某叉车股份有限公司") == "body-interior-exterior"  # shares unknown
    assert placed.get("某某座椅股份有限公司") == "body-interior-exterior"

"""The real listed-company files in ../shared/data: 2024 Tushare list, then the 2016 list with English names."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chainatlas.services.ingest import import_enterprises
from chainatlas.store import db
from chainatlas.store.models import Enterprise, EnterpriseAlias


@pytest.mark.db
def test_listed_companies_merge_by_stock_code_and_keep_english_names(db_url: str, shared_data: Path,
                                                                       tmp_path: Path) -> None:
    tushare = shared_data / "listed_companies" / "tushare_a_share_basic_2024.csv"
    wfp = shared_data / "listed_companies" / "wfp_a_share_company_info_2016.csv"
    ts_rows = list(csv.DictReader(tushare.open(encoding="utf-8")))
    wfp_rows = list(csv.DictReader(wfp.open(encoding="utf-8")))
    symbols = {r["symbol"] for r in ts_rows}
    unnamed = sum(1 for r in wfp_rows if not r["name"].strip())
    overlap = sum(1 for r in wfp_rows if r["name"].strip() and r["stock_code"] in symbols)

    mapping = tmp_path / "tushare.yaml"  # Tushare gives registered capital in 万元 without saying so
    mapping.write_text("columns:\n  reg_capital: {field: registered_capital, unit: 万元}\n", encoding="utf-8")
    with db.session_scope(db_url) as s:
        first = import_enterprises(s, tushare, mapping=mapping)
    assert (first.rows_total, first.rows_inserted, first.rows_held) == (len(ts_rows), len(ts_rows), 0)
    with db.session_scope(db_url) as s:
        second = import_enterprises(s, wfp)
    assert second.rows_held == unnamed
    assert second.rows_merged == overlap  # the same stock code is the same company
    assert second.rows_inserted == len(wfp_rows) - overlap - unnamed  # delisted since 2016
    assert second.enterprises_updated == overlap

    with db.session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Enterprise)) == len(ts_rows) + second.rows_inserted
        pingan = s.scalars(select(Enterprise).where(Enterprise.listing_code == "000001.SZ")).one()
        # the full registered name replaces the short name, which stays as an alias beside the English name
        assert pingan.name == "平安银行股份有限公司"
        assert {(a.alias, a.kind) for a in pingan.aliases} == {("平安银行", "short"), ("Ping An Bank Co., Ltd.", "english")}
        assert (pingan.registered_capital_yuan, str(pingan.founded_on)) == (19_405_918_198, "1987-12-22")
        assert (pingan.city_code, pingan.district_code) == ("4403", "440303")  # from the 2016 registered address
        english = s.scalar(select(func.count()).select_from(EnterpriseAlias).where(EnterpriseAlias.kind == "english"))
        assert english >= sum(1 for r in wfp_rows if r["name"].strip() and r["ename"].strip()) - 1
        # two listed companies share the short name 三维股份: different stock codes keep them apart
        assert s.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.name.like("%三维%"))) >= 2
        assert s.scalar(select(func.count()).select_from(Enterprise).where(Enterprise.merged_into_id.isnot(None))) == 0

"""Relation files name firms by brand and in English (BYD, JAC, "Bosch (Robert Bosch GmbH)"): the import finds the
stored firms through their English names, the shipped group-name list and splink, queues what fits several firms,
and holds a row that makes a firm its own supplier — the same for a GBK and a UTF-8 file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from chainatlas.services.ingest.imports import import_enterprises, import_relations
from chainatlas.services.ingest.parties import groups, name_variants
from chainatlas.store import db
from chainatlas.store.models import Enterprise, HeldRow, MergeCandidate, Relation

FIRMS = """企业名称,英文名称,城市
比亚迪股份有限公司,BYD Company Limited,深圳市
安徽江淮汽车集团股份有限公司,,合肥市
博世汽车部件（苏州）有限公司,"Bosch Automotive Products (Suzhou) Co., Ltd.",苏州市
东风汽车集团有限公司,Dongfeng Motor Corporation,武汉市
东风汽车股份有限公司,,襄阳市
"""

RELATIONS = """供应商,客户,配套零部件,年份
Bosch (Robert Bosch GmbH),BYD,ABS ESC,2023
"Bosch Automotive Products (Suzhou) Co., Ltd.",JAC,Disc Brake,2023
JAC,江淮汽车,Engine,2023
Dongfeng,BYD,Seats,2022
FinDreams Battery,BYD,Battery Pack,2023
BYD Auto,比亚迪,Battery Pack,2022
"""


def test_the_shipped_list_names_each_group_with_its_source() -> None:
    found = groups()
    assert found["byd"].zh[0] == "比亚迪股份有限公司" and found["jac"].zh[0] == "安徽江淮汽车集团股份有限公司"
    assert found["robert bosch gmbh"] is found["bosch"] and "Bosch" in found["bosch"].source
    assert name_variants("Bosch (Robert Bosch GmbH)") == ["Bosch (Robert Bosch GmbH)", "Bosch", "Robert Bosch GmbH"]
    assert name_variants("博世汽车部件(苏州)有限公司") == ["博世汽车部件(苏州)有限公司"]


@pytest.mark.db
@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_brand_and_english_names_find_the_stored_firms(db_url: str, tmp_path: Path, encoding: str) -> None:
    firms, relations = tmp_path / "firms.csv", tmp_path / "配套关系.csv"
    firms.write_bytes(FIRMS.encode(encoding))
    relations.write_bytes(RELATIONS.encode(encoding))
    with db.session_scope(db_url) as s:
        import_enterprises(s, firms)
    with db.session_scope(db_url) as s:
        summary = import_relations(s, relations)
    with db.session_scope(db_url) as s:
        name = {e.id: e.name for e in s.scalars(select(Enterprise))}
        pairs = {(name[r.supplier_id], name[r.customer_id], r.product) for r in s.scalars(select(Relation))}
        held = s.scalars(select(HeldRow).where(HeldRow.batch_id == summary.batch_id)).all()
        queued = s.scalars(select(MergeCandidate).where(MergeCandidate.batch_id == summary.batch_id)).all()
    # BYD and JAC are the stored 比亚迪 and 江淮: no duplicate made for them
    assert not {"BYD", "JAC", "BYD Auto"} & set(name.values())
    assert ("博世汽车部件（苏州）有限公司", "安徽江淮汽车集团股份有限公司", "Disc Brake") in pairs
    assert ("FinDreams Battery", "比亚迪股份有限公司", "Battery Pack") in pairs
    # the group Bosch is not its Suzhou subsidiary: a party of its own, supplying 比亚迪
    assert ("Bosch (Robert Bosch GmbH)", "比亚迪股份有限公司", "ABS ESC") in pairs
    # a firm is never its own supplier: JAC → 江淮汽车 and BYD Auto → 比亚迪 are held with the reason
    assert sorted(h.row_number for h in held) == [4, 7]
    assert all(h.problems[0]["problem"] == "供应商与客户是同一家企业" for h in held)
    # Dongfeng fits the group and the listed company: both pairs wait for review, neither is merged
    dongfeng = [c for c in queued if name[c.right_id] == "Dongfeng"]
    assert sorted(name[c.left_id] for c in dongfeng) == ["东风汽车股份有限公司", "东风汽车集团有限公司"]
    assert all(c.status == "pending" and "2家" in c.evidence["several"] for c in dongfeng)
    assert (summary.rows_inserted, summary.rows_held) == (4, 2)

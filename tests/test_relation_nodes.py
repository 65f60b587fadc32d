"""Component words in English place relations and foreign suppliers on chain nodes (keywords_en): two real
MarkLines rows, in UTF-8 and GBK."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from chainatlas.services.ingest.imports import import_enterprises, import_relations
from chainatlas.services.placement.export import placement_rows
from chainatlas.store import db
from chainatlas.store.models import Enterprise, Relation

ROWS = ('component,region,maker,model,model_year,supplier\n'
        'ABS ESC,China,BYD,Han L DM-i (FF) (China),2025,"Bosch Automotive Products (Suzhou) Co., Ltd."\n'
        'Fuel Injection,China,Changan,UNI-Z iDD (FF) (China),2024,"Phinia Delphi Automotive Systems (Shanghai) Co., Ltd."\n')


@pytest.mark.db
@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_english_components_place_relations_and_their_suppliers(db_url: str, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "marklines.csv"
    path.write_bytes(ROWS.encode(encoding))
    with db.session_scope(db_url) as s:
        summary = import_relations(s, path)
    assert summary.rows_inserted == 2
    with db.session_scope(db_url) as s:
        names = dict(s.execute(select(Enterprise.id, Enterprise.name)).all())
        nodes = {(names[r.supplier_id][:5], r.product): r.node_id for r in s.scalars(select(Relation))}
        assert nodes == {("Bosch", "ABS ESC"): "chassis-parts", ("Phini", "Fuel Injection"): "ice-powertrain"}
        placed = {r.id[:5]: r.node_id for r in placement_rows(s, "nev-icv")}
    # the foreign suppliers, known only from this file, are placed by what they supply; the makers are not
    assert placed == {"Bosch": "chassis-parts", "Phini": "ice-powertrain"}


@pytest.mark.db
def test_an_imported_relation_list_places_a_supplier_whose_own_text_is_thin(db_url: str, tmp_path: Path) -> None:
    """A firm listing only 机加工件 is no chain firm by its own words; once a relation list says it supplies disc
    brakes to BYD, it is placed on the chassis node, the evidence naming the component and the customer."""
    firms = tmp_path / "firms.csv"
    firms.write_text("企业名称,主营产品\n某某精密机械有限公司,机加工件\n某某电池科技有限公司,锂电池\n", encoding="utf-8")
    relations = tmp_path / "relations.csv"
    relations.write_text("供应商名称,客户名称,产品,年份\n"
                         "某某精密机械有限公司,比亚迪股份有限公司,盘式制动器,2024\n"
                         "某某电池科技有限公司,蔚来汽车科技（安徽）有限公司,Battery Pack,2024\n", encoding="utf-8")
    with db.session_scope(db_url) as s:
        import_enterprises(s, firms)
        assert {r.id for r in placement_rows(s, "nev-icv")} == set()  # thin text: nobody is placed yet
    with db.session_scope(db_url) as s:
        import_relations(s, relations)
    with db.session_scope(db_url) as s:
        placed = {r.id: (r.node_id, r.evidence) for r in placement_rows(s, "nev-icv")}
    node, evidence = placed["某某精密机械有限公司"]
    assert node == "chassis-parts"
    assert {"field": "supplied", "word": "盘式制动器", "kind": "strong", "node": "chassis-parts",
            "product": "盘式制动器", "customer": "比亚迪股份有限公司"} in evidence
    node, evidence = placed["某某电池科技有限公司"]
    assert node == "battery-modules-packs"
    assert any(e["field"] == "supplied" and e["customer"] == "蔚来汽车科技（安徽）有限公司" for e in evidence)
    # the customers are carmakers known here only by name: nothing places them
    assert "比亚迪股份有限公司" not in placed

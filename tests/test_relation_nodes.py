"""Component words in English place relations and foreign suppliers on chain nodes (keywords_en): two real
MarkLines rows, in UTF-8 and GBK."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from chainatlas.services.ingest.imports import import_relations
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

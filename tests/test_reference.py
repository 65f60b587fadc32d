"""The national reference set of real firms: rebuilt from ../shared/data exactly, loaded once, public facts only."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainatlas.services.ingest.reference import REFERENCE_SOURCE, load_reference, read_reference, reference_path
from chainatlas.store.models import Enterprise, Placement, Relation

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_file_is_what_the_script_builds_from_the_shared_data(shared_data: Path) -> None:
    spec = importlib.util.spec_from_file_location("build_reference_firms", ROOT / "scripts" / "build_reference_firms.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build(shared_data, "nev-icv")
    with open(reference_path(chain_id="nev-icv"), encoding="utf-8") as fh:
        shipped = list(csv.DictReader(fh))
    assert built == shipped and len(shipped) > 200
    catl = next(r for r in shipped if r["listing_code"] == "300750.SZ")
    assert catl["city_code"] == "3509" and "动力电池系统:0.825388" in catl["products"]


def test_loaded_once_with_its_facts_and_nothing_else(session: Session) -> None:
    session.add(Enterprise(name="比亚迪", listing_code="002594.SZ", source="manual"))  # the user's own record
    session.flush()
    added = load_reference(session, chain_id="nev-icv")
    firms = read_reference(chain_id="nev-icv")
    assert added == len(firms) - 1  # the stock code already held is not added twice
    assert load_reference(session, chain_id="nev-icv") == 0
    loaded = {e.listing_code: e for e in session.scalars(select(Enterprise).where(Enterprise.source == REFERENCE_SOURCE))}
    for f in firms:
        if f.listing_code == "002594.SZ":
            continue
        e = loaded[f.listing_code]
        assert (e.name, e.city_code, e.registered_capital_yuan, e.employees) == (
            f.name, f.city_code, f.registered_capital_yuan, f.employees)
        assert e.revenue_yuan is None and e.output_yuan is None and not e.designations and e.zone_id is None
        assert e.risk_flags == ([f.short_name[:3]] if f.short_name.startswith("*ST") else
                                ["ST"] if f.short_name.startswith("ST") else [])
    assert any(e.risk_flags for e in loaded.values())  # *ST firms are in the set, and vetoed as targets
    assert session.scalar(select(func.count()).select_from(Relation)) == 0
    placed = set(session.scalars(select(Placement.enterprise_id).where(Placement.rejected.is_(False))))
    assert len(placed & {e.id for e in loaded.values()}) >= 0.9 * len(loaded)

"""`chainatlas demo load`: the default chain and the 武汉经开区 demo zone, all marked as demo."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from chainatlas.domain.chain import load_chain
from chainatlas.domain.uscc import is_valid
from chainatlas.services.ingest.reference import REFERENCE_SOURCE, read_reference
from chainatlas.services.demo import GENERATED_NOTE, load_demo
from chainatlas.services.placement import effective_placements
from chainatlas.services.targets import rank_targets
from chainatlas.store import db
from chainatlas.store.models import Enterprise, Project, Relation, Zone


def test_demo_zone_is_complete_and_marked(demo_db_url: str) -> None:
    chain = load_chain("nev-icv")
    with db.session_scope(demo_db_url) as s:
        firms = list(s.scalars(select(Enterprise)))
        assert firms and all(e.source in ("demo", REFERENCE_SOURCE) for e in firms)
        local = [e for e in firms if e.zone_id == "wuhan-edz"]
        leaders = {e.short_name for e in local if e.is_leader}
        assert {"东风汽车", "岚图汽车", "路特斯"} <= leaders
        generated = [e for e in firms if any(a.alias == GENERATED_NOTE for a in e.aliases)]
        assert len(generated) > len(local) / 2
        assert all(is_valid(e.uscc) for e in generated)
        assert all(e.district_code in {"420113", "420114"} for e in local)
        # generated firms are only the zone's own list; every firm outside the zone is real
        assert all(e.zone_id == "wuhan-edz" for e in generated)
        assert sum(e.source == REFERENCE_SOURCE for e in firms) > 200

        placed = effective_placements(s, chain.id, [e.id for e in local])
        segments = Counter(chain.segment_of(p.node_id).id for ps in placed.values() for p in ps)
        # The demo shows strong, weak and missing links: some segments well filled, some absent.
        assert segments["body-interior-exterior"] >= 8
        assert 0 < segments["drive-motor"] <= 3
        assert segments["lidar"] == 0 and segments["cathode"] == 0

        rel_sources = set(s.scalars(select(Relation.source).distinct()))
        assert rel_sources == {"demo:generated"}
        assert s.scalar(select(func.count(Relation.id))) > 100
        # generated relations link generated local firms to the zone's leaders, with no invented amounts
        ends = s.execute(select(Relation.supplier_id, Relation.customer_id, Relation.value_yuan)).all()
        generated_ids = {e.id for e in generated}
        leader_ids = {e.id for e in local if e.is_leader}
        assert all(sup in generated_ids and cust in leader_ids and value is None for sup, cust, value in ends)
        projects = list(s.scalars(select(Project)))
        assert len(projects) >= 15 and all(p.source == "demo" for p in projects)
        assert s.get(Zone, "wuhan-edz").name == "武汉经开区"


def test_demo_refuses_to_load_twice(demo_db_url: str) -> None:
    with db.session_scope(demo_db_url) as s, pytest.raises(RuntimeError, match="演示数据已加载"):
        load_demo(s)


def test_demo_targets_are_real_firms_with_their_public_facts(demo_db_url: str) -> None:
    """Outside targets are real firms, and every fact the list shows about them is the reference file's (or
    companies.yaml's public facts, which carry no figures)."""
    reference = {f.listing_code: f for f in read_reference(chain_id="nev-icv")}
    with db.session_scope(demo_db_url) as s:
        for node in ("drive-motor", "power-semiconductors", "cathode", "lidar"):
            rows = rank_targets(s, "wuhan-edz", node, limit=20, chain_id="nev-icv")
            assert rows, node
            assert node == "lidar" or any(s.get(Enterprise, r.enterprise_id).source == REFERENCE_SOURCE for r in rows)
            for row in rows:
                ent = s.get(Enterprise, row.enterprise_id)
                assert not any(a.alias == GENERATED_NOTE for a in ent.aliases), (node, ent.name)
                assert not row.facts["leaders_supplied"] and not row.facts["designation"]
                if ent.source == REFERENCE_SOURCE:
                    ref = reference[ent.listing_code]
                    assert (ent.name, ent.city_code, row.facts["capital_yuan"], row.facts["employees"]) == (
                        ref.name, ref.city_code, ref.registered_capital_yuan, ref.employees)
                else:  # companies.yaml: name, city and products only
                    assert ent.source == "demo" and row.facts["capital_yuan"] is None
                    assert row.facts["revenue_yuan"] is None

"""`chainatlas demo load`: the default chain and the 武汉经开区 demo zone, all marked as demo."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from chainatlas.domain.chain import load_chain
from chainatlas.domain.uscc import is_valid
from chainatlas.services.demo import GENERATED_NOTE, load_demo
from chainatlas.services.placement import effective_placements
from chainatlas.store import db
from chainatlas.store.models import Enterprise, Project, Relation, Zone


def test_demo_zone_is_complete_and_marked(demo_db_url: str) -> None:
    chain = load_chain("nev-icv")
    with db.session_scope(demo_db_url) as s:
        firms = list(s.scalars(select(Enterprise)))
        assert firms and all(e.source == "demo" for e in firms)
        local = [e for e in firms if e.zone_id == "wuhan-edz"]
        leaders = {e.short_name for e in local if e.is_leader}
        assert {"东风汽车", "岚图汽车", "路特斯"} <= leaders
        generated = [e for e in firms if any(a.alias == GENERATED_NOTE for a in e.aliases)]
        assert len(generated) > len(firms) / 2
        assert all(is_valid(e.uscc) for e in generated)
        assert all(e.district_code in {"420113", "420114"} for e in local)

        placed = effective_placements(s, chain.id, [e.id for e in local])
        segments = Counter(chain.segment_of(p.node_id).id for ps in placed.values() for p in ps)
        # The demo shows strong, weak and missing links: some segments well filled, some absent.
        assert segments["body-interior-exterior"] >= 8
        assert 0 < segments["drive-motor"] <= 3
        assert segments["lidar"] == 0 and segments["cathode"] == 0

        rel_sources = set(s.scalars(select(Relation.source).distinct()))
        assert rel_sources == {"demo:generated"}
        assert s.scalar(select(func.count(Relation.id))) > 100
        projects = list(s.scalars(select(Project)))
        assert len(projects) >= 15 and all(p.source == "demo" for p in projects)
        assert s.get(Zone, "wuhan-edz").name == "武汉经开区"


def test_demo_refuses_to_load_twice(demo_db_url: str) -> None:
    with db.session_scope(demo_db_url) as s, pytest.raises(RuntimeError, match="演示数据已加载"):
        load_demo(s)

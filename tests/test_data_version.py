"""One data version (store/data_version.py): every committed write moves it, in its own transaction, and every cache
of derived output is keyed by it. The case that used to stay stale: firm B merged into A through the review queue
(bulk UPDATEs that add no row and flush no object) kept B on the target list until a 300 s limit ran out."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chainatlas.domain.chain import load_chain
from chainatlas.services import accounts, analysis, ingest, targets
from chainatlas.services.catalog import load_zone
from chainatlas.store import bulk, data_version, db
from chainatlas.store.models import Enterprise, EnterpriseProduct, MergeCandidate, Placement, Zone
from chainatlas.web import views
from chainatlas.web.app import create_app
from web_helpers import PASSWORDS, login, web_env

NODE = "thermal-management"


def _world(url: str) -> dict[str, int]:
    """A in the zone, on no node; B (to be merged into A) and C outside it, on the node; the pair A–B waits for
    review."""
    with db.session_scope(url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")  # which fills the regions from the shipped GB/T 2260 table
        firms = {
            "A": Enterprise(name="武汉热管理有限公司", province_code="42", city_code="4201", zone_id="wuhan-edz",
                            status="存续"),
            "B": Enterprise(name="宜昌热管理科技有限公司", province_code="42", city_code="4205", status="存续",
                            registered_capital_yuan=50_000_000),
            "C": Enterprise(name="浙江热管理股份有限公司", province_code="33", city_code="3306", status="存续",
                            registered_capital_yuan=90_000_000),
        }
        s.add_all(firms.values())
        s.flush()
        for key in ("B", "C"):
            s.add(Placement(enterprise_id=firms[key].id, chain_id="nev-icv", node_id=NODE, method="rule", score=2.0,
                            confidence=0.8))
        pair = MergeCandidate(left_id=firms["A"].id, right_id=firms["B"].id, probability=0.9, evidence={})
        s.add(pair)
        s.flush()
        return {**{k: e.id for k, e in firms.items()}, "pair": pair.id}


@pytest.mark.db
def test_a_merge_shows_at_once_in_targets_gaps_and_the_api(db_url: str, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    web_env(monkeypatch, tmp_path)
    ids = _world(db_url)
    with db.session_scope(db_url) as s:
        accounts.create_user(s, "analyst", PASSWORDS["analyst"], "analyst")
    chain = load_chain("nev-icv")

    def seen(client: TestClient) -> tuple[set[int], ...]:
        with db.session_scope(db_url) as s:
            ranked = {r.enterprise_id for r in targets.rank_targets(s, "wuhan-edz", NODE, "nev-icv")}
            local = set(analysis.diagnose(s, "wuhan-edz", "nev-icv").nodes[NODE].enterprise_ids)
            zone = s.get(Zone, "wuhan-edz")
            cached = set(views.diagnose(s, zone, chain).nodes[NODE].enterprise_ids)  # the web's diagnosis cache
        api = client.get(f"/api/nodes/{NODE}").json()
        return (ranked, local, cached, {t["enterprise_id"] for t in api["targets"]},
                set(api["strength"]["enterprise_ids"]))

    with TestClient(create_app(db_url)) as client:
        login(client, "analyst")
        assert seen(client) == ({ids["B"], ids["C"]}, set(), set(), {ids["B"], ids["C"]}, set())
        assert seen(client)[0] == {ids["B"], ids["C"]}  # now from the caches
        with db.session_scope(db_url) as s:
            ingest.accept(s, ids["pair"], "analyst")
        # the same process, no waiting: B is gone from the targets, and A (in the zone) is on the node
        assert seen(client) == ({ids["C"]}, {ids["A"]}, {ids["A"]}, {ids["C"]}, {ids["A"]})
        with db.session_scope(db_url) as s:
            ingest.split(s, ids["pair"], "analyst")
        assert seen(client) == ({ids["B"], ids["C"]}, set(), set(), {ids["B"], ids["C"]}, set())


@pytest.mark.db
def test_the_version_moves_with_committed_writes_only(db_url: str) -> None:
    ids = _world(db_url)
    factory = db.session_factory(db_url)

    def version() -> int:
        with factory() as s:
            return data_version.current(s)

    start = version()
    assert start > 0  # the world's own writes moved it
    with db.session_scope(db_url) as s:  # reading moves nothing
        s.scalars(select(Enterprise)).all()
    assert version() == start
    with factory() as s:  # a write rolled back moves nothing
        s.get(Enterprise, ids["C"]).registered_capital_yuan = 1
        s.flush()
        s.rollback()
    assert version() == start
    with db.session_scope(db_url) as s:  # an ORM change: one step, at commit
        s.get(Enterprise, ids["C"]).registered_capital_yuan = 2
        before_commit = data_version.cache_key(s)
        assert before_commit[0] == start and before_commit[1:] != (0, 0)  # its own writes set it apart meanwhile
    assert version() == start + 1
    with db.session_scope(db_url) as s:  # a Core bulk write on the session's connection
        bulk.insert_rows(s, EnterpriseProduct.__table__, [{"enterprise_id": ids["C"], "product": "热泵空调"}])
    assert version() == start + 2

"""Entity resolution (splink on DuckDB) and the merge-review queue: accept, reject, split — all audited."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select

from chainatlas.engines.linkage import MERGE_THRESHOLD, REVIEW_THRESHOLD, find_matches
from chainatlas.services.ingest import review
from chainatlas.services.ingest.imports import import_enterprises
from chainatlas.services.catalog.zones import load_zone
from chainatlas.store import db
from chainatlas.store.models import AuditEntry, Enterprise, EnterpriseAlias, EnterpriseProduct, MergeCandidate


def _rec(id: int, core: str, *, new: bool = True, district: str | None = "420113", city: str | None = "4201",
         address: str | None = "通航大道18号", uscc: str | None = None, founded: str | None = None,
         branch: bool = False) -> dict:
    return {"id": id, "is_new": new, "name_core": core, "is_branch": branch, "district_code": district,
            "city_code": city, "address": address, "uscc": uscc, "founded": founded, "listing": None}


def _pairs(*records: dict) -> dict[tuple[int, int], float]:
    return {(m.left_id, m.right_id): m.probability for m in find_matches(pa.Table.from_pylist(list(records)), 0.01)}


def test_typo_at_the_same_address_is_the_same_firm() -> None:
    pairs = _pairs(_rec(1, "华创智能科技", new=False, founded="2019-01-02"), _rec(2, "华刨智能科技", founded="2019-01-02"))
    assert pairs[(1, 2)] >= MERGE_THRESHOLD


def test_same_core_name_in_another_city_is_another_firm() -> None:
    pairs = _pairs(_rec(1, "华创智能科技", new=False),
                   _rec(2, "华创智能科技", district="440305", city="4403", address="科技园南区1号"))
    assert pairs.get((1, 2), 0.0) < REVIEW_THRESHOLD


def test_same_core_in_another_district_without_address_waits_for_review() -> None:
    pairs = _pairs(_rec(1, "华创智能科技", new=False), _rec(2, "华创智能科技", district="420114", address=None))
    assert REVIEW_THRESHOLD <= pairs[(1, 2)] < MERGE_THRESHOLD


def test_different_valid_codes_or_a_branch_keep_firms_apart() -> None:
    codes = _pairs(_rec(1, "华创智能科技", new=False, uscc="914201133"), _rec(2, "华创智能科技", uscc="914201134"))
    assert codes.get((1, 2), 0.0) < REVIEW_THRESHOLD
    branch = _pairs(_rec(1, "华创智能科技", new=False), _rec(2, "华创智能科技", branch=True, address=None))
    assert branch.get((1, 2), 0.0) < MERGE_THRESHOLD


def test_pairs_of_two_known_firms_are_not_scored() -> None:
    assert _pairs(_rec(1, "华创智能科技", new=False), _rec(2, "华创智能科技", new=False)) == {}


@pytest.fixture
def zone_db(db_url: str) -> str:
    with db.session_scope(db_url) as s:
        load_zone(s, "wuhan-edz")
    return db_url


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.db
def test_review_accept_then_split_restores_both_records(zone_db: str, tmp_path: Path) -> None:
    with db.session_scope(zone_db) as s:
        import_enterprises(s, _write(tmp_path / "a.csv", "企业名称,注册地址,主营产品,英文名称\n"
                                     "武汉华创智能科技有限公司,武汉市汉南区通航大道18号,动力电池,Huachuang Tech\n"))
    with db.session_scope(zone_db) as s:
        summary = import_enterprises(s, _write(tmp_path / "b.csv", "企业名称,区县,主营产品,成立日期,网址\n"
                                               "华创智能科技（武汉）有限公司,蔡甸区,电池包,2019-01-02,hc.example\n"))
    assert (summary.rows_inserted, summary.rows_review, summary.rows_linked) == (1, 1, 0)
    with db.session_scope(zone_db) as s:
        [item] = review.list_candidates(s)
        assert (item.left["name"], item.right["name"]) == ("武汉华创智能科技有限公司", "华创智能科技（武汉）有限公司")
        assert item.evidence["name_core"] == "核心名称相同" and item.evidence["place"] == "城市相同"
        left_id, right_id = item.left["id"], item.right["id"]
        before = {e.id: (e.founded_on, e.website, e.district_code) for e in s.scalars(select(Enterprise))}

    with db.session_scope(zone_db) as s:
        review.accept(s, item.id, "analyst")
    with db.session_scope(zone_db) as s:
        survivor, merged = s.get(Enterprise, left_id), s.get(Enterprise, right_id)
        assert merged.merged_into_id == left_id
        assert sorted(p.product for p in survivor.products) == ["动力电池", "电池包"]
        assert {a.alias for a in survivor.aliases} == {"Huachuang Tech", "华创智能科技（武汉）有限公司"}
        assert (survivor.website, str(survivor.founded_on)) == ("hc.example", "2019-01-02")  # blanks filled
        assert survivor.district_code == "420113"  # known values are kept
        assert review.count_pending(s) == 0
        with pytest.raises(review.ReviewError, match="只有待审核"):
            review.accept(s, item.id, "analyst")

    with db.session_scope(zone_db) as s:
        review.split(s, item.id, "analyst")
    with db.session_scope(zone_db) as s:
        assert {e.id: (e.founded_on, e.website, e.district_code) for e in s.scalars(select(Enterprise))} == before
        assert s.get(Enterprise, right_id).merged_into_id is None
        products = {p.product: p.enterprise_id for p in s.scalars(select(EnterpriseProduct))}
        assert products == {"动力电池": left_id, "电池包": right_id}
        assert set(s.scalars(select(EnterpriseAlias.alias))) == {"Huachuang Tech"}
        assert s.get(MergeCandidate, item.id).status == "split"
        actions = [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions[-2:] == ["enterprise.merge", "enterprise.split"]
        # the zone the fixture saved and the imports (their placing included) are the system's; the rest the analyst's
        decisions = select(AuditEntry).where(AuditEntry.action.not_in(("import.enterprises", "classify", "zone.save")))
        assert all(a.username == "analyst" for a in s.scalars(decisions))


@pytest.mark.db
def test_review_reject_and_automatic_merge_can_be_split(zone_db: str, tmp_path: Path) -> None:
    with db.session_scope(zone_db) as s:
        summary = import_enterprises(s, _write(tmp_path / "a.csv",
            "企业名称,统一社会信用代码,注册地址,成立日期\n"
            "武汉华创智能科技有限公司,,武汉市汉南区通航大道18号,2019-01-02\n"
            "武汉华刨智能科技有限公司,,武汉市汉南区通航大道18号,2019-01-02\n"  # typo: merged automatically
            "武汉华创智能科技有限公司蔡甸分公司,,武汉市蔡甸区某路1号,\n"))
    assert (summary.rows_inserted, summary.rows_linked) == (2, 1)
    with db.session_scope(zone_db) as s:
        auto = s.scalars(select(MergeCandidate).where(MergeCandidate.status == "accepted")).one()
        assert auto.decided_by == "auto"
        review.split(s, auto.id, "analyst")
    with db.session_scope(zone_db) as s:
        assert s.query(Enterprise).filter(Enterprise.merged_into_id.isnot(None)).count() == 0
        s.add(MergeCandidate(left_id=auto.left_id, right_id=auto.right_id, probability=0.7))
    with db.session_scope(zone_db) as s:
        pending = s.scalars(select(MergeCandidate).where(MergeCandidate.status == "pending")).one()
        review.reject(s, pending.id, "analyst")
    with db.session_scope(zone_db) as s:
        assert s.get(MergeCandidate, pending.id).status == "rejected"
        assert s.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc())).first() == "enterprise.merge_rejected"


@pytest.mark.db
def test_known_firms_block_by_each_key_with_their_stored_values(zone_db: str, tmp_path: Path) -> None:
    """The known side of the linkage table (read column-wise from the database): a stored firm comes in when its
    name core, the core's head with its city, its tail with its district, or its address rest with its district
    meets a new record's — compared as exact pairs — and carries its stored values (dates as ISO text)."""
    from chainatlas.services.ingest.link import known_blocking

    with db.session_scope(zone_db) as s:
        import_enterprises(s, _write(tmp_path / "known.csv",
            "企业名称,统一社会信用代码,注册地址,成立日期,股票代码\n"
            "武汉华创智能科技有限公司,,湖北省武汉市汉南区通航大道18号,2019-01-02,600001.SH\n"
            "武汉东风零部件有限公司,,湖北省武汉市蔡甸区沌口路5号,,\n"
            "深圳鹏程电子有限公司,,广东省深圳市南山区科技园1号,,\n"), fuzzy=False)
    with db.session_scope(zone_db) as s:
        ids = {e.name: e.id for e in s.scalars(select(Enterprise))}

        def block(**keys: set) -> list[dict]:
            sets = {"cores": set(), "heads": set(), "tails": set(), "rests": set()} | keys
            return known_blocking(s, set(), sets["cores"], sets["heads"], sets["tails"], sets["rests"], {}).to_pylist()

        [row] = block(cores={"华创智能科技"})
        assert row == {"id": ids["武汉华创智能科技有限公司"], "is_new": False, "name_core": "华创智能科技",
                       "is_branch": False, "district_code": "420113", "city_code": "4201", "address": "通航大道18号",
                       "uscc": None, "founded": "2019-01-02", "listing": "600001"}
        assert [r["id"] for r in block(heads={("东风", "4201")})] == [ids["武汉东风零部件有限公司"]]
        assert block(heads={("东风", None)}) == [] and block(heads={("东风", "4403")}) == []
        assert [r["id"] for r in block(tails={("零部件", "420114")})] == [ids["武汉东风零部件有限公司"]]
        assert [r["id"] for r in block(rests={("科技园1号", "440305")})] == [ids["深圳鹏程电子有限公司"]]
        assert block(rests={("科技园1号", "420113")}) == []
        assert known_blocking(s, {ids["深圳鹏程电子有限公司"]}, {"鹏程电子"}, set(), set(), set(), {}).num_rows == 0

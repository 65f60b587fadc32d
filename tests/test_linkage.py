"""Entity resolution (splink on DuckDB) and the merge-review queue: accept, reject, split — all audited."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select

from chainatlas.engines.linkage import MERGE_THRESHOLD, REVIEW_THRESHOLD, CharModel, find_matches
from chainatlas.ingest.names import legal_stem, name_key
from chainatlas.services.ingest import review
from chainatlas.services.ingest import import_enterprises
from chainatlas.services.catalog import load_zone
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


def _named(id: int, name: str, *, new: bool, city: str | None = "5301", founded: str | None = None) -> dict:
    """A record as the import builds it from a name: short-named records carry their short form, full-named ones
    their legal stem."""
    from chainatlas.ingest.names import looks_like_full_name, short_form

    key = name_key(name)
    full = looks_like_full_name(name)
    return {**_rec(id, key.core, new=new, district=None, city=city, address=None, founded=founded),
            "short_name": None if full else short_form(name), "name_full": legal_stem(key.norm) if full else None}


def _firm_names(n: int) -> list[str]:
    """n full names shaped like a registry's: a place, a two-character 字号 from common characters, a trade."""
    import random

    rng = random.Random(5)
    places = ("武汉", "深圳", "上海", "北京", "南京", "杭州", "成都", "西安", "湖南", "广东")
    common = "华新中天东方金恒信达宏泰兴隆海通博远联创安盛佳科益鑫德润昌美康嘉永明辉光辰"
    trades = ("科技", "电子", "汽车零部件", "银行", "新材料", "医药", "机械", "能源", "贸易", "建设")
    return [f"{rng.choice(places)}{''.join(rng.sample(common, 2))}{rng.choice(trades)}有限公司" for _ in range(n)]


# a character model of 3,000 registry-like firm names and one 云南白药
_MODEL = CharModel([legal_stem(name_key(n).norm) for n in [*_firm_names(3000), "云南白药集团股份有限公司"]])


def _scored(*records: dict) -> dict[tuple[int, int], float]:
    matches = find_matches(pa.Table.from_pylist(list(records)), 0.01, _MODEL)
    return {(m.left_id, m.right_id): m.probability for m in matches}


def test_a_distinctive_short_name_read_in_a_full_name_is_the_same_firm() -> None:
    pairs = _scored(_named(1, "云南白药", new=False), _named(2, "云南白药集团股份有限公司", new=True))
    assert pairs[(1, 2)] >= MERGE_THRESHOLD
    # trading marks are no part of the name: *ST and the share class are set aside
    assert _scored(_named(1, "*ST云南白药A", new=False), _named(2, "云南白药集团股份有限公司", new=True))[(1, 2)] >= MERGE_THRESHOLD


def test_common_characters_or_another_city_are_not_enough() -> None:
    assert _MODEL.information("云南白药") > 2 * _MODEL.information("银行")
    # 康美: two characters many names share
    common = _scored(_named(1, "康美", new=False), _named(2, "康美药业股份有限公司", new=True))
    assert common.get((1, 2), 0.0) < MERGE_THRESHOLD
    # not readable in order: 白云 is not 云白
    assert _scored(_named(1, "白云药", new=False), _named(2, "云南白药集团股份有限公司", new=True)).get((1, 2), 0) < 0.5


@pytest.fixture
def zone_db(db_url: str) -> str:
    with db.session_scope(db_url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")
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
    meets a new record's — compared as exact pairs — and carries its stored values (dates as ISO text); a short
    name and the full names it could be read in find each other by their heads."""
    from chainatlas.services.ingest.link import ShortKeys, known_blocking

    with db.session_scope(zone_db) as s:
        import_enterprises(s, _write(tmp_path / "known.csv",
            "企业名称,统一社会信用代码,注册地址,成立日期,股票代码,所属行业\n"
            "武汉华创智能科技有限公司,,湖北省武汉市汉南区通航大道18号,2019-01-02,600001.SH,汽车配件\n"
            "武汉东风零部件有限公司,,湖北省武汉市蔡甸区沌口路5号,,,\n"
            "深圳鹏程电子有限公司,,广东省深圳市南山区科技园1号,,,\n"
            "ST长江A,,湖北省武汉市江岸区沿江大道1号,,,\n"), fuzzy=False)
    with db.session_scope(zone_db) as s:
        ids = {e.name: e.id for e in s.scalars(select(Enterprise))}

        def block(shorts: ShortKeys = ShortKeys.of([], [], []), **keys: set) -> list[dict]:
            sets = {"cores": set(), "heads": set(), "tails": set(), "rests": set()} | keys
            return known_blocking(s, set(), sets["cores"], sets["heads"], sets["tails"], sets["rests"], {},
                                   shorts)[0].to_pylist()

        [row] = block(cores={"华创智能科技"})
        assert row == {"id": ids["武汉华创智能科技有限公司"], "is_new": False, "name_core": "华创智能科技",
                       "is_branch": False, "district_code": "420113", "city_code": "4201", "address": "通航大道18号",
                       "uscc": None, "founded": "2019-01-02", "listing": "600001", "short_name": None,
                       "name_full": "武汉华创智能科技", "name_en": None, "industry": "汽车配件"}
        assert [r["id"] for r in block(heads={("东风", "4201")})] == [ids["武汉东风零部件有限公司"]]
        assert block(heads={("东风", None)}) == [] and block(heads={("东风", "4403")}) == []
        assert [r["id"] for r in block(tails={("零部件", "420114")})] == [ids["武汉东风零部件有限公司"]]
        assert [r["id"] for r in block(rests={("科技园1号", "440305")})] == [ids["深圳鹏程电子有限公司"]]
        assert block(rests={("科技园1号", "420113")}) == []
        # a new full name (长江电力集团, core head 长江) meets the stored short name ST长江A, read as 长江
        [row] = block(ShortKeys.of([(None, "长江电力集团")], ["长江电力集团"], [None]))
        assert (row["id"], row["short_name"], row["name_full"]) == (ids["ST长江A"], "长江", None)
        # a new short name (鹏程, head 鹏程) meets the stored full name whose core begins so
        [row] = block(ShortKeys.of([("鹏程", None)], ["鹏程"], [None]))
        assert (row["id"], row["name_full"]) == (ids["深圳鹏程电子有限公司"], "深圳鹏程电子")
        assert known_blocking(s, {ids["深圳鹏程电子有限公司"]}, {"鹏程电子"}, set(), set(), set(), {},
                               ShortKeys.of([], [], []))[0].num_rows == 0


def test_a_short_name_that_fits_several_firms_goes_to_review() -> None:
    from chainatlas.services.ingest.link import fits_several

    records = [_named(1, "东风汽车", new=False), _named(2, "东风汽车集团有限公司", new=True),
               _named(3, "东风汽车股份有限公司", new=True), _named(4, "云南白药集团股份有限公司", new=True),
               _named(5, "云南白药", new=False)]
    matches = find_matches(pa.Table.from_pylist(records), REVIEW_THRESHOLD, _MODEL)
    assert {(m.left_id, m.right_id) for m in matches if m.probability >= MERGE_THRESHOLD} >= {(1, 2), (4, 5)}
    assert (1, 3) in {(m.left_id, m.right_id) for m in matches}
    unsure = fits_several(matches, short_named={1, 5})
    # the group and the listed company both read 东风汽车: neither is merged blindly; 云南白药 fits one firm
    assert (4, 5) not in unsure and (1, 2) in unsure and all("2家" in note for note in unsure.values())


@pytest.mark.db
def test_former_names_find_the_firm_and_names_are_kept_with_source_and_date(zone_db: str, tmp_path: Path) -> None:
    from datetime import date

    with db.session_scope(zone_db) as s:
        import_enterprises(s, _write(tmp_path / "a.csv", "企业名称,注册地址\n"
                                     "武汉新创汽车零部件有限公司,湖北省武汉市蔡甸区沌口路8号\n"))
    renamed = tmp_path / "b.csv"
    renamed.write_bytes("企业名称,曾用名,注册地址\n武汉恒创汽车科技有限公司,武汉新创汽车零部件有限公司,"
                        "湖北省武汉市蔡甸区沌口路8号\n".encode("gbk"))
    with db.session_scope(zone_db) as s:
        summary = import_enterprises(s, renamed)
    assert (summary.rows_merged, summary.rows_inserted) == (1, 0)
    with db.session_scope(zone_db) as s:
        [firm] = s.scalars(select(Enterprise)).all()
        names = {a.alias: (a.kind, a.source, a.recorded_on) for a in firm.aliases}
    # the incoming name is kept beside the stored one, with the batch it came from and the day
    assert names["武汉恒创汽车科技有限公司"] == ("other", f"import:{summary.batch_id}", date.today())


def test_short_names_in_a_gbk_list_meet_the_full_names_of_a_real_list(shared_data: Path, sqlite_url: str,
                                                                      tmp_path: Path) -> None:
    """The 2016 A-share list (full names) is in the database; a bureau's list of short names (GBK) finds them."""
    full = shared_data / "listed_companies" / "wfp_a_share_company_info_2016.csv"
    with db.session_scope(sqlite_url) as s:
        import_enterprises(s, full, mapping={"columns": {"stock_code": None, "sname": None}}, fuzzy=False)
    short = tmp_path / "简称名单.csv"
    short.write_bytes(("企业名称,城市\n云南白药,昆明市\n陆家嘴,上海市\n中海集运,上海市\n华意压缩,景德镇市\n"
                       "贵州茅台,遵义市\n").encode("gbk"))
    with db.session_scope(sqlite_url) as s:
        summary = import_enterprises(s, short)
        merged = {e.name: s.get(Enterprise, e.merged_into_id).name for e in s.scalars(
            select(Enterprise).where(Enterprise.merged_into_id.is_not(None)))}
    assert merged["云南白药"] == "云南白药集团股份有限公司"
    assert merged["陆家嘴"] == "上海陆家嘴金融贸易区开发股份有限公司"
    assert merged["华意压缩"] == "华意压缩机股份股份有限公司"
    assert summary.rows_linked >= 4 and summary.rows_review <= 1


_OLD, _NEW, _ADDRESS = "武汉新创汽车零部件有限公司", "武汉恒创汽车科技有限公司", "湖北省武汉市蔡甸区沌口路8号"
_RESPELLED = "新创汽车零部件（武汉）有限公司"  # the old name with the place in brackets: no exact key meets it


@pytest.mark.db
@pytest.mark.parametrize("stored, incoming, former", [
    # the stored firm keeps its former name; the file gives that name spelled its own way
    ((_NEW, _OLD), (_RESPELLED, ""), _OLD),
    # the file's row gives its former name, spelled its own way; the stored firm still has that name
    ((_OLD, ""), (_NEW, _RESPELLED), _RESPELLED),
], ids=["stored", "incoming"])
def test_a_former_name_is_matched_like_a_name(zone_db: str, tmp_path: Path, stored: tuple, incoming: tuple,
                                              former: str) -> None:
    for i, (name, old) in enumerate((stored, incoming)):
        with db.session_scope(zone_db) as s:
            summary = import_enterprises(s, _write(tmp_path / f"{i}.csv",
                                                   f"企业名称,曾用名,注册地址\n{name},{old},{_ADDRESS}\n"))
    assert (summary.rows_merged, summary.rows_linked) == (0, 1)
    with db.session_scope(zone_db) as s:
        merged = s.scalar(select(Enterprise).where(Enterprise.merged_into_id.is_not(None)))
        assert (merged.name, s.get(Enterprise, merged.merged_into_id).name) == (incoming[0], stored[0])
        [decision] = s.scalars(select(MergeCandidate).where(MergeCandidate.right_id == merged.id)).all()
        assert f"曾用名 {former}" in decision.evidence["name_core"]


def test_m_and_u_are_estimated_from_labelled_pairs_and_random_pairs() -> None:
    from chainatlas.engines.linkage import MIN_PAIRS, fit

    chars = [chr(c) for c in range(0x4E00, 0x4E00 + 120)]
    records = []
    for i in range(30):
        core = "".join(chars[4 * i:4 * i + 4])
        typo = core if i < 20 else core[:3] + chr(0x9000 + i)  # ten re-typed with one character changed
        records += [{**_rec(i, core, new=False), "same_firm": str(i)},
                    {**_rec(100 + i, typo, address=None), "same_firm": str(i)}]
    fits = {(f.comparison, f.label): f for f in fit(pa.Table.from_pylist(records), None, "same_firm", max_pairs=1e4)}
    same, typo = fits[("name_core", "核心名称相同")], fits[("name_core", "核心名称仅差一字")]
    assert (same.m_pairs, typo.m_pairs) == (20, 10)
    assert same.m == pytest.approx(20 / 30) and typo.m == pytest.approx(10 / 30)
    # no two different firms share a core: nothing to estimate u from, so it is kept from PRIOR (None)
    assert same.u is None and same.u_pairs < MIN_PAIRS
    # every firm is in one county: a random pair of different firms agrees on it
    assert fits[("place", "区县相同")].u == pytest.approx(1.0)


def test_the_shipped_estimates_are_in_force() -> None:
    from chainatlas.engines import linkage

    fitted = linkage.fitted_values()
    assert linkage.SETTINGS == linkage.settings(fitted)
    level = {(c["output_column_name"], lv["label_for_charts"]): lv for c in linkage.SETTINGS["comparisons"]
             for lv in c["comparison_levels"]}
    estimated = [(level[(name, label)], values) for name, levels in fitted.items()
                 for label, values in levels.items() if "m" in values]
    assert len(estimated) >= 5
    assert all((lv["m_probability"], lv["u_probability"]) == (v["m"], v["u"]) for lv, v in estimated)


def test_industry_words_that_agree_are_evidence_and_words_of_another_classification_weigh_little() -> None:
    import math

    def weight(left: str | None, right: str | None) -> float:
        p = _pairs({**_rec(1, "恒通精密", new=False, address=None), "industry": left},
                   {**_rec(2, "恒通精密", district="420114", address=None), "industry": right}).get((1, 2), 0.0)
        return math.log2(p / (1 - p))

    unknown = weight(None, "汽车配件")
    assert weight("汽车零部件", "汽车零部件") > weight("汽车零部件", "汽车零部件与设备") > unknown + 2
    # 申万's words against a vendor's: not a disagreement, at most a small step down
    assert unknown - 1 < weight("汽车配件", "电子电气组件与设备") < unknown


def test_the_chance_that_industry_words_agree_is_computed_from_the_lists_at_hand() -> None:
    from chainatlas.engines.linkage import industry_u

    # one classification on both sides: half of all pairs agree by chance
    one = industry_u(["汽车配件", "汽车配件", None], {"汽车配件": 2, "银行": 2})["industry"]
    assert one["行业用语相同"]["u"] == pytest.approx(0.5) and one["行业用语相近"]["u"] == pytest.approx(1e-6)
    # two vendors' words: never the same, sometimes one inside the other (航空 / 航空航天)
    two = industry_u(["航空", "银行"], {"航空航天": 1, "全国性银行": 1, "软件服务": 2})["industry"]
    assert two["行业用语相同"]["u"] == pytest.approx(1e-6) and two["行业用语相近"]["u"] == pytest.approx(2 / 8)
    assert industry_u([None], {"银行": 3}) == {}

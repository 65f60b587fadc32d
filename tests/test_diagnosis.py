"""Chain diagnosis on small worlds built in the test: verdicts, gap types, opportunity, leaders, what-if.

World (zone "tz" lies in city 4201; 100 enterprises in all):
                 mat  chip  cell  pack  motor  oem  unplaced | total
  zone tz 4201    1     0     4     0     2     1      3     |  11
  city 4401      10     0     0     0     2     2     30     |  44
  city 3301       0     5     1     0     2     0     20     |  28
  city 3209       0     4     0     3     0     0     10     |  17
  all            11     9     5     3     6     3             | 100   (battery = cell + pack = 8; recycle: none)

LQ (benchmark = all 100 firms), zone total 11; scale is unknown (capital for 2 of the 5 cell firms in the database,
under the 50 % coverage), so verdicts go by count above the sample floor of 3 firms:
  cell    (4/11) / (5/100)  = 7.27, 4 firms  → 强 (≥1.5 and ≥3)
  battery (4/11) / (8/100)  = 4.55, 4 firms  → 强
  motor   (2/11) / (6/100)  = 3.03, 2 firms  → 样本不足 (a quotient on 2 firms; 较强 with the floor at 2)
  oem     (1/11) / (3/100)  = 3.03, 1 firm   → 样本不足 by numbers, lifted to 较强: the firm is a marked chain leader
  mat     (1/11) / (11/100) = 0.83, 1 firm   → 样本不足 → gap 强链
  chip    0                                  → 缺; neighbour motor is only 较强 → 补链
  pack    0                                  → 缺; parent battery is 强 → 延链
  recycle nobody in the whole database        → 未知, no gap
Leader L (oem) buys from: A (zone, cell, 300 yuan), B (4401, mat, 100), C (3301, chip, value unknown), D (3209, pack, 100)
  local ratio by count 1/4 = 25%; by value 300/500 = 60%; outside nodes mat, chip, pack.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.services import analysis as dg
from chainatlas.services.analysis import world as world_reader
from chainatlas.services.analysis import SettingsError, load_settings
from chainatlas.store import db
from chainatlas.store.models import Base, Enterprise, Placement, Project, Relation, Zone

CHAIN_YAML = """
id: test-chain
name_zh: 测试链
name_en: Test chain
stages:
  - {id: upstream, name_zh: 上游}
  - {id: midstream, name_zh: 中游}
  - {id: downstream, name_zh: 下游}
nodes:
  - {id: mat, stage: upstream, name_zh: 材料, core: true, weight: 2, supplies: [battery]}
  - {id: chip, stage: upstream, name_zh: 芯片, core: true, weight: 2, supplies: [motor]}
  - {id: battery, stage: midstream, name_zh: 电池, core: true, weight: 3, supplies: [oem]}
  - {id: cell, parent: battery, stage: midstream, name_zh: 电芯, core: true, weight: 3}
  - {id: pack, parent: battery, stage: midstream, name_zh: 电池包, weight: 1}
  - {id: motor, stage: midstream, name_zh: 电机, weight: 1, supplies: [oem]}
  - {id: oem, stage: downstream, name_zh: 整车, core: true, weight: 3}
  - {id: recycle, stage: downstream, name_zh: 回收, weight: 1}
"""

WORLD = {  # city -> node -> count (None = unplaced)
    "4401": {"mat": 10, "motor": 2, "oem": 2, None: 30},
    "3301": {"chip": 5, "cell": 1, "motor": 2, None: 20},
    "3209": {"pack": 3, "chip": 4, None: 10},
}


@pytest.fixture
def chain_path(tmp_path: Path) -> str:
    path = tmp_path / "test-chain.yaml"
    path.write_text(CHAIN_YAML, encoding="utf-8")
    return str(path)


def _firm(s: Session, name: str, city: str, node: str | None, zone: str | None = None, **kw: object) -> Enterprise:
    firm = Enterprise(name=name, city_code=city, province_code=city[:2], zone_id=zone, **kw)
    s.add(firm)
    s.flush()
    if node:
        s.add(Placement(enterprise_id=firm.id, chain_id="test-chain", node_id=node, method="rule", score=1.0))
    return firm


def build_world(s: Session) -> dict[str, Enterprise]:
    s.add(Zone(id="tz", name="测试区", city_code="4201"))
    s.flush()
    named: dict[str, Enterprise] = {}
    named["A"] = _firm(s, "电芯甲", "4201", "cell", "tz", registered_capital_yuan=50_000_000, revenue_yuan=200_000_000)
    _firm(s, "电芯乙", "4201", "cell", "tz", registered_capital_yuan=30_000_000)
    _firm(s, "电芯丙", "4201", "cell", "tz")
    named["cell4"] = _firm(s, "电芯丁", "4201", "cell", "tz")
    _firm(s, "电机甲", "4201", "motor", "tz")
    _firm(s, "电机乙", "4201", "motor", "tz")
    _firm(s, "材料甲", "4201", "mat", "tz")
    named["L"] = _firm(s, "整车链主", "4201", "oem", "tz", is_leader=True, listing_code="600000")
    for i in range(3):
        _firm(s, f"本区其他{i}", "4201", None, "tz")
    for city, nodes in WORLD.items():
        for node, n in nodes.items():
            for i in range(n):
                named[f"{city}-{node}-{i}"] = _firm(s, f"{city}{node}{i}", city, node)
    for key, sup, node, value in (("A", "A", None, 300), ("B", "4401-mat-0", None, 100),
                                  ("C", "3301-chip-0", "chip", None), ("D", "3209-pack-0", None, 100)):
        s.add(Relation(supplier_id=named[sup].id, customer_id=named["L"].id, node_id=node, value_yuan=value,
                       product=f"零件{key}"))
    s.commit()
    return named


@pytest.fixture
def world(session: Session) -> dict[str, Enterprise]:
    return build_world(session)


def test_verdicts_and_reasons(session: Session, world: dict, chain_path: str) -> None:
    d = dg.diagnose(session, "测试区", chain_path)
    verdicts = {n: ns.verdict for n, ns in d.nodes.items()}
    assert verdicts == {
        "cell": "强", "battery": "强", "motor": "样本不足", "oem": "较强", "mat": "样本不足",
        "chip": "缺", "pack": "缺", "recycle": "未知",
    }
    cell = d.nodes["cell"]
    assert cell.firm_count == 4 and cell.lq == pytest.approx((4 / 11) / (5 / 100))
    assert cell.capital_yuan == 80_000_000 and cell.revenue_yuan == 200_000_000 and cell.output_yuan is None
    text = "\n".join(cell.reasons)
    assert "区位商 7.27" in text and "4/11" in text and "5/100" in text and "8,000万元（2/4 家有数据）" in text
    assert "产值：数据不足" in text
    assert d.nodes["motor"].capital_yuan is None  # unknown is not zero
    assert d.nodes["oem"].leader_count == 1 and "至少判为 较强" in "".join(d.nodes["oem"].reasons)
    assert d.nodes["mat"].lq == pytest.approx((1 / 11) / (11 / 100))
    assert "全库没有任何企业" in d.nodes["recycle"].reasons[0]
    assert d.zone_firm_count == 11 and d.region_count == 4
    assert sorted(d.nodes["cell"].enterprise_ids)[0] == world["A"].id
    assert not d.is_demo
    for ns in d.nodes.values():
        if ns.verdict == "未知":
            assert ns.density is None and ns.quadrant == ""
        else:
            assert ns.density is not None and 0 <= ns.density <= 1 and ns.quadrant
    assert d.nodes["cell"].quadrant == "优势且关联强" and d.nodes["chip"].present is False


def test_gap_types_and_opportunity_components(session: Session, world: dict, chain_path: str) -> None:
    d = dg.diagnose(session, "tz", chain_path)
    gaps = {g.node_id: g for g in d.gaps}
    # motor's two firms are too few to call it anything but 样本不足, which is a link to strengthen
    assert {n: g.gap_type for n, g in gaps.items()} == {"mat": "强链", "motor": "强链", "chip": "补链", "pack": "延链"}
    pack = gaps["pack"]
    # importance = 0.6 × core(0) + 0.4 × weight 1 / max weight 3
    assert pack.components["importance"] == pytest.approx(0.4 / 3, abs=1e-4)
    assert pack.components["gap"] == 1.0
    best = max(ns.density for ns in d.nodes.values() if ns.density is not None)
    assert pack.components["feasibility"] == pytest.approx(d.nodes["pack"].density / best, abs=1e-4)
    assert pack.components["demand"] == 1.0  # one outside purchase, the most of any node
    expected = 0.30 * pack.components["importance"] + 0.20 + 0.25 * pack.components["feasibility"] + 0.25
    assert pack.opportunity == pytest.approx(expected, abs=1e-3)
    assert any("电池(强)" in r for r in pack.reasons)
    # mat: LQ 0.83 → gap by LQ 1 − 0.83/1 = 0.17; by count 1 − 1/2 = 0.5 → 0.5
    assert gaps["mat"].components["gap"] == pytest.approx(0.5)
    assert gaps["mat"].components["importance"] == pytest.approx(0.6 + 0.4 * 2 / 3, abs=1e-4)
    assert [g.opportunity for g in d.gaps] == sorted((g.opportunity for g in d.gaps), reverse=True)


def test_weights_from_override_file(session: Session, world: dict, chain_path: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "override.yaml"
    cfg.write_text("analysis:\n  opportunity_weights: {importance: 0, gap: 0, feasibility: 0, demand: 1}\n"
                   "  extend_from: [强, 较强]\n  verdict: {min_sample_firms: 2}\n", encoding="utf-8")
    monkeypatch.setenv("CHAINATLAS_CONFIG", str(cfg))
    d = dg.diagnose(session, "tz", chain_path)
    gaps = {g.node_id: g for g in d.gaps}
    assert all(g.opportunity == g.components["demand"] for g in d.gaps)
    assert d.nodes["motor"].verdict == "较强"  # 2 firms are enough with the floor at 2
    assert gaps["chip"].gap_type == "延链"  # motor (较强) now counts as strong enough to extend from
    cfg.write_text("analysis:\n  verdict: {strong_lqq: 2}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="strong_lqq"):
        load_settings()


def test_peer_benchmark_and_vetoed_placement(session: Session, world: dict, chain_path: str,
                                             tmp_path: Path) -> None:
    session.add(Placement(enterprise_id=world["cell4"].id, chain_id="test-chain", node_id="cell", method="manual",
                          rejected=True))
    session.commit()
    cfg = tmp_path / "peers.yaml"
    cfg.write_text("analysis:\n  benchmark: {kind: peers, peers: ['44']}\n", encoding="utf-8")
    d = dg.diagnose(session, "tz", chain_path, settings=load_settings(cfg))
    cell = d.nodes["cell"]
    assert cell.firm_count == 3  # the analyst's rejection vetoes the rule placement
    assert cell.lq is None and cell.verdict == "强"  # peers (province 44) have no cell maker: LQ undefined
    # mat against Guangdong: (1/11) / (10/44) = 0.4
    assert d.nodes["mat"].lq == pytest.approx((1 / 11) / (10 / 44))


def test_leader_view_local_ratio_by_count_and_value(session: Session, world: dict, chain_path: str) -> None:
    view = dg.leader_view(session, "tz", "整车链主", chain_path)
    assert view.supplier_count == 4
    assert view.local_ratio_count == pytest.approx(0.25)
    assert view.local_ratio_value == pytest.approx(0.6)
    assert view.value_known_count == 3
    assert {o.node_id for o in view.outside_nodes} == {"mat", "chip", "pack"}
    assert [s.local for s in view.suppliers_by_node["cell"]] == [True]
    chip = next(o for o in view.outside_nodes if o.node_id == "chip")
    assert chip.value_yuan is None and chip.local_firm_count == 0
    mat = next(o for o in view.outside_nodes if o.node_id == "mat")
    assert mat.local_firm_count == 1  # 材料甲 could be courted as a local supplier
    with pytest.raises(LookupError, match="整车链主"):
        dg.leader_view(session, "tz", "不存在的企业", chain_path)


def test_leader_without_values_or_relations(session: Session, world: dict, chain_path: str) -> None:
    view = dg.leader_view(session, "tz", str(world["A"].id), chain_path)
    assert view.local_ratio_count is None and view.local_ratio_value is None
    assert "无法计算" in view.reasons[0]


def _snapshot(url: str) -> dict[str, list[tuple]]:
    with db.session_factory(url)() as s:
        return {
            t.name: sorted(tuple(str(v) for v in row) for row in s.execute(select(t)).all())
            for t in Base.metadata.sorted_tables
        }


def test_what_if_changes_results_but_not_the_database(session: Session, world: dict, chain_path: str,
                                                      db_url: str) -> None:
    before = _snapshot(db_url)
    result = dg.what_if(session, "tz", [dg.HypotheticalFirm(("chip",), count=3, name="芯片目标")], chain_path)
    # chip: 3 of 14 zone firms vs 12 of 103 overall → LQ 1.84 ≥ 1.5 with 3 firms → 强
    after_chip = result.after.nodes["chip"]
    assert result.before.nodes["chip"].verdict == "缺" and after_chip.verdict == "强"
    assert after_chip.lq == pytest.approx((3 / 14) / (12 / 103))
    assert after_chip.hypothetical_count == 3 and "假设企业 3 家" in after_chip.reasons[0]
    assert "chip" not in {g.node_id for g in result.after.gaps}
    changed = {c.node_id: c for c in result.changes}
    assert changed["chip"].verdict_after == "强" and changed["chip"].opportunity_after is None
    (lv_before, lv_after), = result.leaders
    assert lv_before.local_ratio_count == pytest.approx(0.25)
    assert lv_after.local_ratio_count == pytest.approx(0.5)  # the chip purchase is taken over locally
    assert lv_after.local_ratio_value == pytest.approx(0.6)  # its value was unknown, so by value nothing moves
    # demand at pack is still the only outside purchase of its kind; chip no longer counts
    assert not session.new and not session.dirty
    session.commit()
    assert _snapshot(db_url) == before


def test_project_as_hypothetical_firm(session: Session, world: dict, chain_path: str) -> None:
    session.add(Project(code="20260101001", name="电池包项目", zone_id="tz", chain_id="test-chain",
                        node_ids=["pack"], expected_output_yuan=500_000_000))
    session.commit()
    project = session.scalar(select(Project))
    firms = dg.firms_from_project(session, project.id)
    d = dg.diagnose(session, "tz", chain_path, extra_firms=firms)
    assert d.nodes["pack"].firm_count == 1 and d.nodes["pack"].output_yuan == 500_000_000
    assert d.nodes["battery"].firm_count == 5
    with pytest.raises(ValueError, match="不在产业链"):
        dg.diagnose(session, "tz", chain_path, extra_firms=[dg.HypotheticalFirm(("nope",))])


def test_exports(session: Session, world: dict, chain_path: str) -> None:
    d = dg.diagnose(session, "tz", chain_path)
    data = dg.diagnosis_to_dict(d)
    assert data["nodes"]["cell"]["verdict"] == "强" and isinstance(data["generated_at"], str)
    csv_text = dg.diagnosis_to_csv(d)
    assert csv_text.splitlines()[0].startswith("node_id,name_zh") and "延链" in csv_text


# ---------------------------------------------------------------- real listed companies (../shared/data)


def _city_codes(shared: Path) -> dict[tuple[str, str], str]:
    """(tushare province, tushare city) → 4-digit code, from the modood tables (test time only)."""
    import polars as pl

    divisions = shared / "admin_divisions"
    provinces = pl.read_csv(divisions / "modood_provinces.csv", infer_schema=False)
    cities = pl.read_csv(divisions / "modood_cities.csv", infer_schema=False)
    areas = pl.read_csv(divisions / "modood_areas.csv", infer_schema=False)
    out: dict[tuple[str, str], str] = {}
    for pcode, pname in provinces.iter_rows():
        short = pname.removesuffix("省").removesuffix("市").removesuffix("自治区")
        for short_name in {short, pname[:2], pname[:3]}:
            # Municipalities: tushare says 北京/北京市, modood calls the city-level unit 市辖区 (1101).
            out[(short_name, pname)] = pcode + "01"
            for code, name, _ in cities.filter(pl.col("provinceCode") == pcode).iter_rows():
                out[(short_name, name)] = code
            # County-level cities under the province directly (仙桃市 4290…), known to tushare as cities.
            for _, name, city, _ in areas.filter(pl.col("provinceCode") == pcode).iter_rows():
                out.setdefault((short_name, name), city)
    return out


def build_real_db(url: str, shared: Path) -> dict[str, int]:
    """Listed A-share firms with city codes, placed on nev-icv by the classifier; zones = whole cities of interest."""
    import polars as pl

    from chainatlas.domain.chain import load_chain
    from chainatlas.engines.classify import Classifier, Record

    db.migrate(url)
    basic = pl.read_csv(shared / "listed_companies" / "tushare_a_share_basic_2024.csv", infer_schema=False)
    products = pl.read_csv(shared / "industry_chain" / "ckg_company_product.csv", infer_schema=False)
    by_code: dict[str, list[tuple[str, float | None]]] = {}
    for code, product, _, weight in products.iter_rows():
        by_code.setdefault(code, []).append((product, float(weight) if weight else None))
    codes = _city_codes(shared)
    zones = {"4201": "wuhan-city", "3509": "ningde-city", "5001": "chongqing-city", "3605": "xinyu-city"}
    stats = {"firms": 0, "no_city": 0, "placements": 0}
    records = []
    with db.session_scope(url) as s:
        for city, zone_id in zones.items():
            s.add(Zone(id=zone_id, name=f"{zone_id}（整市，测试）", city_code=city))
        s.flush()
        firms = []
        for row in basic.iter_rows(named=True):
            city = codes.get((row["province"] or "", row["city"] or ""), "")
            stats["no_city"] += not city
            capital = row["reg_capital"]  # 万元 in tushare
            firms.append(Enterprise(
                name=row["name"], short_name=row["name"], listing_code=row["ts_code"], city_code=city,
                province_code=city[:2], zone_id=zones.get(city), source="public:tushare",
                registered_capital_yuan=round(float(capital) * 10_000) if capital else None,
            ))
            records.append(Record(id=row["ts_code"], name=row["name"], products=by_code.get(row["ts_code"], ())))
        s.add_all(firms)
        s.flush()
        ids = {f.listing_code: f.id for f in firms}
        for p in Classifier(load_chain("nev-icv")).classify_batch(records):
            s.add(Placement(enterprise_id=ids[p.id], chain_id="nev-icv", node_id=p.node_id, method="rule",
                            score=p.score, confidence=p.confidence))
            stats["placements"] += 1
        stats["firms"] = len(firms)
    return stats


@pytest.fixture(scope="module")
def real_db(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('real') / 'listed.db'}"
    stats = build_real_db(url, shared_data)
    assert stats["firms"] > 5000 and stats["placements"] > 150 and stats["no_city"] < 300
    return url


def test_real_clusters_come_out_as_strengths(real_db: str) -> None:
    with db.session_factory(real_db)() as s:
        ningde = dg.diagnose(s, "ningde-city", chain_id="nev-icv")
        battery = ningde.nodes["battery-cells-packs"]
        # CATL alone: one listed firm, below the count floor; its registered capital carries the verdict.
        assert battery.verdict == "强" and battery.scale_measure == "capital" and battery.lq > 10 and battery.present
        assert any("宁德时代" in n for n in s.scalars(select(Enterprise.name).where(
            Enterprise.id.in_(battery.enterprise_ids))))
        chongqing = dg.diagnose(s, "chongqing-city", chain_id="nev-icv")
        assert chongqing.nodes["passenger-nev"].verdict in ("强", "较强") and chongqing.nodes["passenger-nev"].present
        xinyu = dg.diagnose(s, "xinyu-city", chain_id="nev-icv")  # 赣锋锂业
        assert xinyu.nodes["lithium-resources"].verdict in ("强", "较强") and xinyu.nodes["lithium-resources"].present
        wuhan = dg.diagnose(s, "wuhan-city", chain_id="nev-icv")
        assert wuhan.region_count > 50 and wuhan.gaps
        print("\n武汉（4201，上市公司口径）前十个机会：")
        for g in wuhan.gaps[:10]:
            print(f"  {g.opportunity:.3f} {g.gap_type} {g.name_zh} {g.components}")
        for node_id in ("battery-cells-packs", "passenger-nev", "auto-chips"):
            ns = wuhan.nodes[node_id]
            print(f"  {ns.name_zh}: {ns.verdict} 企业 {ns.firm_count} 区位商 {ns.lq} 密度 {ns.density}")


def test_cli_gaps_leader_whatif(sqlite_url: str, chain_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from chainatlas.cli.main import app

    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", sqlite_url)
    with db.session_factory(sqlite_url)() as s:
        build_world(s)
    before = _snapshot(sqlite_url)
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    out = runner.invoke(app, ["gaps", "--zone", "测试区", "--chain", chain_path, "--reasons"], env=env)
    assert out.exit_code == 0, out.output
    assert "环节强弱" in out.output and "延链" in out.output and "区位商 7.27" in out.output
    out = runner.invoke(app, ["gaps", "--zone", "tz", "--chain", chain_path, "--format", "json"])
    assert json.loads(out.output)["nodes"]["pack"]["verdict"] == "缺"
    out = runner.invoke(app, ["gaps", "--zone", "tz", "--chain", chain_path, "--format", "csv"])
    assert out.output.splitlines()[0].startswith("node_id")
    out = runner.invoke(app, ["leader", "整车链主", "--zone", "tz", "--chain", chain_path], env=env)
    assert out.exit_code == 0 and "25.0%" in out.output and "60.0%" in out.output, out.output
    out = runner.invoke(app, ["whatif", "--zone", "tz", "--chain", chain_path, "--add-firm", "chip:3"], env=env)
    assert out.exit_code == 0 and "缺→强" in out.output and "25.0%→50.0%" in out.output, out.output
    out = runner.invoke(app, ["gaps", "--zone", "不存在区", "--chain", chain_path])
    assert out.exit_code == 1 and "找不到开发区" in out.output
    out = runner.invoke(app, ["whatif", "--zone", "tz", "--chain", chain_path, "--add-firm", "chip:x"])
    assert out.exit_code == 1 and "正整数" in out.output
    assert _snapshot(sqlite_url) == before


def test_vectorised_placements_match_the_placement_service(session: Session) -> None:
    """diagnosis reads placements as a frame; it must keep exactly what services/placement keeps (built-in chain,
    because effective_placements loads chains by id)."""
    import polars as pl

    from chainatlas.domain.chain import load_chain
    from chainatlas.services.placement import effective_placements

    chain = load_chain("nev-icv")
    firms = [Enterprise(name=f"企业{i}", city_code="4201") for i in range(4)]
    session.add_all(firms)
    session.flush()
    a, b, c, d = (f.id for f in firms)

    def row(firm: int, node: str | None, method: str = "rule", rejected: bool = False, score: float = 1.0) -> Placement:
        return Placement(enterprise_id=firm, chain_id="nev-icv", node_id=node, method=method, rejected=rejected,
                         score=score)

    session.add_all([
        row(a, "battery-cells"), row(a, "drive-motor"),
        row(a, "battery-cells-packs", "manual", rejected=True),  # "not on batteries" covers the cell rule row
        row(b, "cathode", "manual", rejected=True), row(b, "cathode", "manual"),  # the analyst's own row stands
        row(b, "anode"),
        row(c, "lidar"), row(c, None, "manual", rejected=True),  # "not on this chain"
        row(d, "no-such-node"), row(d, "radar", rejected=True), row(d, "cameras", score=0.5), row(d, "cameras"),
    ])
    session.commit()
    service = {(f, p.node_id) for f, found in effective_placements(session, "nev-icv").items() for p in found}
    frame = world_reader.effective_pairs(session, "nev-icv", world_reader.veto_frame(session, chain), None)
    ours = {(f, n) for f, n in frame.filter(pl.col("node").is_in(list(chain.nodes))).select("firm", "node").iter_rows()}
    assert ours == service
    assert ours == {(a, "drive-motor"), (b, "cathode"), (b, "anode"), (d, "cameras")}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("analysis:\n  benchmark: {kind: peers}\n", "benchmark.peers"),
        ("analysis:\n  benchmark: {kind: peers, peers: ['420']}\n", "2 位省级或 4 位市级"),
        ("analysis:\n  verdict: {strong_lq: 0.5}\n", "不应小于"),
        ("analysis:\n  opportunity_weights: {importance: -1}\n", "非负数"),
        ("analysis:\n  verdict: {anchor_min_verdict: 超强}\n", "anchor_min_verdict"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=message):
        load_settings(cfg)
    with pytest.raises(SettingsError, match="找不到设置文件"):
        load_settings(tmp_path / "missing.yaml")

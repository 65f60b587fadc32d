"""Target ranking, exclusions, vetoes, explanations, saved weights, export and chain-leader attraction,
on a small world in a real database."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.services import targets
from chainatlas.services.reports.target_list import export_targets_xlsx
from chainatlas.services.catalog.zones import load_zone
from chainatlas.store import db
from chainatlas.store.models import Designation, Enterprise, Placement, Project, Region, Relation, TargetWeights

NODE = "thermal-management"


@dataclass
class World:
    url: str
    ids: dict[str, int]


def _firm(s: Session, key: str, name: str, city: str, **kw) -> Enterprise:
    e = Enterprise(name=name, province_code=city[:2], city_code=city, status=kw.pop("status", "存续"), **kw)
    s.add(e)
    return e


def _build(url: str) -> World:
    """Leaders 东风 and 岚图 in the zone; peers 吉利 (buys like 东风) and 比亚迪 (buys from nobody we know)."""
    with db.session_scope(url) as s:
        load_zone(s, "wuhan-edz", chain_id="nev-icv")  # which fills the regions from the shipped GB/T 2260 table
        assert [s.get(Region, c).name for c in ("3306", "4205", "6501", "4201", "3301")] == [
            "绍兴市", "宜昌市", "乌鲁木齐市", "武汉市", "杭州市"]
        f = {
            "L1": _firm(s, "L1", "东风汽车集团有限公司", "4201", short_name="东风汽车", zone_id="wuhan-edz", is_leader=True,
                        name_en="Dongfeng Motor Corporation"),
            "L2": _firm(s, "L2", "岚图汽车科技有限公司", "4201", short_name="岚图汽车", zone_id="wuhan-edz", is_leader=True),
            "P1": _firm(s, "P1", "浙江吉利控股集团有限公司", "3301", short_name="吉利"),
            "P2": _firm(s, "P2", "比亚迪股份有限公司", "4403", short_name="比亚迪"),
            # candidates on the thermal-management node
            "A": _firm(s, "A", "浙江三花智能控制股份有限公司", "3306", registered_capital_yuan=520_000_000,
                       listing_code="002050.SZ"),
            "B": _firm(s, "B", "宜昌热管理科技有限公司", "4205", registered_capital_yuan=50_000_000),
            "C": _firm(s, "C", "武汉本地热管理有限公司", "4201", zone_id="wuhan-edz", registered_capital_yuan=80_000_000),
            "D": _firm(s, "D", "在谈热管理有限公司", "3301", registered_capital_yuan=900_000_000),
            "D2": _firm(s, "D2", "终止热管理有限公司", "3301", registered_capital_yuan=10_000_000),
            "E": _firm(s, "E", "异常热管理有限公司", "4205", registered_capital_yuan=5_000_000_000, risk_flags=["经营异常"]),
            "F": _firm(s, "F", "注销热管理有限公司", "4205", registered_capital_yuan=3_000_000_000, status="注销"),
            "G": _firm(s, "G", "人工否定热管理有限公司", "4205", registered_capital_yuan=3_000_000_000),
            "H": _firm(s, "H", "新疆热管理有限公司", "6501", registered_capital_yuan=2_000_000),
            # other suppliers that make 东风 and 吉利 look alike
            "S1": _firm(s, "S1", "共同供应商一有限公司", "3101"),
            "S2": _firm(s, "S2", "共同供应商二有限公司", "3101"),
            "S3": _firm(s, "S3", "共同供应商三有限公司", "3101"),
            "S4": _firm(s, "S4", "比亚迪供应商有限公司", "4403"),
            # a subsidiary A founded last year: an expansion signal for A
            "A1": _firm(s, "A1", "三花新设子公司有限公司", "3306", parent_group="浙江三花智能控制股份有限公司",
                        founded_on=date(date.today().year - 1, 1, 1)),
        }
        s.flush()
        ids = {k: e.id for k, e in f.items()}
        for key in ("A", "B", "C", "D", "D2", "E", "F", "G", "H"):
            s.add(Placement(enterprise_id=ids[key], chain_id="nev-icv", node_id=NODE, method="rule", score=2.0,
                            confidence=0.8))
        s.add(Placement(enterprise_id=ids["G"], chain_id="nev-icv", node_id=NODE, method="manual", rejected=True))
        s.add(Designation(enterprise_id=ids["A"], name="专精特新小巨人", level="国家级", year=2022))
        s.add(Designation(enterprise_id=ids["H"], name="高新技术企业", level="国家级", year=2021))
        rel = [("A", "L1", NODE), ("S1", "L1", ""), ("S2", "L1", ""), ("S3", "L1", ""), ("S1", "L2", ""),
               ("S1", "P1", ""), ("S2", "P1", ""), ("S3", "P1", ""), ("B", "P1", NODE), ("S4", "P2", ""),
               ("H", "P2", NODE), ("B", "C", "")]
        for sup, cust, node in rel:
            s.add(Relation(supplier_id=ids[sup], customer_id=ids[cust], node_id=node or None, year=2023))
        # D is being negotiated; D2's project was dropped
        s.add(Project(code="20240101001", name="在谈项目", zone_id="wuhan-edz", investor_id=ids["D"], stage="在谈"))
        s.add(Project(code="20240101002", name="终止项目", zone_id="wuhan-edz", investor_id=ids["D2"], stage="终止"))
    return World(url, ids)


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    targets.clear_cache()
    yield _build(db_url)
    targets.clear_cache()


def _rank(w: World, **kw) -> list[targets.TargetRow]:
    with db.session_scope(w.url) as s:
        return targets.rank_targets(s, "wuhan-edz", NODE, **kw, chain_id="nev-icv")


@pytest.mark.db
def test_ranking_exclusions_and_vetoes(world: World) -> None:
    rows = _rank(world)
    by_id = {r.enterprise_id: r for r in rows}
    ids = world.ids
    open_rows = [r for r in rows if not r.vetoed]
    assert [r.enterprise_id for r in open_rows][:2] == [ids["A"], ids["B"]]
    # in the zone, in the pipeline, manually rejected from the node: never listed
    for key in ("C", "D", "G"):
        assert ids[key] not in by_id
    assert ids["D2"] in by_id  # a dropped (终止) project does not keep its investor off the list
    # vetoed firms follow the open list, flagged with the reason
    vetoed = [r for r in rows if r.vetoed]
    assert {r.enterprise_id for r in vetoed} == {ids["E"], ids["F"]}
    assert rows[-len(vetoed):] == vetoed
    assert "经营异常" in by_id[ids["E"]].veto_reason and by_id[ids["E"]].reason_zh.startswith("一票否决")
    assert "注销" in by_id[ids["F"]].veto_reason
    # components are visible and sensible
    a, b, h = by_id[ids["A"]], by_id[ids["B"]], by_id[ids["H"]]
    assert a.components["leader_supply"] == 1.0 and b.components["leader_supply"] == 0.0
    assert b.components["leader_peers"] == pytest.approx(1.0) and h.components["leader_peers"] == 0.0
    # A supplies 东风 only: 岚图 resembles 东风, but a local leader's vote is not a "peer" vote
    assert a.components["leader_peers"] == 0.0
    assert b.components["distance"] == pytest.approx(0.7)  # 宜昌: same province as 武汉
    assert a.components["distance"] == pytest.approx(0.1) and h.components["distance"] == pytest.approx(0.1)
    assert a.components["designation"] == 1.0 and h.components["designation"] == pytest.approx(0.3)
    assert a.city_name == "绍兴市" and a.score > b.score > h.score
    assert a.components["expansion"] == pytest.approx(1 / 3, abs=1e-3) and b.components["expansion"] == 0.0


@pytest.mark.db
def test_explanations_are_chinese_sentences_with_the_facts(world: World) -> None:
    by_id = {r.enterprise_id: r for r in _rank(world)}
    a = by_id[world.ids["A"]].reason_zh
    assert "已为本区链主东风汽车配套热管理系统" in a
    assert "国家级专精特新小巨人" in a
    assert "上市公司（002050.SZ）" in a or "注册资本5.20亿元" in a
    assert by_id[world.ids["A"]].facts["expansion_count"] == 1
    assert a.endswith("。")
    b = by_id[world.ids["B"]].reason_zh
    assert "为与本区链主相近的吉利配套" in b and "与本区同省" in b


@pytest.mark.db
def test_weights_are_validated_saved_per_user_and_change_the_order(world: World) -> None:
    with db.session_scope(world.url) as s:
        with pytest.raises(targets.TargetError, match="未知的权重项"):
            targets.save_weights(s, "alice", {"size": 1})
        with pytest.raises(targets.TargetError, match="不小于 0"):
            targets.save_weights(s, "alice", {"scale": -1})
        # alice only cares about distance: the same-province firm comes first
        only_distance = {k: 0.0 for k in targets.COMPONENTS} | {"distance": 1.0}
        targets.save_weights(s, "alice", only_distance)
    with db.session_scope(world.url) as s:
        assert s.get(TargetWeights, "alice").weights["distance"] == 1.0
        assert targets.user_weights(s, "bob") == targets.default_weights()
    alice = [r for r in _rank(world, username="alice") if not r.vetoed]
    assert alice[0].enterprise_id == world.ids["B"] and alice[0].score == pytest.approx(70.0)
    assert _rank(world)[0].enterprise_id == world.ids["A"]  # the defaults are untouched for everyone else


@pytest.mark.db
def test_cache_follows_data_changes(world: World) -> None:
    before = {r.enterprise_id: r for r in _rank(world)}[world.ids["H"]]
    with db.session_scope(world.url) as s:
        s.add(Designation(enterprise_id=world.ids["H"], name="独角兽", level="", year=2024))
        s.get(Enterprise, world.ids["B"]).risk_flags = ["失信被执行人"]
    after = {r.enterprise_id: r for r in _rank(world)}
    assert after[world.ids["H"]].components["designation"] == 1.0 > before.components["designation"]
    assert after[world.ids["B"]].vetoed and "失信" in after[world.ids["B"]].veto_reason


@pytest.mark.db
def test_target_to_project_then_excluded(world: World) -> None:
    with db.session_scope(world.url) as s:
        project = targets.target_to_project(s, "武汉经开区", world.ids["B"], NODE, by_user="alice", chain_id="nev-icv")
        assert project.stage == "线索" and project.investor_id == world.ids["B"]
        assert project.node_ids == [NODE] and project.source_kind == "目标推荐"
        assert "吉利" in project.source_detail
    with db.session_scope(world.url) as s:
        with pytest.raises(targets.TargetError, match="已在.*项目台账"):
            targets.target_to_project(s, "wuhan-edz", world.ids["B"], NODE, by_user="alice", chain_id="nev-icv")
        with pytest.raises(targets.TargetError, match="一票否决"):
            targets.target_to_project(s, "wuhan-edz", world.ids["E"], NODE, by_user="alice", chain_id="nev-icv")
        assert s.scalar(select(Project).where(Project.investor_id == world.ids["E"])) is None
    assert world.ids["B"] not in {r.enterprise_id for r in _rank(world)}


@pytest.mark.db
def test_export_one_sheet_per_node(world: World, tmp_path: Path) -> None:
    out = tmp_path / "目标企业.xlsx"
    with db.session_scope(world.url) as s:
        n = export_targets_xlsx(s, "wuhan-edz", [NODE, "bms"], out, limit=10, chain_id="nev-icv")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["权重与说明", "热管理系统", "电池管理系统"]
    weights = {r[0]: r[1] for r in wb["权重与说明"].iter_rows(min_row=4, values_only=True)}
    assert weights["区位"] == targets.default_weights()["distance"]
    ws = wb["热管理系统"]
    assert ws.freeze_panes == "A4"
    header = [c.value for c in ws[3]]
    assert header[:4] == ["排名", "企业名称", "所在城市", "总分（0–100）"] and "推荐理由" in header
    first = [c.value for c in ws[4]]
    assert first[0] == 1 and first[1] == "浙江三花智能控制股份有限公司"
    assert isinstance(first[3], float) and isinstance(first[4], float)
    assert "东风汽车" in first[header.index("推荐理由")]
    vetoed = [r for r in ws.iter_rows(min_row=4, values_only=True) if r[header.index("一票否决")] == "是"]
    assert len(vetoed) == 2 and all(r[0] is None for r in vetoed)
    assert n == 6  # open: A, B, D2, H; vetoed: E, F; nobody on bms
    assert wb["电池管理系统"].max_row == 3  # header only


@pytest.mark.db
def test_suppliers_for_leader_known_predicted_and_warm_paths(world: World) -> None:
    with db.session_scope(world.url) as s:
        view = targets.suppliers_for_leader(s, "wuhan-edz", "东风汽车", chain_id="nev-icv")
        same = targets.suppliers_for_leader(s, "wuhan-edz", "DONGFENG MOTOR CORP.", chain_id="nev-icv")  # English name, any case
        with pytest.raises(targets.TargetError, match="找不到企业"):
            targets.suppliers_for_leader(s, "wuhan-edz", "不存在的汽车", chain_id="nev-icv")
    assert same.leader_id == view.leader_id == world.ids["L1"]
    assert view.outside_known == 4 and view.local_known == 0
    assert [x.name for x in view.known_by_node[NODE]] == ["浙江三花智能控制股份有限公司"]
    assert view.known_by_node[NODE][0].node_name == "热管理系统"
    assert {x.enterprise_id for x in view.known_by_node[""]} == {world.ids[k] for k in ("S1", "S2", "S3")}
    top = view.potential[0]
    assert top.enterprise_id == world.ids["B"] and top.score == 1.0
    assert top.via == ["吉利"] and top.warm_paths == ["武汉本地热管理有限公司"] and top.node_id == NODE
    # 比亚迪's supplier shares nothing with 东风's peers: not predicted
    assert world.ids["H"] not in {x.enterprise_id for x in view.potential}


def test_cli_targets_suppliers_and_pipeline(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from chainatlas.cli.main import app

    targets.clear_cache()
    world = _build(sqlite_url)
    monkeypatch.setenv("CHAINATLAS_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("COLUMNS", "300")  # rich would fold long names in an 80-column table
    runner = CliRunner()
    out = runner.invoke(app, ["targets", "--node", NODE, "--limit", "5"])
    assert out.exit_code == 0, out.output
    assert "热管理系统（thermal-management）" in out.output
    assert "浙江三花智能控制股份有限公司" in out.output and "否决" in out.output
    xlsx = tmp_path / "t.xlsx"
    out = runner.invoke(app, ["targets", "--node", NODE, "--xlsx", str(xlsx)])
    assert out.exit_code == 0 and xlsx.exists(), out.output
    out = runner.invoke(app, ["targets", "--node", "no-such-node"])
    assert out.exit_code == 1 and "没有环节" in out.output
    out = runner.invoke(app, ["targets", "--node", NODE, "--user", "carol", "--weight", "distance=1", "--save-weights"])
    assert out.exit_code == 0 and "已保存" in out.output, out.output
    out = runner.invoke(app, ["targets", "--node", NODE, "--to-pipeline", str(world.ids["H"]), "--user", "carol"])
    assert out.exit_code == 0 and "已登记项目" in out.output, out.output
    out = runner.invoke(app, ["suppliers", "--leader", "东风汽车"])
    assert out.exit_code == 0 and "宜昌热管理科技有限公司" in out.output and "吉利" in out.output, out.output
    targets.clear_cache()


@pytest.mark.db
def test_node_lists_include_sub_nodes_and_rejections_cover_them(world: World) -> None:
    with db.session_scope(world.url) as s:
        x = _firm(s, "X", "被否定电芯有限公司", "3301")
        y = _firm(s, "Y", "电芯制造有限公司", "3301")
        z = _firm(s, "Z", "人工归类电池包有限公司", "3301")
        s.flush()
        s.add_all([
            Placement(enterprise_id=x.id, chain_id="nev-icv", node_id="battery-cells", method="rule", confidence=0.9),
            # "not on battery-cells-packs" covers its sub-node battery-cells
            Placement(enterprise_id=x.id, chain_id="nev-icv", node_id="battery-cells-packs", method="manual", rejected=True),
            Placement(enterprise_id=y.id, chain_id="nev-icv", node_id="battery-cells", method="rule", confidence=0.6),
            Placement(enterprise_id=z.id, chain_id="nev-icv", node_id="battery-modules-packs", method="manual"),
        ])
        ids = {"X": x.id, "Y": y.id, "Z": z.id}
    with db.session_scope(world.url) as s:
        rows = {r.enterprise_id: r for r in targets.rank_targets(s, "wuhan-edz", "battery-cells-packs", chain_id="nev-icv")}
        cells = {r.enterprise_id for r in targets.rank_targets(s, "wuhan-edz", "battery-cells", chain_id="nev-icv")}
    assert ids["X"] not in rows and ids["X"] not in cells
    assert rows[ids["Y"]].components["fit"] == pytest.approx(0.6)
    assert rows[ids["Z"]].components["fit"] == 1.0  # a manual placement is certain


@pytest.mark.db
def test_missing_scale_and_place_are_neutral_not_zero(world: World) -> None:
    """Known scales on the node (log capital, 100万 → 0, 100亿 → 1; listing not counted): D2 0.25, B 0.42, C 0.48,
    A 0.68, D 0.74, F 0.87, E 0.92, H 0.08, and T and U (100万) 0 — ten values, median between B's and C's."""
    with db.session_scope(world.url) as s:
        n = _firm(s, "N", "未知规模热管理有限公司", "6501")  # no capital, revenue or employees on file
        t = _firm(s, "T", "微小热管理有限公司", "6501", registered_capital_yuan=1_000_000)
        u = _firm(s, "U", "不明所在地热管理有限公司", "", registered_capital_yuan=1_000_000)
        s.flush()
        for firm in (n, t, u):
            s.add(Placement(enterprise_id=firm.id, chain_id="nev-icv", node_id=NODE, method="rule", score=2.0,
                            confidence=0.8))
        ids = {"N": n.id, "T": t.id, "U": u.id}
    by_id = {r.enterprise_id: r for r in _rank(world)}
    unknown, tiny, nowhere = by_id[ids["N"]], by_id[ids["T"]], by_id[ids["U"]]
    median = ((math.log10(5e7) - 6) / 4 + (math.log10(8e7) - 6) / 4) / 2
    assert unknown.components["scale"] == pytest.approx(median, abs=1e-4)
    assert tiny.components["scale"] == 0.0 and unknown.score > tiny.score
    assert "规模数据缺失（按本环节候选企业中位数计0.45）" in unknown.reason_zh
    # an unknown province is scored at the median place of the candidates (0.1: most are elsewhere), not 0
    assert nowhere.components["distance"] == pytest.approx(0.1) and nowhere.score == pytest.approx(tiny.score, abs=0.01)


def _evidence(product: str, share: float | None, field: str = "products") -> dict:
    entry = {"field": field, "word": "热管理", "kind": "strong", "node": NODE}
    if field == "products":
        entry["product"] = product
        if share is not None:
            entry["share"] = share
    return entry


@pytest.mark.db
def test_fit_on_placeholder_share_lines_only_is_no_candidate(world: World) -> None:
    rows = {
        "mattress": [_evidence("床垫热管理配件", 0.001), _evidence("智能床垫热管理模块", 0.0)],
        "mattress_by_name": [_evidence("床垫热管理配件", 0.001), _evidence("", None, field="name")],
        "real_line": [_evidence("热泵空调系统", 0.352), _evidence("家用空调热管理", 0.001)],
        "no_share": [_evidence("热管理模块", None)],
        # a word of the chain's derived vocabulary (the product graph) says so in the reason
        "derived": [{**_evidence("汽车热管理冷却液", 0.4), "source": "derived", "via": "汽车空调 —上游材料→ 热管理"}],
    }
    with db.session_scope(world.url) as s:
        ids = {}
        for key, evidence in rows.items():
            firm = _firm(s, key, f"{key}热管理有限公司", "4205", registered_capital_yuan=50_000_000)
            s.flush()
            s.add(Placement(enterprise_id=firm.id, chain_id="nev-icv", node_id=NODE, method="rule", score=2.0,
                            confidence=0.8, evidence=evidence))
            ids[key] = firm.id
    by_id = {r.enterprise_id: r for r in _rank(world)}
    assert ids["mattress"] not in by_id  # both lines are placeholders (0.001, 0.000): the fit rests on nothing
    assert ids["mattress_by_name"] in by_id  # its name says thermal management too
    real = by_id[ids["real_line"]].reason_zh
    assert real.startswith("环节契合度0.80（主营“热泵空调系统”占营收35.2%，匹配“热管理”）")
    assert "营收占比未披露" in by_id[ids["no_share"]].reason_zh
    assert "匹配“热管理”（产品图谱派生词）" in by_id[ids["derived"]].reason_zh
    assert "产品图谱" not in real
    with db.session_scope(world.url) as s, pytest.raises(targets.TargetError, match="不在环节"):
        targets.explain_target(s, "wuhan-edz", ids["mattress"], NODE, chain_id="nev-icv")


@pytest.mark.db
def test_prediction_for_a_maker_not_flagged_chain_leader(world: World) -> None:
    """With relations loaded but no firm flagged 链主, asking about a maker still predicts (it used to say there
    was no relation data)."""
    with db.session_scope(world.url) as s:
        s.query(Enterprise).update({Enterprise.is_leader: False})
    with db.session_scope(world.url) as s:
        view = targets.suppliers_for_leader(s, "wuhan-edz", "东风汽车", chain_id="nev-icv")
    assert view.potential and view.potential[0].enterprise_id == world.ids["B"] and view.potential[0].via == ["吉利"]

"""Scale-aware verdicts (issue 21) on a small world worked out by hand.

Chain: cell, mat, oem (no sub-nodes). Registered capital in 亿元 (1e8 yuan); every firm has it.
                      cell              mat            oem              unplaced
  zone giant (3509)   1 × 100           3 × 0.1         —                2
  zone shells (3301)  10 × 0.01          —              —                2
  elsewhere (4401)    20 × 1            20 × 0.5        5 × 50           30
Benchmark (all firms): cell 100 + 0.1 + 20 = 120.1 亿 over 31 firms; chain capital 100 + 0.3 + 0.1 + 20 + 10 + 250
= 380.4 亿.
- giant zone, cell: share 100/120.1 = 83 % ≥ 5 %; scale quotient (100/100.3) / (120.1/380.4) = 3.16 ≥ 1.5 → 强,
  although one firm is below the sample floor for a count quotient.
- shell zone, cell: share 0.1/120.1 = 0.08 % < 1 % → 弱 by scale; 10 of 12 firms by count → 强 by count, which
  may lift a node to 较强 at most → 较强, never 强.
- giant zone, mat: 3 firms, share 0.3/10.3 = 2.9 %, quotient (0.3/100.3)/(10.3/380.4) = 0.11 → 弱 by scale;
  by count LQ (3/6)/(23/…) is high → 较强.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from chainatlas.services.analysis import diagnosis as dg
from chainatlas.services.analysis.settings import SettingsError, load_settings
from chainatlas.store.models import Enterprise, Placement, Zone

CHAIN_YAML = """
id: scale-chain
name_zh: 规模测试链
name_en: Scale test chain
stages:
  - {id: upstream, name_zh: 上游}
  - {id: midstream, name_zh: 中游}
  - {id: downstream, name_zh: 下游}
nodes:
  - {id: mat, stage: upstream, name_zh: 材料, weight: 1, supplies: [cell]}
  - {id: cell, stage: midstream, name_zh: 电芯, core: true, weight: 3, supplies: [oem]}
  - {id: oem, stage: downstream, name_zh: 整车, core: true, weight: 3}
"""
YI = 100_000_000


@pytest.fixture
def chain_path(tmp_path: Path) -> str:
    path = tmp_path / "scale-chain.yaml"
    path.write_text(CHAIN_YAML, encoding="utf-8")
    return str(path)


def _firms(s: Session, n: int, city: str, node: str | None, capital: float | None, zone: str | None = None,
           **kw: object) -> list[Enterprise]:
    firms = [Enterprise(name=f"{city}{node}{i}", city_code=city, province_code=city[:2], zone_id=zone,
                        registered_capital_yuan=None if capital is None else round(capital * YI), **kw)
             for i in range(n)]
    s.add_all(firms)
    s.flush()
    if node:
        s.add_all(Placement(enterprise_id=f.id, chain_id="scale-chain", node_id=node, method="rule", score=1.0)
                  for f in firms)
    return firms


@pytest.fixture
def world(session: Session) -> dict[str, list[Enterprise]]:
    session.add_all([Zone(id="giant", name="巨头区", city_code="3509"), Zone(id="shells", name="空壳区", city_code="3301")])
    session.flush()
    out = {
        "giant": _firms(session, 1, "3509", "cell", 100, "giant"),
        "giant_mat": _firms(session, 3, "3509", "mat", 0.1, "giant"),
        "shells": _firms(session, 10, "3301", "cell", 0.01, "shells"),
    }
    _firms(session, 2, "3509", None, 0.01, "giant")
    _firms(session, 2, "3301", None, 0.01, "shells")
    _firms(session, 20, "4401", "cell", 1)
    _firms(session, 20, "4401", "mat", 0.5)
    _firms(session, 5, "4401", "oem", 50)
    _firms(session, 30, "4401", None, 0.1)
    session.commit()
    return out


def test_one_giant_alone_is_strong(session: Session, world: dict, chain_path: str) -> None:
    cell = dg.diagnose(session, "giant", chain_path).nodes["cell"]
    assert cell.firm_count == 1 and cell.verdict == "强"
    assert cell.scale_measure == "capital" and cell.scale_share == pytest.approx(100 / 120.1)
    text = "\n".join(cell.reasons)
    # the verdict says what it rests on: how many firms and how much of the measure
    assert "依据：本区 1 家企业" in text and "注册资本" in text and "83.3%" in text and "1/1 家有数据" in text
    assert "规模区位商 3.16" in text
    assert "样本下限 3 家" in text  # the count quotient alone would not be evidence


def test_many_tiny_firms_are_not_strong(session: Session, world: dict, chain_path: str) -> None:
    cell = dg.diagnose(session, "shells", chain_path).nodes["cell"]
    assert cell.firm_count == 10 and cell.lq is not None and cell.lq > 1.5  # by count alone it would be 强
    assert cell.verdict == "较强"
    assert cell.scale_share == pytest.approx(0.1 / 120.1)
    assert "按家数最多提到 较强" in "\n".join(cell.reasons)
    # with scale unknown the same ten firms are judged by count only, and say so
    session.query(Enterprise).update({Enterprise.registered_capital_yuan: None})
    session.commit()
    unknown = dg.diagnose(session, "shells", chain_path).nodes["cell"]
    assert unknown.verdict == "强" and unknown.scale_measure == ""
    assert any(r.startswith("依据：本区 10 家企业；规模数据不足") for r in unknown.reasons)


def test_a_cluster_of_small_firms_is_at_most_fairly_strong(session: Session, world: dict, chain_path: str) -> None:
    mat = dg.diagnose(session, "giant", chain_path).nodes["mat"]
    assert mat.firm_count == 3 and mat.verdict == "较强"
    assert mat.scale_share == pytest.approx(0.3 / 10.3)


def test_sample_floor_is_configurable(session: Session, world: dict, chain_path: str, tmp_path: Path) -> None:
    # Two shells with no capital on oem: below the floor of 3, and no scale to go on → 样本不足.
    zone_firms = _firms(session, 2, "3301", "oem", None, "shells")
    session.commit()
    d = dg.diagnose(session, "shells", chain_path)
    oem = d.nodes["oem"]
    assert oem.verdict == "样本不足" and oem.scale_measure == ""
    assert any("少于样本下限 3 家" in r for r in oem.reasons)
    gap = next(g for g in d.gaps if g.node_id == "oem")
    assert gap.gap_type == "强链" and "样本不足" in gap.reasons[0]
    cfg = tmp_path / "floor.yaml"
    cfg.write_text("analysis:\n  verdict: {min_sample_firms: 2}\n", encoding="utf-8")
    relaxed = dg.diagnose(session, "shells", chain_path, settings=load_settings(cfg)).nodes["oem"]
    assert relaxed.verdict in ("强", "较强") and relaxed.firm_count == len(zone_firms)
    cfg.write_text("analysis:\n  verdict: {min_sample_firms: 0}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="min_sample_firms"):
        load_settings(cfg)


def test_listed_floor_only_for_marked_chain_leaders(session: Session, world: dict, chain_path: str) -> None:
    listed = _firms(session, 1, "3301", "oem", None, "shells", listing_code="600001.SH")[0]
    session.commit()
    oem = dg.diagnose(session, "shells", chain_path).nodes["oem"]
    assert oem.listed_count == 1 and oem.verdict == "样本不足"  # being listed lifts nothing
    listed.is_leader = True
    session.commit()
    oem = dg.diagnose(session, "shells", chain_path).nodes["oem"]
    assert oem.verdict == "较强" and any("分析员标记的链主企业 1 家" in r for r in oem.reasons)


def test_no_scale_verdict_against_a_node_hardly_anyone_else_is_known_on(session: Session, world: dict,
                                                                         chain_path: str) -> None:
    # One local oem firm of 100 亿; outside the zone only 2 of the 5 oem makers keep their capital (3 of 6 known:
    # coverage 50 %, but 2 firms outside the zone are no benchmark) → no scale, and one firm is 样本不足.
    _firms(session, 1, "3509", "oem", 100, "giant")
    others = session.query(Enterprise).filter(Enterprise.city_code == "4401", Enterprise.registered_capital_yuan
                                              == 50 * YI).order_by(Enterprise.id).all()
    for firm in others[2:]:
        firm.registered_capital_yuan = None
    session.commit()
    oem = dg.diagnose(session, "giant", chain_path).nodes["oem"]
    assert oem.scale_measure == "" and oem.verdict == "样本不足"
    others[2].registered_capital_yuan = 50 * YI  # a third firm outside the zone: now a share means something
    session.commit()
    oem = dg.diagnose(session, "giant", chain_path).nodes["oem"]
    # share 100/250 = 40 %, but quotient (100/200.3) / (250/380.4) = 0.76: big, not specialised → 弱, by scale
    assert oem.scale_measure == "capital" and oem.scale_share == pytest.approx(0.4) and oem.verdict == "弱"

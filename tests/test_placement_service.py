"""Rule placements in a real database: evidence stored, analysts' decisions win, re-runs touch only what changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.domain.chain import load_chain
from chainatlas.services.placement import classify_enterprises
from chainatlas.store.models import Enterprise, EnterpriseProduct, Placement

pytestmark = pytest.mark.db

CHAIN_V1 = """\
id: mini
name_zh: 小链
name_en: Mini chain
version: "1"
stages:
  - {id: upstream, name_zh: 上游}
  - {id: midstream, name_zh: 中游}
  - {id: downstream, name_zh: 下游}
nodes:
  - {id: lidar, stage: upstream, name_zh: 激光雷达, keywords: [激光雷达], supplies: [adas]}
  - {id: cells, stage: midstream, name_zh: 动力电池, keywords: [动力电池], exclude: [消费类]}
  - {id: bms, stage: midstream, name_zh: 电池管理系统, keywords: [电池管理系统]}
  - {id: adas, stage: midstream, name_zh: 智能驾驶, keywords: [自动驾驶]}
"""


def _firm(session: Session, name: str, *products: tuple[str, float | None]) -> Enterprise:
    firm = Enterprise(name=name, source="test")
    firm.products = [EnterpriseProduct(product=p, revenue_share=s) for p, s in products]
    session.add(firm)
    session.flush()
    return firm


def _rules(session: Session, chain_id: str = "mini") -> dict[tuple[int, str], Placement]:
    rows = session.scalars(select(Placement).where(Placement.chain_id == chain_id, Placement.method == "rule"))
    return {(r.enterprise_id, r.node_id): r for r in rows}


@pytest.fixture
def chain_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(CHAIN_V1, encoding="utf-8")
    return path


def test_rule_placements_with_evidence_and_manual_decisions(session: Session, chain_file: Path) -> None:
    battery = _firm(session, "甲电池公司", ("动力电池", 0.8))
    consumer = _firm(session, "乙电池公司", ("消费类动力电池", 0.8))
    ruled_off = _firm(session, "丙公司", ("动力电池", 0.9))
    not_bms = _firm(session, "丁公司", ("电池管理系统", 0.9), ("动力电池", 0.5))
    manual = _firm(session, "戊公司", ("动力电池", 0.9))
    session.add_all([
        Placement(enterprise_id=ruled_off.id, chain_id="mini", node_id=None, method="manual", rejected=True,
                  note="不在本链"),
        Placement(enterprise_id=not_bms.id, chain_id="mini", node_id="bms", method="manual", rejected=True),
        Placement(enterprise_id=manual.id, chain_id="mini", node_id="cells", method="manual"),
    ])
    session.commit()

    summary = classify_enterprises(session, load_chain(chain_file))
    session.commit()
    rules = _rules(session)
    assert set(rules) == {(battery.id, "cells"), (not_bms.id, "cells")}
    row = rules[(battery.id, "cells")]
    assert row.score >= 1 and 0 < row.confidence < 1
    assert row.evidence[0] == {"field": "products", "word": "动力电池", "kind": "strong", "node": "cells",
                               "product": "动力电池", "share": 0.8}
    assert row.node_fingerprint == load_chain(chain_file).nodes["cells"].fingerprint()
    assert summary.enterprises == 5 and summary.inserted == 2 and summary.skipped_manual == 3
    assert consumer.id not in {k[0] for k in rules}
    # the analysts' rows are untouched
    manual_rows = session.scalars(select(Placement).where(Placement.method == "manual")).all()
    assert len(manual_rows) == 3

    # a manual decision made later wins at the next run and removes the rule row
    session.add(Placement(enterprise_id=battery.id, chain_id="mini", node_id=None, method="manual", rejected=True))
    session.commit()
    summary = classify_enterprises(session, load_chain(chain_file), enterprise_ids=[battery.id])
    session.commit()
    assert summary.enterprises == 1 and summary.deleted == 1
    assert (battery.id, "cells") not in _rules(session)


def test_rerun_after_chain_change_touches_only_what_changed(session: Session, chain_file: Path) -> None:
    battery = _firm(session, "甲电池公司", ("动力电池", 0.8))
    lidar = _firm(session, "乙雷达公司", ("激光雷达", 0.9))
    board = _firm(session, "丙电子公司", ("BMS主板", 0.9))
    session.commit()
    classify_enterprises(session, load_chain(chain_file))
    session.commit()
    before = {k: (r.id, r.node_fingerprint, r.created_at) for k, r in _rules(session).items()}
    assert set(before) == {(battery.id, "cells"), (lidar.id, "lidar")}

    # same chain again: nothing written
    again = classify_enterprises(session, load_chain(chain_file))
    session.commit()
    assert (again.inserted, again.updated, again.deleted, again.changed) == (0, 0, 0, 0)

    # the bms node learns a word, the lidar node gets a new exclusion: only those nodes' firms change
    chain_file.write_text(
        CHAIN_V1.replace("keywords: [电池管理系统]", "keywords: [电池管理系统, BMS主板]")
        .replace("keywords: [激光雷达]", "keywords: [激光雷达], exclude: [气象]"),
        encoding="utf-8",
    )
    v2 = load_chain(chain_file)
    summary = classify_enterprises(session, v2)
    session.commit()
    after = {k: (r.id, r.node_fingerprint, r.created_at) for k, r in _rules(session).items()}
    assert after[(battery.id, "cells")] == before[(battery.id, "cells")]  # untouched row
    assert (board.id, "bms") in after
    assert after[(lidar.id, "lidar")][0] == before[(lidar.id, "lidar")][0]
    assert after[(lidar.id, "lidar")][1] == v2.nodes["lidar"].fingerprint() != before[(lidar.id, "lidar")][1]
    assert (summary.inserted, summary.updated, summary.deleted, summary.changed) == (1, 1, 0, 2)

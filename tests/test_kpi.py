"""KPI arithmetic on a small ledger whose right answers are worked out by hand (yuan in, 亿元 shown)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from chainatlas.domain.money import format_yuan
from chainatlas.services.pipeline import projects as pipeline
from chainatlas.services.pipeline import format_measure, kpi_report, months_elapsed
from chainatlas.store.models import YearlyTarget

pytestmark = pytest.mark.db
# Input checks and pure arithmetic behave alike on both engines; one engine keeps the suite quick.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
YI = 100_000_000
AS_OF = date(2024, 10, 31)


def _project(s: Session, name: str, yuan: int, created: date, steps: list[tuple[str, date, str]],
             node: str = "battery-cells", **kw: object) -> int:
    p = pipeline.create_project(s, zone_id="wuhan-edz", name=name, by_user="t", on=created, node_ids=[node],
                                investment_yuan=yuan, **kw, chain_id="nev-icv")
    for stage, on, reason in steps:
        pipeline.change_stage(s, p.id, stage, on=on, by_user="t", reason=reason)
    return p.id


@pytest.fixture
def ledger(zone_session: Session) -> Session:
    """A: 30亿 signed Mar, started Sep.  B: 0.5亿 signed Jul (below 1亿).  C: 12亿 signed 2023, started Feb,
    producing Aug with 20亿 output.  D: 8亿 signed 15 Nov (after as_of).  E: 10亿 在谈, silent since 1 Aug.
    F: 20亿 signed May then 终止 (退库, never counted).  G: 5亿 在谈 then 搁置 (no pipeline weight)."""
    s = zone_session
    _project(s, "A", 30 * YI, date(2024, 1, 2), [("在谈", date(2024, 2, 1), ""), ("签约", date(2024, 3, 10), ""),
                                                  ("开工", date(2024, 9, 1), "")], officer="张伟")
    b = _project(s, "B", 50_000_000, date(2024, 5, 2), [("签约", date(2024, 7, 20), "")], node="lidar")
    pipeline.set_next_action(s, b, "催办注册", date(2024, 10, 1), by_user="t")
    pipeline.log_activity(s, b, on=date(2024, 10, 20), by_user="t", content="电话催办")
    _project(s, "C", 12 * YI, date(2023, 9, 1), [("签约", date(2023, 12, 20), ""), ("开工", date(2024, 2, 1), ""),
                                                  ("投产", date(2024, 8, 1), "")], expected_output_yuan=20 * YI)
    _project(s, "D", 8 * YI, date(2024, 6, 3), [("在谈", date(2024, 7, 1), ""), ("签约", date(2024, 11, 15), "")])
    _project(s, "E", 10 * YI, date(2024, 6, 4), [("在谈", date(2024, 8, 1), "")])
    _project(s, "F", 20 * YI, date(2024, 3, 3), [("签约", date(2024, 5, 5), ""), ("终止", date(2024, 6, 1), "选址他地")])
    _project(s, "G", 5 * YI, date(2024, 3, 4), [("在谈", date(2024, 4, 1), ""), ("搁置", date(2024, 5, 1), "资金")])
    s.add(YearlyTarget(zone_id="wuhan-edz", year=2024, measure="started_projects", chain_id="nev-icv", node_id="",
                       target_value=3))
    s.add(YearlyTarget(zone_id="wuhan-edz", year=2024, measure="signed_investment_yuan", chain_id="nev-icv",
                       node_id="battery-cells-packs", target_value=40 * YI))
    s.flush()
    return s


def test_counts_by_milestone_date_in_year(ledger: Session) -> None:
    r = kpi_report(ledger, "wuhan-edz", 2024, as_of=AS_OF, chain_id="nev-icv")
    signed = r.row("signed_projects")
    assert signed.target == 15  # from the zone file (the article)
    assert signed.actual == 2  # A and B; C signed in 2023, D after as_of, F dropped
    assert signed.monthly == [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    money = r.row("signed_investment_yuan")
    assert money.actual == 30 * YI + 50_000_000 and money.target == 200 * YI
    assert format_measure(money.unit, money.actual) == "30.50亿元" == format_yuan(money.actual, "亿")
    assert money.pct == 15.2  # 30.5 / 200
    assert r.row("signed_large_projects").actual == 1  # B is below 1亿
    assert r.row("started_projects").actual == 2  # A and C (C signed last year, started this year)
    assert r.row("producing_projects").actual == 1
    assert r.row("output_yuan").actual == 20 * YI
    assert sum(r.row("signed_investment_yuan").monthly) == money.actual


@SQLITE_ONLY
def test_time_schedule_and_projection(ledger: Session) -> None:
    r = kpi_report(ledger, "wuhan-edz", 2024, as_of=AS_OF, chain_id="nev-icv")
    assert r.months_elapsed == 10.0
    signed = r.row("signed_projects")
    assert signed.time_target == 13  # 15 × 10/12 = 12.5, rounded up: 13 are needed to be on schedule
    assert signed.ahead is False
    started = r.row("started_projects")
    assert started.time_target == 3 and started.ahead is False  # 3 × 10/12 = 2.5 → 3; 2 done
    # pipeline: A+B, plus D (already dated in November), plus E (在谈: 0.6 × min(1, 2 months left / 4)).
    assert signed.projection == round(2 + 1 + 0.6 * 0.5)
    money = r.row("signed_investment_yuan")
    assert money.projection == 30 * YI + 50_000_000 + 8 * YI + round(10 * YI * 0.3)
    assert money.at_risk and signed.at_risk
    assert money.run_rate == round((30 * YI + 50_000_000) * 12 / 10)
    run = kpi_report(ledger, "wuhan-edz", 2024, as_of=AS_OF, method="run_rate", chain_id="nev-icv")
    assert run.row("signed_investment_yuan").projection == money.run_rate
    with pytest.raises(ValueError, match="未知的预测方法"):
        kpi_report(ledger, "wuhan-edz", 2024, as_of=AS_OF, method="guess", chain_id="nev-icv")


@SQLITE_ONLY
def test_as_of_moves_the_counts(ledger: Session) -> None:
    mid = kpi_report(ledger, "wuhan-edz", 2024, as_of=date(2024, 6, 30), chain_id="nev-icv")
    assert mid.row("signed_projects").actual == 1  # only A by the end of June
    assert mid.row("signed_projects").monthly[6:] == [0] * 6
    assert months_elapsed(2024, date(2024, 10, 15)) == pytest.approx(9 + 15 / 31)
    after = kpi_report(ledger, "wuhan-edz", 2024, as_of=date(2025, 1, 15), chain_id="nev-icv")
    row = after.row("signed_projects")
    assert row.actual == 3 and row.projection == 3  # the year is over: projection is what happened
    assert row.ahead is False and row.time_target == 15
    assert kpi_report(ledger, "wuhan-edz", 2023, chain_id="nev-icv").as_of == date(2023, 12, 31)  # a past year is read at its end


@SQLITE_ONLY
def test_node_scope(ledger: Session) -> None:
    r = kpi_report(ledger, "wuhan-edz", 2024, as_of=AS_OF, node_id="battery-cells-packs", chain_id="nev-icv")
    money = r.row("signed_investment_yuan")
    assert money.target == 40 * YI  # the node's own target, not the chain's
    assert money.actual == 30 * YI  # A is on battery-cells (below the node); B is on lidar
    assert r.row("signed_projects").target is None


def test_alerts(ledger: Session) -> None:
    r = kpi_report(ledger, "wuhan-edz", 2024, as_of=AS_OF, chain_id="nev-icv")
    by_kind: dict[str, list] = {}
    for a in r.alerts:
        by_kind.setdefault(a.kind, []).append(a)
    at_risk = {a.message_zh.split("：")[0] for a in by_kind["target_at_risk"]}
    assert at_risk == {"签约项目数", "签约投资额", "开工项目数"}  # 开工: 2 + 0.7×2/6 + 2×0.3×2/10 ≈ 2.4 < 3
    assert any("缺口" in a.message_zh and "亿元" in a.message_zh for a in by_kind["target_at_risk"])
    overdue = by_kind["overdue"]
    assert [(a.project_code[-3:], a.days) for a in overdue] == [("001", 30)]  # B: due 1 Oct
    assert "催办注册" in overdue[0].message_zh
    stalled = {a.message_zh.split(" ")[1].split("（")[0]: a.days for a in by_kind["stalled"]}
    # E: 在谈 since 1 Aug, 91 days > 30.  A: 开工 since 1 Sep, 60 days > 30.  B: last contact 20 Oct, 11 days ≤ 20.
    # D was 在谈 on 31 Oct (it signed on 15 Nov): judged by that day's stage, silent since 1 Jul.
    assert stalled == {"E": 91, "A": 60, "D": 122}
    quieter = kpi_report(ledger, "wuhan-edz", 2024, as_of=AS_OF, stale_days={"在谈": 120, "开工": 90, "签约": 200}, chain_id="nev-icv")
    assert {a.days for a in quieter.alerts if a.kind == "stalled"} == {122}


@SQLITE_ONLY
def test_unknown_target_measure_is_reported(ledger: Session) -> None:
    ledger.add(YearlyTarget(zone_id="wuhan-edz", year=2024, measure="happiness", chain_id="nev-icv", node_id="",
                            target_value=1))
    ledger.flush()
    r = kpi_report(ledger, "wuhan-edz", 2024, as_of=AS_OF, chain_id="nev-icv")
    assert any(a.kind == "unknown_measure" and "happiness" in a.message_zh for a in r.alerts)


@SQLITE_ONLY
def test_demo_ledger_tells_a_realistic_year(session: Session) -> None:
    from chainatlas.services.demo import load_demo_ledger

    projects = load_demo_ledger(session, "wuhan-edz", 2024, as_of=AS_OF)
    assert 25 <= len(projects) <= 35
    assert all(p.source == "demo" and "演示" in p.name and p.notes.startswith("演示数据") for p in projects)
    assert {p.stage for p in projects} >= {"线索", "接洽", "在谈", "签约", "注册", "开工", "投产", "搁置", "终止"}
    assert len(load_demo_ledger(session, "wuhan-edz", 2024, as_of=AS_OF)) == len(projects)  # loads once

    r = kpi_report(session, "wuhan-edz", 2024, as_of=AS_OF, chain_id="nev-icv")
    signed, money = r.row("signed_projects"), r.row("signed_investment_yuan")
    assert (signed.target, money.target) == (15, 200 * YI)  # the article's targets
    assert signed.actual >= 13 and signed.ahead  # the count is ahead of the calendar …
    assert 100 * YI < money.actual < money.time_target and money.ahead is False  # … the money behind it
    assert r.has_demo
    kinds = [a.kind for a in r.alerts]
    assert kinds.count("stalled") >= 3 and kinds.count("overdue") >= 2 and "target_at_risk" in kinds

"""KPI arithmetic on a small ledger whose right answers are worked out by hand (yuan in, 亿元 shown)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from chainatlas.domain.money import format_yuan
from chainatlas.services.pipeline import projects as pipeline
from chainatlas.services.pipeline.kpi import format_measure, kpi_report, months_elapsed, target_warning_zh
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
    money = next(a.message_zh for a in by_kind["target_at_risk"] if a.message_zh.startswith("签约投资额"))
    # 200 − 30.5 = 169.5 still to do; projection 30.5 + 8 + 3 = 41.5 → 158.5 short at year end.
    assert money == ("签约投资额：目标200.00亿元，已完成30.50亿元（15.2%），尚差169.50亿元；"
                     "按在库项目预计年底完成41.50亿元，仍差158.50亿元")
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
    from chainatlas.services.demo.ledger import load_demo_ledger

    projects = load_demo_ledger(session, "wuhan-edz", today=AS_OF)
    assert 25 <= len(projects) <= 35
    assert all(p.source == "demo" and "演示" in p.name and p.notes.startswith("演示数据") for p in projects)
    assert {p.stage for p in projects} >= {"线索", "接洽", "在谈", "签约", "注册", "开工", "投产", "搁置", "终止"}
    assert len(load_demo_ledger(session, "wuhan-edz", today=AS_OF)) == len(projects)  # loads once

    r = kpi_report(session, "wuhan-edz", 2024, as_of=AS_OF, chain_id="nev-icv")
    signed, money = r.row("signed_projects"), r.row("signed_investment_yuan")
    assert (signed.target, money.target) == (15, 200 * YI)  # the article's targets
    assert signed.actual >= 13 and signed.ahead  # the count is ahead of the calendar …
    assert 100 * YI < money.actual < money.time_target and money.ahead is False  # … the money behind it
    assert r.has_demo
    kinds = [a.kind for a in r.alerts]
    assert kinds.count("stalled") >= 3 and kinds.count("overdue") >= 2 and "target_at_risk" in kinds


def test_target_warning_wording_from_hand_worked_numbers() -> None:
    # The year is over: 15 wanted, 14 done → 93.3 %, one short; no projection is stated.
    assert target_warning_zh("签约项目数", "个", 15, 14, None) == "签约项目数：目标15个，已完成14个（93.3%），尚差1个"
    # Money, year over: 200亿 − 151.30亿 = 48.70亿 (75.65 % shown to one decimal).
    assert target_warning_zh("签约投资额", "元", 200 * YI, 15_130_000_000, None) == (
        "签约投资额：目标200.00亿元，已完成151.30亿元（75.7%），尚差48.70亿元")
    # While the year runs: 8 of 15 done (53.3 %), 7 to go; the pipeline projects 12, three short.
    assert target_warning_zh("签约项目数", "个", 15, 8, 12) == (
        "签约项目数：目标15个，已完成8个（53.3%），尚差7个；按在库项目预计年底完成12个，仍差3个")
    # Done already, projection irrelevant; a projection at or above the target adds nothing.
    assert target_warning_zh("开工项目数", "个", 3, 3, 3) == "开工项目数：目标3个，已完成3个（100.0%），已达目标"
    assert target_warning_zh("开工项目数", "个", 4, 2, 5) == "开工项目数：目标4个，已完成2个（50.0%），尚差2个"


@SQLITE_ONLY
def test_warning_numbers_agree_with_target_minus_done(ledger: Session) -> None:
    over = kpi_report(ledger, "wuhan-edz", 2024, as_of=date(2024, 12, 31), chain_id="nev-icv")
    for a in (a for a in over.alerts if a.kind == "target_at_risk"):
        row = next(r for r in over.rows if a.message_zh.startswith(r.label_zh + "："))
        short = format_measure(row.unit, row.target - row.actual)
        assert a.message_zh.endswith(f"尚差{short}") and "预计" not in a.message_zh, a.message_zh
    assert any(a.message_zh == "签约项目数：目标15个，已完成3个（20.0%），尚差12个" for a in over.alerts)


@SQLITE_ONLY
def test_project_alert_names_its_code_once(ledger: Session) -> None:
    r = kpi_report(ledger, "wuhan-edz", 2024, as_of=AS_OF, chain_id="nev-icv")
    for a in r.alerts:
        if a.project_code:
            assert a.message_zh.count(a.project_code) == 1 and a.project_code not in a.detail_zh
            assert a.message_zh == f"{a.project_code} {a.detail_zh}"
    assert "services/" not in r.method_zh and ".py" not in r.method_zh and "在谈→签约 60%" in r.method_zh


def test_demo_calendar_moves_the_story_to_today() -> None:
    from chainatlas.services.demo.ledger import DemoCalendar

    moved = DemoCalendar(date(2026, 12, 6))
    assert moved(date(2024, 1, 1)) == date(2026, 1, 1)  # the base year starts this year
    assert moved(date(2024, 10, 31)) == date(2026, 12, 6)  # the story's "today" is today
    # 1 Jun is day 152 of the base span's 304: half of this year's 339 days so far, 169.5 → 170 days after 1 Jan.
    assert moved(date(2024, 6, 1)) == date(2026, 1, 1) + timedelta(days=170) == date(2026, 6, 20)
    assert moved(date(2023, 6, 15)) == date(2025, 6, 15)  # the year before becomes last year
    assert moved(date(2024, 11, 20)) == date(2026, 12, 26)  # a next action 20 days ahead stays 20 days ahead
    same = DemoCalendar(date(2024, 10, 31))
    assert all(same(date.fromordinal(o)) == date.fromordinal(o)
               for o in range(date(2023, 1, 1).toordinal(), date(2025, 1, 1).toordinal()))


@SQLITE_ONLY
def test_demo_ledger_is_alive_today_with_generated_investors(session: Session) -> None:
    import yaml
    from importlib import resources

    from chainatlas.services.demo.ledger import INVESTOR_MARK, load_demo_ledger

    today = date(2026, 12, 6)
    projects = load_demo_ledger(session, "wuhan-edz", today=today)
    real = yaml.safe_load((resources.files("chainatlas") / "data" / "demo" / "companies.yaml").read_text("utf-8"))
    real_names = {c[k] for group in real.values() if isinstance(group, list) for c in group
                  for k in ("name", "short") if isinstance(c, dict) and c.get(k)}
    for p in projects:
        assert p.investor_name.endswith(INVESTOR_MARK) and p.investor_id is None
        assert not any(n in p.investor_name or n in p.summary for n in real_names), p.investor_name
        assert all(d is None or d <= today for d in (p.signed_on, p.started_on, p.producing_on, p.stage_changed_on))
    this, last = kpi_report(session, "wuhan-edz", 2026, as_of=today, chain_id="nev-icv"), kpi_report(session, "wuhan-edz", 2025, chain_id="nev-icv")
    assert last.as_of == date(2025, 12, 31)
    for r in (this, last):
        for measure in ("signed_projects", "signed_investment_yuan", "output_yuan"):
            assert r.row(measure).target, (r.year, measure)  # count, money and output have targets both years
        assert r.row("signed_projects").actual >= 8 and r.row("output_yuan").actual > 0
    assert this.row("signed_projects").target == 15 and this.row("signed_investment_yuan").target == 200 * YI
    assert any(a.kind == "overdue" and a.days and a.days < 60 for a in this.alerts)  # overdue by days, not years
    assert all(p.next_action_on is None or p.next_action_on.year in (2026, 2027) for p in projects)

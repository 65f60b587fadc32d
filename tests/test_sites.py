"""Sites (载体): the ledger import with held rows, matching by hard rules and fit, holding with history, use of space."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chainatlas.domain import sites as dom
from chainatlas.ingest.reader import ReadError
from chainatlas.services import sites
from chainatlas.services.pipeline import projects as pipeline
from chainatlas.store.models import AuditEntry, Enterprise, HeldRow, Placement, Site

pytestmark = pytest.mark.db
TODAY = date(2026, 12, 6)
YI = 100_000_000

LEDGER = """载体台账（2026年12月）
载体编号,载体名称,载体类型,所属园区,面积,用地性质,容积率,出让价格(万元/亩),状态,可供日期,经度,纬度,占用项目,年产值(万元),年税收(万元)
L-01,车城南路地块,工业用地,智能网联和电动汽车产业园,50亩,M1,1.5,28,可供,,114.15,30.48,,,
L-02,通航大道地块,工业用地,军山新城,120,二类工业用地,1.2,26,可供,2027-06-30,114.08,30.42,,,
F-01,车谷标准厂房3号楼,标准厂房,智能网联和电动汽车产业园,"1.2万㎡",,2.0,,已入驻,,114.16,30.49,,36000,1800
F-02,软件园厂房,标准厂房,火星园区,8000,,,,可供,,114.17,30.50,,,
O-01,软件园A座,写字楼,武汉智能汽车软件园,6000平方米,,,,可供,,114.18,30.51,,,
L-03,沌阳地块,工业用地,智能网联和电动汽车产业园,-5,M1,,,可供,,114.15,30.47,,,
"""


def write_gbk(tmp_path: Path, text: str = LEDGER) -> Path:
    path = tmp_path / "载体台账.csv"
    path.write_bytes(text.encode("gbk"))
    return path


def test_gbk_ledger_imports_with_bad_rows_held_and_explained(zone_session: Session, tmp_path: Path) -> None:
    path = write_gbk(tmp_path)
    result = sites.import_sites(zone_session, path, zone_id="武汉经开区", by_user="li", today=TODAY)
    assert (result.inserted, result.updated, result.rows) == (4, 0, 6)
    held = {(p.row, p.column): p for p in result.held}
    # row numbers are the file's (title row 1, header row 2): F-02 is row 6, L-03 row 8
    assert set(held) == {(6, "所属园区"), (8, "面积")}
    assert "火星园区" == held[(6, "所属园区")].value and "智能网联和电动汽车产业园" in held[(6, "所属园区")].action
    assert held[(8, "面积")].file == "载体台账.csv" and "大于 0" in held[(8, "面积")].problem
    kept = zone_session.scalars(select(HeldRow).where(HeldRow.batch_id == result.batch_id)).all()
    assert sorted(h.row_number for h in kept) == [6, 8] and kept[0].values["载体编号"] in ("F-02", "L-03")

    plot = sites.get_site(zone_session, "L-01")
    assert plot.kind == "land" and plot.area_m2 == pytest.approx(50 * dom.M2_PER_MU, abs=0.01)
    assert plot.land_use == "M1" and plot.land_price_yuan_per_mu == 280_000 and plot.park_id == "icv-ev-park"
    assert sites.get_site(zone_session, "L-02").land_use == "M2"  # bare number in a land column: 亩
    assert sites.get_site(zone_session, "L-02").area_m2 == pytest.approx(120 * dom.M2_PER_MU, abs=0.01)
    factory = sites.get_site(zone_session, "F-01")
    assert factory.area_m2 == 12_000 and factory.status == "已入驻" and factory.output_yuan == 36_000 * 10_000
    assert sites.get_site(zone_session, "O-01").area_m2 == 6000

    again = sites.import_sites(zone_session, path, zone_id="wuhan-edz", by_user="li", today=TODAY)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)


def test_ledger_without_an_area_column_is_refused_with_what_to_do(zone_session: Session, tmp_path: Path) -> None:
    path = write_gbk(tmp_path, "载体编号,载体名称,载体类型\nL-9,某地块,工业用地\n")
    with pytest.raises(ReadError, match="面积"):
        sites.import_sites(zone_session, path, zone_id="wuhan-edz", by_user="li", today=TODAY)
    assert zone_session.scalars(select(Site)).all() == []


def add_site(session: Session, code: str, *, kind: str = "land", mu: float | None = None, m2: float | None = None,
             land_use: str = "M1", status: str = "可供", park: str | None = "icv-ev-park",
             available_from: date | None = None, project_id: int | None = None) -> Site:
    area = dom.to_m2(mu, "mu") if mu is not None else float(m2 or 0)
    site = Site(code=code, zone_id="wuhan-edz", park_id=park, kind=kind, name=code, address="", area_m2=area,
                land_use=land_use if kind == "land" else "", status=status, status_since=date(2026, 1, 1),
                available_from=available_from, project_id=project_id, notes="", source="test")
    session.add(site)
    session.flush()
    return site


def land_need(mu: float, node: str = "battery-cells", by: date | None = None) -> dom.Need:
    return sites.need_from_args(need_mu=mu, node_id=node, by_date=by)


def test_an_available_fitting_industrial_plot_comes_first_and_unusable_sites_never_rank(zone_session: Session) -> None:
    s = zone_session
    other = pipeline.create_project(s, zone_id="wuhan-edz", name="别的项目", by_user="li", on=TODAY, land_mu=40)
    add_site(s, "GOOD", mu=55, park="junshan-new-city")
    add_site(s, "SOLD", mu=50, status="已出让")
    add_site(s, "HELD", mu=50, status="洽谈中", project_id=other.id)
    add_site(s, "SMALL", mu=30)
    add_site(s, "COMMERCIAL", mu=50, land_use="B")
    add_site(s, "HUGE", mu=400)
    add_site(s, "LATER", mu=50, available_from=date(2027, 9, 1))
    add_site(s, "OFFICE", kind="office", m2=35_000)
    ranked = sites.match_sites(s, "wuhan-edz", land_need(50), chain_id="nev-icv", today=TODAY)
    assert [m.site.code for m in ranked] == ["GOOD"]
    assert ranked[0].reasons[0].startswith("面积55.0亩")
    # needed by the end of 2027: the plot deliverable in September 2027 now qualifies, ranked below the ready one
    later = sites.match_sites(s, "wuhan-edz", land_need(50, by=date(2027, 12, 31)), chain_id="nev-icv", today=TODAY)
    assert sorted(m.site.code for m in later) == ["GOOD", "LATER"]
    assert next(m for m in later if m.site.code == "LATER").parts["ready"] < next(
        m for m in later if m.site.code == "GOOD").parts["ready"]


def test_park_focus_and_local_chain_firms_lift_a_site(zone_session: Session) -> None:
    s = zone_session
    add_site(s, "ICV", mu=50, park="icv-ev-park")
    add_site(s, "SERVICES", mu=50, park="modern-services-park")
    leader = Enterprise(name="某整车厂", zone_id="wuhan-edz", park_id="icv-ev-park", is_leader=True, source="test")
    s.add(leader)
    s.flush()
    s.add(Placement(enterprise_id=leader.id, chain_id="nev-icv", node_id="passenger-nev", method="manual"))
    s.flush()
    ranked = sites.match_sites(s, "wuhan-edz", land_need(50, node="battery-cells-packs"), chain_id="nev-icv",
                               today=TODAY)
    assert [m.site.code for m in ranked] == ["ICV", "SERVICES"]
    assert ranked[0].parts["focus"] > ranked[1].parts["focus"]
    assert any("链主1家" in r for r in ranked[0].reasons)


def test_a_project_needs_its_land_filled_in_and_holding_a_site_is_recorded(zone_session: Session) -> None:
    s = zone_session
    bare = pipeline.create_project(s, zone_id="wuhan-edz", name="无用地项目", by_user="li", on=TODAY)
    with pytest.raises(sites.MatchError, match="用地需求"):
        sites.need_for_project(s, bare)
    project = pipeline.create_project(s, zone_id="wuhan-edz", name="电芯项目", by_user="li", on=TODAY, land_mu=50,
                                      node_ids=["battery-cells"])
    add_site(s, "P1", mu=52)
    need = sites.need_for_project(s, project)
    assert need.area_mu == pytest.approx(50)
    [match] = sites.match_sites(s, "wuhan-edz", need, chain_id="nev-icv", project_id=project.id, today=TODAY)
    site = sites.hold_site(s, "P1", project.code, by_user="li")
    assert site.status == "洽谈中" and site.project_id == project.id
    assert [(e.from_status, e.to_status, e.project_id, e.by_user) for e in site.events] == [
        ("可供", "洽谈中", project.id, "li")]
    assert s.scalars(select(AuditEntry).where(AuditEntry.action == "site.status")).one().entity_id == "P1"
    # still offered to the project it is held for, marked so; refused to any other project
    [again] = sites.match_sites(s, "wuhan-edz", need, chain_id="nev-icv", project_id=project.id, today=TODAY)
    assert again.reasons[0] == "已为本项目预留"
    rival = pipeline.create_project(s, zone_id="wuhan-edz", name="另一项目", by_user="wang", on=TODAY, land_mu=50)
    with pytest.raises(sites.SiteError, match="请先释放"):
        sites.hold_site(s, "P1", rival.code, by_user="wang")
    assert sites.match_sites(s, "wuhan-edz", need, chain_id="nev-icv", project_id=rival.id, today=TODAY) == []
    sites.release_site(s, "P1", by_user="li")
    assert sites.get_site(s, "P1").status == "可供" and sites.get_site(s, "P1").project_id is None


def test_per_mu_idle_sites_and_the_land_balance_warning(zone_session: Session) -> None:
    s = zone_session
    plot = add_site(s, "USED-LAND", mu=100, status="已出让")
    plot.output_yuan, plot.tax_yuan = 5 * YI, 20_000_000
    building = add_site(s, "USED-FACTORY", kind="factory", m2=20_000, status="已入驻")
    building.plot_ratio, building.output_yuan = 2.0, 3 * YI
    add_site(s, "IDLE", mu=30)  # available since 2026-01-01: 11 months idle on 2026-12-06
    add_site(s, "NEW", mu=20).status_since = date(2026, 10, 1)
    [park] = sites.per_mu_by_park(s, "wuhan-edz")
    # land: 100 亩 + 20000 ㎡ / 2.0 = 10000 ㎡ = 15 亩 → 115 亩; output 8 亿; tax only from the plot
    assert park.land_mu == pytest.approx(115.0)
    assert park.output_per_mu == pytest.approx(8 * YI / 115)
    assert park.tax_per_mu == pytest.approx(20_000_000 / 115) and park.assumed_plot_ratio == 0
    assert [(site.code, months) for site, months in sites.idle_sites(s, "wuhan-edz", 6, today=TODAY)] == [("IDLE", 11)]

    for name, mu in (("甲项目", 40.0), ("乙项目", 30.0)):
        p = pipeline.create_project(s, zone_id="wuhan-edz", name=name, by_user="li", on=date(2026, 3, 1), land_mu=mu)
        for stage in ("接洽", "在谈", "签约"):
            pipeline.change_stage(s, p.code, stage, by_user="li", on=date(2026, 4, 1))
    balance = sites.land_balance(s, "wuhan-edz", 2026)
    assert (balance.need_mu, balance.available_mu) == (pytest.approx(70.0), pytest.approx(50.0))
    assert balance.short_mu == pytest.approx(20.0) and "缺口20.0亩" in balance.warning
